// Durability (PROTOCOL.md section 7: "An ok means the message survives a crash of the broker").

#include <sys/wait.h>

#include <csignal>
#include <set>

#include "tests/integration/fixtures.hpp"

using namespace sealcast;
using namespace sealcast::test;
using namespace std::chrono_literals;

TEST_CASE("every acknowledged publish survives kill -9 and is delivered exactly once, in order",
          "[integration][crash]") {
  constexpr int n = 50;
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  const auto g = make_group(*a, {b.get()});
  b->disconnect();
  std::vector<id16> ids;
  for (int i = 1; i <= n; ++i) {
    auto r = a->publish(g, "durable " + std::to_string(i));
    REQUIRE(r.is_ok());
    auto res = r.as<proto::publish_result>();
    REQUIRE(res.seq == static_cast<std::uint64_t>(i));
    ids.push_back(res.id);
  }
  f.broker->kill_hard();
  a->disconnect();
  f.restart();

  auto w = b->login(f.port(), "b");
  REQUIRE(w.groups.size() == 1);
  CHECK(w.groups[0].epoch == 1);
  REQUIRE(b->wait_key(g, 1));
  auto got = messages(*b, g, n, 10s);
  for (int i = 0; i < n; ++i) {
    CHECK(got[i].seq == static_cast<std::uint64_t>(i + 1));
    CHECK(got[i].id == ids[i]);
    CHECK(plain(*b, got[i]) == "durable " + std::to_string(i + 1));
  }
  b->ack(g, n);
  CHECK(no_message(*b, g, 700ms));  // exactly once

  // The group carries on where it stopped.
  a->login(f.port(), "a");
  REQUIRE(a->wait_key(g, 1));
  auto r = a->publish(g, "after the crash");
  INFO(r.describe());
  REQUIRE(r.is_ok());
  CHECK(r.as<proto::publish_result>().seq == n + 1);
  auto m = messages(*b, g, 1)[0];
  CHECK(m.seq == n + 1);
  CHECK(plain(*b, m) == "after the crash");
}

TEST_CASE("groups, members and epochs come back after a clean restart", "[integration][crash]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  auto c = online(f.port(), "c");
  const auto g = make_group(*a, {b.get()}, "kept");
  REQUIRE(a->request(cli::add_member{{}, g, c->user_id(), proto::member_role::admin}).is_ok());
  REQUIRE(c->wait_key(g, 2));
  REQUIRE(a->publish(g, "before restart").is_ok());
  for (auto* x : {a.get(), b.get(), c.get()}) x->disconnect();
  REQUIRE(WIFEXITED(f.broker->stop(SIGTERM)));
  f.restart();

  a->login(f.port(), "a");
  auto info = a->request(cli::group_info{{}, g}).as<proto::group_info_result>();
  CHECK(info.name == "kept");
  CHECK(info.epoch == 2);
  CHECK(info.members.size() == 3);
  CHECK(info.next_seq == 2);
  REQUIRE(a->wait_key(g, 2));
  CHECK(*info.key_id == a->key(g, 2)->frame.key_id);
  auto w = c->login(f.port(), "c");
  REQUIRE(w.groups.size() == 1);
  CHECK(w.groups[0].role == proto::member_role::admin);
  CHECK(plain(*c, messages(*c, g, 1)[0]) == "before restart");
}
