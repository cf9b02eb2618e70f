// The fan-out engine (issue 12): frames staged for an io shard whose connections close meanwhile,
// and cursors moved in memory by acks and written in coalesced flushes, across a restart.

#include <algorithm>
#include <string>
#include <thread>
#include <memory>
#include <vector>

#include "tests/integration/fixtures.hpp"

using namespace sealcast;
using namespace sealcast::test;
using namespace std::chrono_literals;

namespace {

/// Sends a publish with the string rid "p<i>" without waiting for its ok.
bool publish_nowait(test_client& c, const id16& g, int i) {
  proto::client_frame frame = c.make_publish(g, "burst " + std::to_string(i));
  std::visit(
      [&](auto& f) {
        if constexpr (requires { f.rid; }) f.rid = proto::request_id::from_string("p" + std::to_string(i));
      },
      frame);
  return c.send_raw(proto::to_json(frame));
}

/// Checks that `got` is exactly the seqs [from, to], in order, each with its burst text (a
/// message the client opened before is a redelivery: its ratchet index is spent, so only its seq
/// is checked then).
void check_run(test_client& c, const std::vector<srv::message>& got, std::uint64_t from, std::uint64_t to,
               bool open = true) {
  REQUIRE(got.size() == to - from + 1);
  for (std::size_t i = 0; i < got.size(); ++i) {
    CHECK(got[i].seq == from + i);
    if (open) CHECK(plain(c, got[i]) == "burst " + std::to_string(from + i));
  }
}

}  // namespace

TEST_CASE("connections that close while a fan-out is staged for their shard cost the others nothing",
          "[integration][fanout]") {
  // Two shards, so that the staged frames of one publish go to both; half the members drop
  // while a burst is being fanned out to them.
  broker_fixture f(sets({"gateway.io_threads=2"}));
  auto a = online(f.port(), "a");
  std::vector<std::unique_ptr<test_client>> members;
  std::vector<test_client*> raw;
  for (int i = 0; i < 8; ++i) {
    members.push_back(online(f.port(), "m" + std::to_string(i)));
    raw.push_back(members.back().get());
  }
  const auto g = make_group(*a, raw);
  constexpr int n = 60;
  for (int i = 1; i <= n; ++i) {
    REQUIRE(publish_nowait(*a, g, i));
    if (i == 20)
      for (int k = 0; k < 4; ++k) members[k]->disconnect();
  }
  // The members that stayed get every message once, in order.
  for (int k = 4; k < 8; ++k) {
    auto got = messages(*members[k], g, n, 10s);
    check_run(*members[k], got, 1, n);
    REQUIRE(members[k]->ack(g, n));
    CHECK(no_message(*members[k], g, 200ms));
  }
  // The broker is still healthy: a publish is answered and delivered.
  auto r = a->publish(g, "burst " + std::to_string(n + 1));
  INFO(r.describe());
  REQUIRE(r.is_ok());
  CHECK(r.as<proto::publish_result>().seq == n + 1);
  // Those that dropped come back to everything they did not acknowledge, in order.
  for (int k = 0; k < 4; ++k) {
    members[k]->login(f.port(), "m" + std::to_string(k));
    auto got = messages(*members[k], g, n + 1, 10s);
    // Whatever they had opened before dropping comes again (unacknowledged): seqs 1..n+1 in order.
    check_run(*members[k], got, 1, n + 1, false);
  }
}

TEST_CASE("acks are applied in memory and written in coalesced flushes: across a restart nothing acked comes "
          "again and nothing unacked is lost",
          "[integration][fanout][restart]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  std::vector<std::unique_ptr<test_client>> members;
  std::vector<test_client*> raw;
  for (int i = 0; i < 6; ++i) {
    members.push_back(online(f.port(), "m" + std::to_string(i)));
    raw.push_back(members.back().get());
  }
  const auto g = make_group(*a, raw);
  constexpr int n = 30;
  for (int i = 1; i <= n; ++i) REQUIRE(a->publish(g, "burst " + std::to_string(i)).is_ok());
  // Each member acknowledges a different prefix (member k: 5k messages), and the last acks
  // come right before the restart: they are in memory, not yet flushed.
  for (int k = 0; k < 6; ++k) {
    auto got = messages(*members[k], g, n, 10s);
    check_run(*members[k], got, 1, n);
    if (k > 0) REQUIRE(members[k]->ack(g, static_cast<std::uint64_t>(5 * k)));
    // A request the group answers after the ack: it has been applied before the restart.
    REQUIRE(members[k]->request(cli::fetch{{}, g, 1, {}}).is_ok());
  }
  f.restart();
  for (int k = 0; k < 6; ++k) {
    members[k]->login(f.port(), "m" + std::to_string(k));
    const auto from = static_cast<std::uint64_t>(5 * k + 1);
    if (from > static_cast<std::uint64_t>(n)) {
      CHECK(no_message(*members[k], g, 300ms));
      continue;
    }
    auto got = messages(*members[k], g, n - from + 1, 10s);
    check_run(*members[k], got, from, n, false);  // exactly the unacknowledged ones, from the cursor on
    REQUIRE(members[k]->ack(g, n));
    CHECK(no_message(*members[k], g, 200ms));
  }
}

TEST_CASE("a connection's route to a group that was unloaded since leads through the directory, which loads it again",
          "[integration][fanout][routes]") {
  broker_fixture f(sets({"pubsub.retry_interval=1", "storage.sync=false"}));
  auto a = online(f.port(), "a");
  auto c = online(f.port(), "c");  // not a member: it does not keep the group loaded
  const auto g = make_group(*a, {});
  // c's first frame for the group resolves its route through the directory; the second goes
  // straight to the actor over it. Both are answered by the group itself.
  CHECK(c->request(cli::group_info{{}, g}).code() == errc::not_member);
  CHECK(c->request(cli::group_info{{}, g}).code() == errc::not_member);
  a->disconnect();
  INFO(f.broker->log());
  REQUIRE(wait_groups_loaded(f, 0));
  // c still holds the route to the stopped actor: it must find it closed and go through the
  // directory (a send to the stopped actor would never be answered).
  auto r = c->request(cli::group_info{{}, g});
  INFO(r.describe());
  CHECK(r.code() == errc::not_member);
  CHECK(groups_loaded(f) == 1);
  // The group came back whole: its owner publishes, and c's next frames take the new route.
  a->login(f.port(), "a");
  REQUIRE(a->publish(g, "after the reload").is_ok());
  for (int i = 0; i < 3; ++i) CHECK(c->request(cli::group_info{{}, g}).code() == errc::not_member);
}

TEST_CASE("a group actor that fails has its route closed: the connection's next frame loads the group again",
          "[integration][fanout][routes]") {
  // The hook makes the second group_info handled by a group actor throw.
  ::setenv("SEALCAST_TEST_GROUP_FAILS", "2", 1);
  std::unique_ptr<broker_fixture> fp;
  try {
    fp = std::make_unique<broker_fixture>(sets({"storage.sync=false"}));
  } catch (...) {
    ::unsetenv("SEALCAST_TEST_GROUP_FAILS");
    throw;
  }
  ::unsetenv("SEALCAST_TEST_GROUP_FAILS");
  auto& f = *fp;
  auto a = online(f.port(), "a");
  auto c = online(f.port(), "c");
  const auto g = make_group(*a, {});
  // The first resolves c's route through the directory; the second goes straight to the actor,
  // which fails on it (that frame is lost with the actor's mailbox).
  CHECK(c->request(cli::group_info{{}, g}).code() == errc::not_member);
  REQUIRE(c->send_raw(proto::to_json(proto::client_frame{cli::group_info{{}, g}})));
  bool noticed = false;
  for (int i = 0; i < 500 && !noticed; ++i) {
    noticed = f.broker->log().find("a group actor failed") != std::string::npos;
    if (!noticed) std::this_thread::sleep_for(20ms);
  }
  INFO(f.broker->log());
  REQUIRE(noticed);
  // c still holds the route to the failed actor: it must find it closed (a frame sent to the
  // dead actor would never be answered) and go through the directory, which loads the group.
  auto r = c->request(cli::group_info{{}, g});
  INFO(r.describe());
  CHECK(r.code() == errc::not_member);
  // The reloaded group knows its online owner: a publishes, and is answered by the group.
  REQUIRE(a->publish(g, "after the failure").is_ok());
}

TEST_CASE("a connection's frames for a group keep their order while its route moves from the directory to the actor",
          "[integration][fanout][routes]") {
  // Every publish is sent without waiting: the first ones go through the directory (no route
  // yet), later ones straight to the actor; add_member always goes through the directory.
  broker_fixture f(sets({"storage.sync=false"}));
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  auto d = online(f.port(), "d");
  const auto g = make_group(*a, {b.get()});
  // A fresh connection of a's, so that it has no route to g yet.
  a->disconnect();
  a->login(f.port(), "a");
  constexpr int n = 200;
  for (int i = 1; i <= n; ++i) REQUIRE(publish_nowait(*a, g, i));
  auto got = messages(*b, g, n, 10s);
  check_run(*b, got, 1, n);
  // An add_member (through the directory) followed at once by a request straight to the actor:
  // the group sees the add first, so the info that follows already lists d.
  a->know(*d);
  REQUIRE(a->send_raw(proto::to_json(proto::client_frame{a->make_add_member(g, d->user_id())})));
  auto info = a->request(cli::group_info{{}, g});
  INFO(info.describe());
  REQUIRE(info.is_ok());
  const auto members = info.as<proto::group_info_result>().members;
  CHECK(std::any_of(members.begin(), members.end(), [&](const auto& m) { return m.user == d->user_id(); }));
}
