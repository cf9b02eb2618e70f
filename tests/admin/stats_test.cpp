// /admin/stats and /metrics against real traffic: the counts are what the test did.

#include <catch2/catch_test_macros.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "tests/admin/admin_fixtures.hpp"

using namespace sealcast;
using namespace sealcast::test;
using namespace std::chrono_literals;

namespace {

/// Two users, one group, three messages acknowledged and one direct.
struct traffic {
  broker_fixture f;
  std::unique_ptr<test_client> a = online(f.port(), "a");
  std::unique_ptr<test_client> b = online(f.port(), "b");
  id16 g;

  traffic() {
    g = make_group(*a, {b.get()});
    for (int i = 0; i < 3; ++i) REQUIRE(a->publish(g, "m" + std::to_string(i)).is_ok());
    auto got = messages(*b, g, 3);
    REQUIRE(b->ack(g, got.back().seq));
    REQUIRE(a->send_direct(b->user_id(), "hi").is_ok());
  }
};

}  // namespace

TEST_CASE("stats count what the clients did", "[admin][stats]") {
  traffic t;
  json::object s;
  // Deliveries are counted when the ack is processed, after the test's last reply.
  const bool settled = eventually([&] {
    s = admin_ok(t.f, "/admin/stats");
    return stat(s, "pubsub", "messages_delivered") == 3;
  });
  INFO(json::serialize(s));
  CHECK(settled);
  CHECK(stat(s, "pubsub", "messages_published") == 3);
  CHECK(stat(s, "pubsub", "groups_created") == 1);
  CHECK(stat(s, "pubsub", "users_subscribed") == 2);
  CHECK(stat(s, "pubsub", "keys_rotated") == 1);
  CHECK(stat(s, "pubsub", "directs_sent") == 1);
  CHECK(stat(s, "pubsub", "messages_failed") == 0);
  CHECK(stat(s, "encryption", "keys_generated") == 1);
  CHECK(stat(s, "encryption", "keys_distributed") == 2);
  CHECK(stat(s, "encryption", "key_rotations") == 0);
  CHECK(stat(s, "encryption", "rekeys_requested") == 0);
  CHECK(stat(s, "connections", "current") == 2);
  CHECK(stat(s, "connections", "total") == 2);
  CHECK(stat(s, "storage", "bytes_on_disk") > 0);
  // Three group messages, all acknowledged: deleted once the cursors are flushed.
  CHECK(eventually([&] { return stat(admin_ok(t.f, "/admin/stats"), "storage", "pending_messages") == 0; }));
  CHECK(eventually([&] { return stat(admin_ok(t.f, "/admin/stats"), "pubsub", "messages_cleaned") == 3; }));
  CHECK(num(s.at("uptime_s")) >= 0);
  const auto& lat = s.at("latency_ms").as_object();
  for (const char* k : {"p50", "p90", "p99", "max"}) {
    INFO(k);
    REQUIRE(lat.at(k).is_number());
    CHECK(lat.at(k).to_number<double>() > 0.0);
  }
  CHECK(lat.at("p50").to_number<double>() <= lat.at("max").to_number<double>());

  t.b->disconnect();
  CHECK(eventually([&] { return stat(admin_ok(t.f, "/admin/stats"), "connections", "current") == 1; }));
}

TEST_CASE("/metrics is Prometheus text that promtool accepts, with the stats' values", "[admin][metrics]") {
  traffic t;
  REQUIRE(eventually([&] { return stat(admin_ok(t.f, "/admin/stats"), "pubsub", "messages_delivered") == 3; }));
  auto r = http_get("127.0.0.1", t.f.broker->admin_port(), "/metrics");
  REQUIRE(r.status == 200);
  CHECK(r.header("Content-Type").starts_with("text/plain; version=0.0.4"));
  const auto& body = r.body;
  CHECK(body.find("# TYPE sealcast_messages_published_total counter\n") != std::string::npos);
  CHECK(body.find("\nsealcast_messages_published_total 3\n") != std::string::npos);
  CHECK(body.find("\nsealcast_groups_created_total 1\n") != std::string::npos);
  CHECK(body.find("\nsealcast_open_connections 2\n") != std::string::npos);
  CHECK(body.find("# TYPE sealcast_publish_to_deliver_seconds histogram\n") != std::string::npos);
  CHECK(body.find("sealcast_publish_to_deliver_seconds_bucket{le=\"+Inf\"} ") != std::string::npos);
  CHECK(body.find("\nsealcast_publish_to_deliver_seconds_count ") != std::string::npos);
  CHECK(body.find("sealcast_events_total{type=\"message_published\"} 3\n") != std::string::npos);
  // Every sample line's metric has HELP and TYPE.
  std::size_t helps = 0, types = 0;
  for (std::size_t p = 0; (p = body.find("# HELP ", p)) != std::string::npos; ++p) ++helps;
  for (std::size_t p = 0; (p = body.find("# TYPE ", p)) != std::string::npos; ++p) ++types;
  CHECK(helps == types);
  CHECK(helps >= 20);

  const std::filesystem::path promtool = "/usr/bin/promtool";
  if (!std::filesystem::exists(promtool)) SKIP("promtool is not installed: the exposition format is not validated");
  const auto file = t.f.dir.path() / "metrics.txt";
  std::ofstream(file) << body;
  auto check = run_program("/bin/sh", {"-c", promtool.string() + " check metrics < '" + file.string() + "'"});
  INFO("promtool: " << check.out << check.err);
  CHECK(check.exit_code == 0);
}

TEST_CASE("pending_messages is exact, also for a backlog left by a restart", "[admin][stats]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  const auto g = make_group(*a, {b.get()});
  b->disconnect();
  for (int i = 0; i < 4; ++i) REQUIRE(a->publish(g, "backlog " + std::to_string(i)).is_ok());
  CHECK(eventually([&] { return stat(admin_ok(f, "/admin/stats"), "storage", "pending_messages") == 4; }));
  a->disconnect();
  f.restart();

  // Before any client connects (the group's actor is not loaded yet) the backlog is counted.
  auto s = admin_ok(f, "/admin/stats");
  CHECK(stat(s, "storage", "pending_messages") == 4);
  // Loading the group (its member comes back) does not count the backlog twice.
  b->login(f.port(), "b");
  auto got = messages(*b, g, 4);
  CHECK(stat(admin_ok(f, "/admin/stats"), "storage", "pending_messages") == 4);
  // One more, then everything acknowledged: every stored message is deleted again.
  a->login(f.port(), "a");
  REQUIRE(a->publish(g, "after").is_ok());
  CHECK(eventually([&] { return stat(admin_ok(f, "/admin/stats"), "storage", "pending_messages") == 5; }));
  got = messages(*b, g, 1);
  REQUIRE(b->ack(g, got.back().seq));
  s = {};
  const bool drained = eventually([&] {
    s = admin_ok(f, "/admin/stats");
    return stat(s, "storage", "pending_messages") == 0;
  });
  INFO(json::serialize(s));
  CHECK(drained);
  CHECK(eventually([&] { return stat(admin_ok(f, "/admin/stats"), "pubsub", "messages_cleaned") == 5; }));
}

TEST_CASE("an admin rotation counts in key_rotations and keys_generated", "[admin][stats]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  const auto g = make_group(*a, {b.get()});
  auto before = admin_ok(f, "/admin/stats");
  CHECK(stat(before, "encryption", "key_rotations") == 0);
  auto r = admin_call(f, "POST", "/admin/groups/" + g.hex() + "/rotate");
  INFO(r.raw);
  REQUIRE(r.status == 200);
  CHECK(num(r.body.at("epoch")) == 2);
  REQUIRE(b->wait_key(g, 2));
  auto s = admin_ok(f, "/admin/stats");
  CHECK(stat(s, "encryption", "key_rotations") == 1);
  CHECK(stat(s, "encryption", "keys_generated") == 2);
  CHECK(stat(s, "encryption", "keys_distributed") == 4);
  CHECK(stat(s, "pubsub", "keys_rotated") == 2);
}
