#include <catch2/catch_test_macros.hpp>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "config/config.hpp"
#include "config/schema.hpp"

using namespace sealcast;
using namespace std::chrono_literals;

namespace {

std::string read_sample() {
  std::ifstream in{SEALCAST_SAMPLE_CONFIG, std::ios::binary};
  REQUIRE(in);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A valid value for `key` that differs from its default.
config_value other_value(const key_spec& key, const config_value& current) {
  switch (key.kind) {
    case value_kind::integer: {
      auto n = std::get<std::int64_t>(current);
      return n != key.min ? key.min : key.min + 1;
    }
    case value_kind::boolean:
      return !std::get<bool>(current);
    case value_kind::string: {
      const auto& s = std::get<std::string>(current);
      if (key.listen) return std::string{"127.0.0.2:1234"};
      if (!key.schemes.empty()) return std::string{key.schemes.front()} + "://127.0.0.2:1234";
      for (auto a : key.allowed) {
        if (a != s) return std::string{a};
      }
      return "other-" + std::string{key.name};
    }
    case value_kind::string_list: {
      const auto& v = std::get<std::vector<std::string>>(current);
      if (!key.allowed.empty()) {
        std::vector<std::string> one{std::string{key.allowed.back()}};
        return one != v ? one : std::vector<std::string>{std::string{key.allowed.front()}};
      }
      if (!key.schemes.empty()) return std::vector<std::string>{std::string{key.schemes.front()} + "://127.0.0.2:1234"};
      return std::vector<std::string>{"x"};
    }
  }
  return current;
}

}  // namespace

TEST_CASE("defaults match the configuration table of DESIGN.md", "[config][defaults]") {
  const config c;
  CHECK(c.broker.data_dir == "./data");
  CHECK(c.broker.worker_threads == 0);
  CHECK(c.gateway.listen == "127.0.0.1:7800");
  CHECK(c.gateway.io_threads == 0);
  CHECK(c.gateway.max_frame_bytes == 1048576);
  CHECK(c.gateway.auth_timeout_ms == 5000ms);
  CHECK(c.gateway.idle_timeout == 300s);
  CHECK(c.gateway.max_connections == 100000);
  CHECK(c.gateway.tls_cert.empty());
  CHECK(c.gateway.tls_key.empty());
  CHECK(c.admin.listen == "127.0.0.1:7801");
  CHECK(c.admin.token.empty());
  CHECK(c.admin.tls_cert.empty());
  CHECK(c.admin.tls_key.empty());
  CHECK(c.admin.allowed_hosts.empty());
  CHECK(c.pubsub.max_message_ttl == 3600s);
  CHECK(c.pubsub.max_delivery_attempts == 3);
  CHECK(c.pubsub.retry_interval == 60s);
  CHECK(c.pubsub.cleanup_interval == 300s);
  CHECK(c.pubsub.key_rotation_interval == 86400s);
  CHECK(c.pubsub.rotate_after_messages == 0);
  CHECK(c.pubsub.epoch_grace_ms == 30000ms);
  CHECK(c.pubsub.retain_delivered == 0s);
  CHECK(c.pubsub.max_members == 1000);
  CHECK(c.pubsub.rekey_deadline_ms == 30000ms);
  CHECK(c.encryption.default_algorithm == "aes-256-gcm");
  CHECK(c.encryption.allowed_algorithms ==
        std::vector<std::string>{"aes-256-gcm", "chacha20-poly1305", "xchacha20-poly1305"});
  CHECK(c.storage.sync);
  CHECK(c.storage.write_buffer_mb == 64);
  std::vector<std::string> all_but_delivered;
  for (auto name : event_type_names()) {
    if (name != "message_delivered") all_but_delivered.emplace_back(name);
  }
  CHECK(event_type_names().size() == 15);
  CHECK(c.events.persist == all_but_delivered);
  CHECK(c.events.retention == 604800s);
  CHECK(c.events.max_events == 1000000);
  CHECK(c.limits.slow_consumer_bytes == 8388608);
  CHECK(c.limits.max_inflight == 1000);
  CHECK(c.limits.request_rate == 200);
  CHECK(c.limits.request_burst == 1000);
  CHECK(c.limits.publish_rate == 2000);
  CHECK(c.limits.direct_rate == 100);
  CHECK(c.limits.ack_rate == 5000);
  CHECK(c.limits.connections_per_user == 16);
  CHECK(c.limits.connections_per_address == 2000);
  CHECK(c.limits.groups_per_user == 1000);
  CHECK(c.limits.members_added_per_minute == 60);
  CHECK(c.limits.joins_per_minute == 6);
  CHECK(c.limits.direct_pending_bytes == 64 * 1024 * 1024);
  CHECK(c.limits.send_window_bytes == 2097152);
  CHECK(c.limits.stall_timeout_ms == 30000ms);
  CHECK(c.log.level == "info");
  CHECK(c.log.format == "text");
  CHECK(c.cluster.nats.empty());
  CHECK_FALSE(c.cluster.enabled());
  CHECK(c.cluster.node.empty());
  CHECK(c.cluster.advertise.empty());
  CHECK(c.cluster.partitions == 64);
  CHECK(c.cluster.lease_ms == 10000ms);
  CHECK(c.cluster.lease_margin_ms == 2000ms);
  CHECK(c.cluster.heartbeat_ms == 1000ms);
  CHECK(c.cluster.replicas == 3);
}

TEST_CASE("the built-in defaults pass validation", "[config][defaults]") {
  auto st = validate(config{});
  INFO((st ? std::string{} : st.err().message));
  CHECK(st);
}

TEST_CASE("the schema has 57 unique keys in known sections, each default passing its own check",
          "[config][schema]") {
  CHECK(config_schema().size() == 57);
  std::set<std::string> names;
  const config defaults;
  for (const auto& key : config_schema()) {
    INFO(key.full_name());
    CHECK(is_section(key.section));
    CHECK(names.insert(key.full_name()).second);
    CHECK(find_key(key.section, key.name) == &key);
    CHECK(key.get(defaults).index() == static_cast<std::size_t>(key.kind));
    CHECK(check_value(key, key.get(defaults)).empty());
    CHECK_FALSE(key.doc.empty());
  }
  CHECK(find_key("pubsub", "nope") == nullptr);
}

TEST_CASE("every schema key reads and writes its own member and no other", "[config][schema]") {
  const config defaults;
  for (const auto& key : config_schema()) {
    INFO(key.full_name());
    config c;
    auto v = other_value(key, key.get(c));
    REQUIRE(check_value(key, v).empty());
    key.set(c, v);
    CHECK(key.get(c) == v);
    CHECK(c != defaults);
    for (const auto& other : config_schema()) {
      if (&other != &key) CHECK(other.get(c) == other.get(defaults));
    }
  }
}

TEST_CASE("the sample file parses to the built-in defaults", "[config][sample]") {
  auto loaded = load_config(SEALCAST_SAMPLE_CONFIG);
  INFO((loaded ? std::string{} : loaded.err().message));
  REQUIRE(loaded);
  CHECK(*loaded == config{});
}

TEST_CASE("every schema key appears in the sample file under its section", "[config][sample]") {
  std::istringstream lines{read_sample()};
  std::set<std::string> present;
  std::string section;
  std::string line;
  static const std::regex header{R"(^\[(\w+)\]\s*$)"};
  static const std::regex assignment{R"(^(\w+) = .+$)"};
  std::smatch m;
  while (std::getline(lines, line)) {
    if (std::regex_match(line, m, header)) {
      section = m[1].str();
    } else if (std::regex_match(line, m, assignment)) {
      present.insert(section + "." + m[1].str());
    }
  }
  for (const auto& key : config_schema()) {
    INFO(key.full_name());
    CHECK(present.contains(key.full_name()));
  }
  CHECK(present.size() == config_schema().size());
}

TEST_CASE("the sample file is the one sample_toml() generates from the schema",
          "[config][sample]") {
  auto generated = sample_toml();
  // SEALCAST_REGENERATE_SAMPLE=1 rewrites config/sealcast.toml after a schema change.
  if (const char* regen = std::getenv("SEALCAST_REGENERATE_SAMPLE"); regen && *regen == '1') {
    std::ofstream{SEALCAST_SAMPLE_CONFIG, std::ios::binary} << generated;
  }
  INFO("run config_tests with SEALCAST_REGENERATE_SAMPLE=1 to rewrite config/sealcast.toml");
  CHECK(read_sample() == generated);
}

TEST_CASE("describe summarizes the listeners and never shows the admin token",
          "[config][describe]") {
  config c;
  auto text = describe(c);
  CHECK(text.find("client=ws://127.0.0.1:7800/ws") != std::string::npos);
  CHECK(text.find("admin=http://127.0.0.1:7801") != std::string::npos);
  CHECK(text.find("data_dir=./data") != std::string::npos);
  CHECK(text.find("admin_token=(empty)") != std::string::npos);
  CHECK(text.find('\n') == std::string::npos);

  c.admin.token = "s3cr3t-token";
  c.gateway.tls_cert = "c.pem";
  c.gateway.tls_key = "k.pem";
  text = describe(c);
  CHECK(text.find("s3cr3t") == std::string::npos);
  CHECK(text.find("admin_token=(set)") != std::string::npos);
  CHECK(text.find("client=wss://127.0.0.1:7800/ws") != std::string::npos);
  CHECK(text.find("cluster=off") != std::string::npos);

  c.cluster.nats = {"nats://127.0.0.1:4222"};
  c.cluster.node = "n1";
  text = describe(c);
  CHECK(text.find("cluster=n1 nats=1servers partitions=64 lease=10000ms") != std::string::npos);
}

TEST_CASE("did-you-mean finds near names and stays quiet for far ones", "[config][schema]") {
  constexpr std::array<std::string_view, 3> names = {"max_message_ttl", "retry_interval",
                                                     "max_members"};
  CHECK(closest_match("max_mesage_ttl", names) == "max_message_ttl");
  CHECK(closest_match("rtery_interval", names) == "retry_interval");
  CHECK(closest_match("max_member", names) == "max_members");
  CHECK(closest_match("colour", names).empty());
  CHECK(closest_match("", names).empty());
}
