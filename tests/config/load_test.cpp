#include <catch2/catch_test_macros.hpp>
#include <regex>

#include "config/config.hpp"
#include "tests/config/temp_dir.hpp"

using namespace sealcast;
using namespace std::chrono_literals;

namespace {

// Loads `text` from a fresh file; returns the error message ("" when it loaded).
std::string load_error(std::string_view text, std::string* path_out = nullptr) {
  test::config_dir dir;
  auto path = dir.write("sealcast.toml", text);
  if (path_out != nullptr) *path_out = path;
  auto r = load_config(path);
  return r ? std::string{} : r.err().message;
}

// Expects exactly `expected` after "PATH:" for a file holding `text`.
void expect_error(std::string_view text, const std::string& expected) {
  std::string path;
  auto message = load_error(text, &path);
  CHECK(message == path + ":" + expected);
}

}  // namespace

TEST_CASE("a full file sets every key", "[config][load]") {
  test::config_dir dir;
  auto path = dir.write("full.toml", R"(
[broker]
data_dir = "/var/lib/sealcast"
worker_threads = 8
[gateway]
listen = "0.0.0.0:9000"
io_threads = 4
max_frame_bytes = 65536
auth_timeout_ms = 2500
idle_timeout = 60
max_connections = 5000
tls_cert = "/etc/sealcast/cert.pem"
tls_key = "/etc/sealcast/key.pem"
[admin]
listen = "[::]:9001"
token = "hunter2"
tls_cert = "/etc/sealcast/admin-cert.pem"
tls_key = "/etc/sealcast/admin-key.pem"
allowed_hosts = ["admin.example.com", "10.0.0.5:9001", "[fd00::5]"]
[pubsub]
max_message_ttl = 7200
max_delivery_attempts = 5
retry_interval = 30
cleanup_interval = 120
key_rotation_interval = 3600
rotate_after_messages = 10000
epoch_grace_ms = 1000
retain_delivered = 600
max_members = 50
rekey_deadline_ms = 15000
[encryption]
default_algorithm = "chacha20-poly1305"
allowed_algorithms = ["chacha20-poly1305", "xchacha20-poly1305"]
[storage]
sync = false
write_buffer_mb = 16
[events]
persist = ["group_created", "message_delivered"]
retention = 86400
max_events = 500
[limits]
slow_consumer_bytes = 1048576
max_inflight = 64
publish_rate = 100
request_rate = 50
request_burst = 75
direct_rate = 5
ack_rate = 0
connections_per_user = 4
connections_per_address = 0
groups_per_user = 10
members_added_per_minute = 30
joins_per_minute = 2
direct_pending_bytes = 1048576
[log]
level = "debug"
format = "json"
)");
  auto r = load_config(path);
  INFO((r ? std::string{} : r.err().message));
  REQUIRE(r);
  const config& c = *r;
  CHECK(c.broker.data_dir == "/var/lib/sealcast");
  CHECK(c.broker.worker_threads == 8);
  CHECK(c.gateway.listen == "0.0.0.0:9000");
  CHECK(c.gateway.io_threads == 4);
  CHECK(c.gateway.max_frame_bytes == 65536);
  CHECK(c.gateway.auth_timeout_ms == 2500ms);
  CHECK(c.gateway.idle_timeout == 60s);
  CHECK(c.gateway.max_connections == 5000);
  CHECK(c.gateway.tls_cert == "/etc/sealcast/cert.pem");
  CHECK(c.gateway.tls_key == "/etc/sealcast/key.pem");
  CHECK(c.admin.listen == "[::]:9001");
  CHECK(c.admin.token == "hunter2");
  CHECK(c.admin.tls_cert == "/etc/sealcast/admin-cert.pem");
  CHECK(c.admin.tls_key == "/etc/sealcast/admin-key.pem");
  CHECK(c.admin.allowed_hosts ==
        std::vector<std::string>{"admin.example.com", "10.0.0.5:9001", "[fd00::5]"});
  CHECK(c.pubsub.max_message_ttl == 7200s);
  CHECK(c.pubsub.max_delivery_attempts == 5);
  CHECK(c.pubsub.retry_interval == 30s);
  CHECK(c.pubsub.cleanup_interval == 120s);
  CHECK(c.pubsub.key_rotation_interval == 3600s);
  CHECK(c.pubsub.rotate_after_messages == 10000);
  CHECK(c.pubsub.epoch_grace_ms == 1000ms);
  CHECK(c.pubsub.retain_delivered == 600s);
  CHECK(c.pubsub.max_members == 50);
  CHECK(c.pubsub.rekey_deadline_ms == 15000ms);
  CHECK(c.encryption.default_algorithm == "chacha20-poly1305");
  CHECK(c.encryption.allowed_algorithms ==
        std::vector<std::string>{"chacha20-poly1305", "xchacha20-poly1305"});
  CHECK_FALSE(c.storage.sync);
  CHECK(c.storage.write_buffer_mb == 16);
  CHECK(c.events.persist == std::vector<std::string>{"group_created", "message_delivered"});
  CHECK(c.events.retention == 86400s);
  CHECK(c.events.max_events == 500);
  CHECK(c.limits.slow_consumer_bytes == 1048576);
  CHECK(c.limits.max_inflight == 64);
  CHECK(c.limits.publish_rate == 100);
  CHECK(c.limits.request_rate == 50);
  CHECK(c.limits.request_burst == 75);
  CHECK(c.limits.direct_rate == 5);
  CHECK(c.limits.ack_rate == 0);
  CHECK(c.limits.connections_per_user == 4);
  CHECK(c.limits.connections_per_address == 0);
  CHECK(c.limits.groups_per_user == 10);
  CHECK(c.limits.members_added_per_minute == 30);
  CHECK(c.limits.joins_per_minute == 2);
  CHECK(c.limits.direct_pending_bytes == 1048576);
  CHECK(c.log.level == "debug");
  CHECK(c.log.format == "json");
}

TEST_CASE("keys a file does not mention keep their defaults", "[config][load]") {
  test::config_dir dir;
  auto r = load_config(dir.write("partial.toml", "[pubsub]\nretry_interval = 5\n"));
  REQUIRE(r);
  config expected;
  expected.pubsub.retry_interval = 5s;
  CHECK(*r == expected);
  auto empty = load_config(dir.write("empty.toml", "# nothing\n"));
  REQUIRE(empty);
  CHECK(*empty == config{});
}

TEST_CASE("an unknown key names file, line, key and the nearest key", "[config][load][errors]") {
  expect_error("[pubsub]\nmax_message_ttl = 10\nmax_mesage_ttl = 20\n",
               "3: unknown key 'pubsub.max_mesage_ttl' (did you mean 'max_message_ttl'?)");
  expect_error("[pubsub]\ncolour = 1\n", "2: unknown key 'pubsub.colour'");
}

TEST_CASE("a key in the wrong section suggests the section it belongs to",
          "[config][load][errors]") {
  expect_error("[gateway]\nretry_interval = 5\n",
               "2: unknown key 'gateway.retry_interval' (did you mean 'pubsub.retry_interval'?)");
}

TEST_CASE("an unknown section suggests the nearest section", "[config][load][errors]") {
  expect_error("\n[pubsb]\nretry_interval = 5\n",
               "2: unknown section 'pubsb' (did you mean 'pubsub'?)");
  expect_error("top = 1\n", "1: unknown section 'top'");
  expect_error("pubsub = 1\n", "1: section 'pubsub' must be a table, got integer");
}

TEST_CASE("a value of the wrong type names the expected and actual types",
          "[config][load][errors]") {
  expect_error("[pubsub]\nmax_message_ttl = \"3600\"\n",
               "2: key 'pubsub.max_message_ttl' must be an integer, got string");
  expect_error("[pubsub]\nmax_message_ttl = 1.5\n",
               "2: key 'pubsub.max_message_ttl' must be an integer, got float");
  expect_error("[storage]\nsync = 1\n", "2: key 'storage.sync' must be a boolean, got integer");
  expect_error("[admin]\ntoken = 42\n", "2: key 'admin.token' must be a string, got integer");
  expect_error("[events]\npersist = \"group_created\"\n",
               "2: key 'events.persist' must be an array of strings, got string");
  expect_error(
      "[events]\npersist = [\"group_created\", 3]\n",
      "2: key 'events.persist' must be an array of strings, got an array containing integer");
  expect_error("[gateway]\nlisten = { host = \"a\" }\n",
               "2: key 'gateway.listen' must be a string, got table");
}

TEST_CASE("an out-of-range value names the range and the value", "[config][load][errors]") {
  expect_error("[gateway]\nio_threads = 65\n",
               "2: key 'gateway.io_threads' must be between 0 and 64, got 65");
  expect_error("[broker]\nworker_threads = 1025\n",
               "2: key 'broker.worker_threads' must be between 0 and 1024, got 1025");
  expect_error("[pubsub]\nmax_delivery_attempts = -1\n",
               "2: key 'pubsub.max_delivery_attempts' must be between 1 and 1000, got -1");
  expect_error("[events]\nmax_events = 0\n",
               "2: key 'events.max_events' must be at least 1, got 0");
  expect_error("[broker]\ndata_dir = \"\"\n", "2: key 'broker.data_dir' must not be empty");
}

TEST_CASE("names outside their lists are refused with a suggestion", "[config][load][errors]") {
  expect_error("[log]\nlevel = \"warning\"\n",
               "2: key 'log.level' must be one of trace, debug, info, warn, error, got 'warning' "
               "(did you mean 'warn'?)");
  expect_error(
      "[encryption]\ndefault_algorithm = \"aes-128-gcm\"\n",
      "2: key 'encryption.default_algorithm' must be one of aes-256-gcm, "
      "chacha20-poly1305, xchacha20-poly1305, got 'aes-128-gcm' (did you mean 'aes-256-gcm'?)");
  std::string path;
  auto message = load_error("[events]\npersist = [\"group_creatd\"]\n", &path);
  CHECK(message.starts_with(
      path +
      ":2: key 'events.persist' contains 'group_creatd', which is not one of group_created, "));
  CHECK(message.ends_with(" (did you mean 'group_created'?)"));
  expect_error("[encryption]\nallowed_algorithms = []\n",
               "2: key 'encryption.allowed_algorithms' must not be empty");
  expect_error("[events]\npersist = [\"key_rotated\", \"key_rotated\"]\n",
               "2: key 'events.persist' lists 'key_rotated' twice");
  CHECK(load_error("[events]\npersist = []\n").empty());
}

TEST_CASE("a listen value must be HOST:PORT", "[config][load][errors]") {
  expect_error("[gateway]\nlisten = \"localhost\"\n",
               "2: key 'gateway.listen' must be HOST:PORT (missing ':PORT'), got 'localhost'");
  expect_error("[admin]\nlisten = \"127.0.0.1:99999\"\n",
               "2: key 'admin.listen' must be HOST:PORT (port 99999 is above 65535), got "
               "'127.0.0.1:99999'");
  CHECK(load_error("[gateway]\nlisten = \"localhost:0\"\n[admin]\nlisten = \"[::1]:0\"\n").empty());
}

TEST_CASE("malformed TOML gives file, line, column and the parser's description",
          "[config][load][errors]") {
  std::string path;
  auto message = load_error("[pubsub]\nretry_interval = = 5\n", &path);
  INFO(message);
  CHECK(message.starts_with(path + ":2:"));
  CHECK(std::regex_match(message.substr(path.size()), std::regex{R"(:2:\d+: \S.*)"}));
  message = load_error("[pubsub]\nretry_interval = 1\nretry_interval = 2\n", &path);
  CHECK(message.starts_with(path + ":3:"));
}

TEST_CASE("a missing file is named with the reason", "[config][load][errors]") {
  test::config_dir dir;
  auto path = (dir.path() / "absent.toml").string();
  auto r = load_config(path);
  REQUIRE_FALSE(r);
  CHECK(r.err().code == errc::config_error);
  CHECK(r.err().message == path + ": cannot open: No such file or directory");
}

TEST_CASE("several errors are all reported, in file order", "[config][load][errors]") {
  std::string path;
  auto message = load_error(
      "[pubsub]\nretry_interval = \"x\"\n[gateway]\nio_threads = 65\n"
      "[admin]\nlistne = \"a\"\n",
      &path);
  CHECK(message == path + ":2: key 'pubsub.retry_interval' must be an integer, got string\n" +
                       path + ":4: key 'gateway.io_threads' must be between 0 and 64, got 65\n" +
                       path + ":6: unknown key 'admin.listne' (did you mean 'listen'?)");
}

TEST_CASE("tls_cert and tls_key must be set together", "[config][load][rules]") {
  expect_error("[gateway]\ntls_cert = \"cert.pem\"\n",
               "2: key 'gateway.tls_cert' is set but 'gateway.tls_key' is empty: set both for "
               "TLS, or neither");
  expect_error("[admin]\n\ntls_key = \"key.pem\"\n",
               "3: key 'admin.tls_key' is set but 'admin.tls_cert' is empty: set both for TLS, "
               "or neither");
  CHECK(load_error("[gateway]\ntls_cert = \"c.pem\"\ntls_key = \"k.pem\"\n").empty());
}

TEST_CASE("admin.token is required when admin.listen is not loopback", "[config][load][rules]") {
  expect_error("[admin]\nlisten = \"0.0.0.0:7801\"\n",
               "2: key 'admin.token' must be set when admin.listen ('0.0.0.0:7801') is not a "
               "loopback address");
  expect_error("[admin]\nlisten = \"[::]:7801\"\ntoken = \"\"\n",
               "3: key 'admin.token' must be set when admin.listen ('[::]:7801') is not a "
               "loopback address");
  CHECK(load_error("[admin]\nlisten = \"0.0.0.0:7801\"\ntoken = \"t\"\n").empty());
  for (auto loopback : {"127.0.0.1:0", "127.8.9.10:7801", "[::1]:7801", "localhost:7801"}) {
    INFO(loopback);
    CHECK(load_error("[admin]\nlisten = \"" + std::string{loopback} + "\"\n").empty());
  }
}

TEST_CASE("default_algorithm must be one of allowed_algorithms", "[config][load][rules]") {
  expect_error("[encryption]\nallowed_algorithms = [\"chacha20-poly1305\"]\n",
               "2: key 'encryption.allowed_algorithms' must include "
               "encryption.default_algorithm 'aes-256-gcm'");
  expect_error(
      "[encryption]\nallowed_algorithms = [\"chacha20-poly1305\"]\n"
      "default_algorithm = \"xchacha20-poly1305\"\n",
      "3: key 'encryption.default_algorithm' must be one of "
      "encryption.allowed_algorithms, got 'xchacha20-poly1305'");
}

TEST_CASE("parse_config reads text with a named source", "[config][load]") {
  auto r = parse_config("[log]\nlevel = \"trace\"\n", "inline");
  REQUIRE(r);
  CHECK(r->log.level == "trace");
  auto bad = parse_config("[log]\nlevel = 1\n", "inline");
  REQUIRE_FALSE(bad);
  CHECK(bad.err().message == "inline:2: key 'log.level' must be a string, got integer");
}

TEST_CASE("validate checks a config built in code", "[config][rules]") {
  config c;
  c.gateway.io_threads = 65;
  auto st = validate(c);
  REQUIRE_FALSE(st);
  CHECK(st.err().message == "key 'gateway.io_threads' must be between 0 and 64, got 65");
  c = config{};
  c.admin.listen = "10.0.0.1:7801";
  st = validate(c);
  REQUIRE_FALSE(st);
  CHECK(st.err().message ==
        "key 'admin.token' must be set when admin.listen ('10.0.0.1:7801') is not a loopback "
        "address");
}

TEST_CASE("admin.allowed_hosts entries are host or host:port", "[config][load]") {
  CHECK(load_error("[admin]\nallowed_hosts = []\n").empty());
  CHECK(load_error("[admin]\nallowed_hosts = [\"a.example\", \"b.example:8443\", \"[::1]\", \"[::1]:1\"]\n")
            .empty());
  expect_error("[admin]\nallowed_hosts = [\"https://a.example\"]\n",
               "2: key 'admin.allowed_hosts' contains 'https://a.example', which is not HOST or HOST:PORT "
               "(port '//a.example' is not a number 0..65535)");
  expect_error("[admin]\nallowed_hosts = [\"a.example/admin\"]\n",
               "2: key 'admin.allowed_hosts' contains 'a.example/admin', which is not HOST or HOST:PORT "
               "('a.example/admin' is not a valid host name)");
  expect_error("[admin]\nallowed_hosts = [\"::1\"]\n",
               "2: key 'admin.allowed_hosts' contains '::1', which is not HOST or HOST:PORT "
               "(an IPv6 address needs brackets, as in [::1]:7800)");
  expect_error("[admin]\nallowed_hosts = [\"a.example:0\"]\n",
               "2: key 'admin.allowed_hosts' contains 'a.example:0', whose port is 0");
  expect_error("[admin]\nallowed_hosts = [\"\"]\n", "2: key 'admin.allowed_hosts' contains an empty entry");
  expect_error("[admin]\nallowed_hosts = \"a.example\"\n",
               "2: key 'admin.allowed_hosts' must be an array of strings, got string");
}
