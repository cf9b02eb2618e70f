// [cluster]: absent means the single-node broker; present, it must name NATS servers and this
// node, and its lease timings must leave room to renew.
#include <catch2/catch_test_macros.hpp>

#include "config/config.hpp"

using namespace sealcast;
using namespace std::chrono_literals;

namespace {

// The error message for `text` parsed as "c.toml" ("" when it parsed).
std::string parse_error(std::string_view text) {
  auto r = parse_config(text, "c.toml");
  return r ? std::string{} : r.err().message;
}

constexpr std::string_view minimal = "[cluster]\nnats = [\"nats://127.0.0.1:4222\"]\nnode = \"n1\"\n";

}  // namespace

TEST_CASE("without [cluster] the broker is a single node", "[config][cluster]") {
  auto c = parse_config("[log]\nlevel = \"info\"\n", "c.toml");
  REQUIRE(c);
  CHECK_FALSE(c->cluster.enabled());
  auto empty = parse_config("[cluster]\nnats = []\n", "c.toml");
  REQUIRE(empty);
  CHECK_FALSE(empty->cluster.enabled());
}

TEST_CASE("a [cluster] section sets every cluster key", "[config][cluster]") {
  auto c = parse_config(
      "[cluster]\n"
      "nats = [\"nats://10.0.0.1:4222\", \"tls://nats.example:4223\"]\n"
      "node = \"node-a_1\"\n"
      "advertise = \"wss://chat.example:443/ws\"\n"
      "partitions = 128\n"
      "lease_ms = 2000\n"
      "lease_margin_ms = 500\n"
      "heartbeat_ms = 250\n"
      "replicas = 1\n",
      "c.toml");
  INFO((c ? std::string{} : c.err().message));
  REQUIRE(c);
  CHECK(c->cluster.enabled());
  CHECK(c->cluster.nats == std::vector<std::string>{"nats://10.0.0.1:4222", "tls://nats.example:4223"});
  CHECK(c->cluster.node == "node-a_1");
  CHECK(c->cluster.advertise == "wss://chat.example:443/ws");
  CHECK(c->cluster.partitions == 128);
  CHECK(c->cluster.lease_ms == 2000ms);
  CHECK(c->cluster.lease_margin_ms == 500ms);
  CHECK(c->cluster.heartbeat_ms == 250ms);
  CHECK(c->cluster.replicas == 1);
  CHECK(parse_error(minimal).empty());
}

TEST_CASE("cluster URLs must be nats:// or tls:// for NATS and ws:// or wss:// to advertise", "[config][cluster]") {
  CHECK(parse_error("[cluster]\nnats = [\"127.0.0.1:4222\"]\nnode = \"n1\"\n") ==
        "c.toml:2: key 'cluster.nats' contains an entry that must be nats://HOST:PORT or tls://HOST:PORT, got "
        "'127.0.0.1:4222'");
  CHECK(parse_error("[cluster]\nnats = [\"nats://127.0.0.1\"]\nnode = \"n1\"\n") ==
        "c.toml:2: key 'cluster.nats' contains an entry that must be nats://HOST:PORT (missing ':PORT'), got "
        "'nats://127.0.0.1'");
  CHECK(parse_error("[cluster]\nnats = [\"nats://a:1\", \"nats://a:1\"]\nnode = \"n1\"\n") ==
        "c.toml:2: key 'cluster.nats' lists 'nats://a:1' twice");
  CHECK(parse_error(std::string{minimal} + "advertise = \"http://127.0.0.1:7400\"\n") ==
        "c.toml:4: key 'cluster.advertise' must be ws://HOST:PORT or wss://HOST:PORT, got 'http://127.0.0.1:7400'");
  CHECK(parse_error(std::string{minimal} + "advertise = \"ws://127.0.0.1:0\"\n") ==
        "c.toml:4: key 'cluster.advertise' must name a port other than 0, got 'ws://127.0.0.1:0'");
  CHECK(parse_error(std::string{minimal} + "advertise = \"ws://127.0.0.1:7400\"\n").empty());
}

TEST_CASE("a node name is letters, digits, - and _", "[config][cluster]") {
  CHECK(parse_error("[cluster]\nnats = [\"nats://a:1\"]\nnode = \"n 1\"\n") ==
        "c.toml:3: key 'cluster.node' may hold letters, digits, '-' and '_' only, got 'n 1'");
  CHECK(parse_error("[cluster]\nnats = [\"nats://a:1\"]\nnode = \"a.b\"\n") ==
        "c.toml:3: key 'cluster.node' may hold letters, digits, '-' and '_' only, got 'a.b'");
  CHECK(parse_error("[cluster]\nnats = [\"nats://a:1\"]\nnode = \"" + std::string(65, 'x') + "\"\n") ==
        "c.toml:3: key 'cluster.node' must be at most 64 characters, got 65");
}

TEST_CASE("[cluster] needs nats and node together", "[config][cluster][rules]") {
  CHECK(parse_error("[cluster]\nnode = \"n1\"\n") ==
        "c.toml:2: key 'cluster.nats' must list at least one NATS server URL when other [cluster] keys are set "
        "(an empty cluster.nats means a single node)");
  CHECK(parse_error("[cluster]\nnats = [\"nats://a:1\"]\n") ==
        "c.toml:2: key 'cluster.node' must be set when cluster.nats is: every node needs a unique name");
}

TEST_CASE("cluster lease timings and sizes are checked", "[config][cluster][rules]") {
  const std::string base{minimal};
  CHECK(parse_error(base + "lease_ms = 100\n") ==
        "c.toml:4: key 'cluster.lease_ms' must be between 500 and 3600000, got 100");
  CHECK(parse_error(base + "lease_ms = 2000\nlease_margin_ms = 1500\n") ==
        "c.toml:5: key 'cluster.lease_margin_ms' must be at most half of cluster.lease_ms (2000), got 1500");
  CHECK(parse_error(base + "lease_ms = 2000\nlease_margin_ms = 500\nheartbeat_ms = 500\n") ==
        "c.toml:6: key 'cluster.heartbeat_ms' must be at most a quarter of cluster.lease_ms - cluster.lease_margin_ms "
        "(375) so that a lease is renewed several times before its deadline, got 500");
  CHECK(parse_error(base + "partitions = 0\n") ==
        "c.toml:4: key 'cluster.partitions' must be between 1 and 4096, got 0");
  CHECK(parse_error(base + "replicas = 7\n") == "c.toml:4: key 'cluster.replicas' must be between 1 and 5, got 7");
  CHECK(parse_error(base + "lease_ms = 2000\nlease_margin_ms = 500\nheartbeat_ms = 250\n").empty());
}

TEST_CASE("cluster keys can be given with --set", "[config][cluster][override]") {
  config c;
  REQUIRE(apply_override(c, "cluster.nats=nats://127.0.0.1:4222,nats://127.0.0.1:4223"));
  REQUIRE(apply_override(c, "cluster.node=n2"));
  REQUIRE(apply_override(c, "cluster.heartbeat_ms=250"));
  CHECK(c.cluster.nats.size() == 2);
  CHECK(validate(c));
  auto bad = apply_override(c, "cluster.node=a/b");
  REQUIRE_FALSE(bad);
  CHECK(bad.err().message == "--set cluster.node: may hold letters, digits, '-' and '_' only, got 'a/b'");
}
