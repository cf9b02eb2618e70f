#include <catch2/catch_test_macros.hpp>

#include "config/config.hpp"

using namespace sealcast;
using namespace std::chrono_literals;

namespace {

std::string override_error(std::string_view assignment) {
  config c;
  auto st = apply_override(c, assignment);
  return st ? std::string{} : st.err().message;
}

}  // namespace

TEST_CASE("override values are read per the key's type", "[config][override]") {
  config c;
  REQUIRE(apply_override(c, "pubsub.retry_interval=5"));
  CHECK(c.pubsub.retry_interval == 5s);
  REQUIRE(apply_override(c, "gateway.auth_timeout_ms= 250 "));
  CHECK(c.gateway.auth_timeout_ms == 250ms);
  REQUIRE(apply_override(c, "storage.sync=false"));
  CHECK_FALSE(c.storage.sync);
  REQUIRE(apply_override(c, "broker.data_dir=/tmp/some dir"));
  CHECK(c.broker.data_dir == "/tmp/some dir");
  REQUIRE(apply_override(c, "admin.token=\"a\\tb\""));
  CHECK(c.admin.token == "a\tb");
  REQUIRE(apply_override(c, "admin.token=with=equals"));
  CHECK(c.admin.token == "with=equals");
  REQUIRE(apply_override(c, "pubsub.rotate_after_messages=9223372036854775807"));
  CHECK(c.pubsub.rotate_after_messages == 9223372036854775807ULL);
}

TEST_CASE("override string lists are comma-separated or a TOML array", "[config][override]") {
  config c;
  REQUIRE(apply_override(c, "events.persist=group_created, member_left"));
  CHECK(c.events.persist == std::vector<std::string>{"group_created", "member_left"});
  REQUIRE(
      apply_override(c, "encryption.allowed_algorithms=[\"aes-256-gcm\", \"chacha20-poly1305\"]"));
  CHECK(c.encryption.allowed_algorithms ==
        std::vector<std::string>{"aes-256-gcm", "chacha20-poly1305"});
  REQUIRE(apply_override(c, "events.persist="));
  CHECK(c.events.persist.empty());
  REQUIRE(apply_override(c, "admin.allowed_hosts=admin.example.com, 10.0.0.5:7801"));
  CHECK(c.admin.allowed_hosts == std::vector<std::string>{"admin.example.com", "10.0.0.5:7801"});
}

TEST_CASE("override errors name --set and the key", "[config][override][errors]") {
  CHECK(override_error("pubsub.retry_interval=abc") ==
        "--set pubsub.retry_interval: must be an integer, got 'abc'");
  CHECK(override_error("pubsub.retry_interval=1.5") ==
        "--set pubsub.retry_interval: must be an integer, got '1.5'");
  CHECK(override_error("gateway.io_threads=65") ==
        "--set gateway.io_threads: must be between 0 and 64, got 65");
  CHECK(override_error("storage.sync=yes") ==
        "--set storage.sync: must be true or false, got 'yes'");
  CHECK(override_error("pubsub.max_mesage_ttl=1") ==
        "--set pubsub.max_mesage_ttl: unknown key (did you mean 'max_message_ttl'?)");
  CHECK(override_error("pubsb.retry_interval=1") ==
        "--set pubsb.retry_interval: unknown section 'pubsb' (did you mean 'pubsub'?)");
  CHECK(override_error("pubsub.retry_interval") ==
        "--set pubsub.retry_interval: expected section.key=value");
  CHECK(override_error("retry_interval=1") == "--set retry_interval=1: expected section.key=value");
  CHECK(override_error("log.level=loud") ==
        "--set log.level: must be one of trace, debug, info, warn, error, got 'loud'");
  CHECK(override_error("events.persist=group_created,,member_left") ==
        "--set events.persist: must be a comma-separated list without empty items, got "
        "'group_created,,member_left'");
  CHECK(override_error("events.persist=[1]") ==
        "--set events.persist: must be an array of strings, got '[1]'");
  CHECK(override_error("gateway.listen=7800") ==
        "--set gateway.listen: must be HOST:PORT (missing ':PORT'), got '7800'");
  CHECK(override_error("pubsub.retry_interval=99999999999999999999") ==
        "--set pubsub.retry_interval: must be an integer of at most 64 bits, got "
        "'99999999999999999999'");
}

TEST_CASE("override values must be valid UTF-8, as in a file", "[config][override][errors]") {
  // Found by fuzz/fuzz_config: a verbatim string took any bytes, so the configuration held a
  // value no configuration file can (to_toml wrote it back as TOML that does not parse).
  for (const char* bad : {"admin.token=ts.persis\xea", "broker.data_dir=/data/\xff", "admin.token=\xc0\xaf",
                          "admin.token=\xed\xa0\x80", "admin.token=\xf4\x90\x80\x80", "admin.token=\xe2\x82",
                          "events.persist=group_created,\xe9", "pubsub.retry_interval=1\x80"}) {
    INFO(bad);
    const std::string key = std::string(bad).substr(0, std::string(bad).find('='));
    CHECK(override_error(bad) == "--set " + key + ": must be valid UTF-8, as in a configuration file");
  }
  config c;
  REQUIRE(apply_override(c, "admin.token=caf\xc3\xa9-\xe2\x82\xac-\xf0\x9f\x98\x80-\xef\xbf\xbf"));
  CHECK(c.admin.token == "caf\xc3\xa9-\xe2\x82\xac-\xf0\x9f\x98\x80-\xef\xbf\xbf");
  auto back = parse_config("[admin]\ntoken = \"" + c.admin.token + "\"\n", "t.toml");
  REQUIRE(back);
  CHECK(back->admin.token == c.admin.token);
}

TEST_CASE("a failed --set leaves the config unchanged", "[config][override]") {
  config c;
  CHECK_FALSE(apply_override(c, "gateway.io_threads=65"));
  CHECK(c == config{});
}

TEST_CASE("apply_override leaves rules that span keys to validate", "[config][override][rules]") {
  config c;
  REQUIRE(apply_override(c, "gateway.tls_cert=c.pem"));
  auto st = validate(c);
  REQUIRE_FALSE(st);
  CHECK(
      st.err().message ==
      "key 'gateway.tls_cert' is set but 'gateway.tls_key' is empty: set both for TLS, or neither");
  REQUIRE(apply_override(c, "gateway.tls_key=k.pem"));
  CHECK(validate(c));
}

TEST_CASE("the quota keys turn off with 0, except request_burst", "[config][override][limits]") {
  config c;
  for (const char* key : {"request_rate", "publish_rate", "direct_rate", "ack_rate", "connections_per_user",
                          "connections_per_address", "groups_per_user", "members_added_per_minute",
                          "joins_per_minute"}) {
    INFO(key);
    CHECK(apply_override(c, std::string("limits.") + key + "=0"));
  }
  CHECK(c.limits.request_rate == 0);
  CHECK(c.limits.connections_per_address == 0);
  CHECK(override_error("limits.request_burst=0") ==
        "--set limits.request_burst: must be between 1 and 1000000, got 0");
  CHECK(apply_override(c, "limits.direct_pending_bytes=0"));  // 0 = off
  CHECK(override_error("limits.send_window_bytes=10") ==
        "--set limits.send_window_bytes: must be at least 1024, got 10");
  REQUIRE(apply_override(c, "limits.direct_pending_bytes=1048576"));
  CHECK(c.limits.direct_pending_bytes == 1048576);
}
