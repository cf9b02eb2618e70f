// Direct messages (PROTOCOL.md section 8): HPKE-sealed to the recipient, stored, delivered
// online or after reconnect, retried until ack_direct.

#include "tests/integration/fixtures.hpp"

using namespace sealcast;
using namespace sealcast::test;
using namespace std::chrono_literals;

namespace {

std::optional<srv::direct> next_direct(test_client& c, std::chrono::milliseconds t = 3s) {
  return c.next_push<srv::direct>(t);
}

}  // namespace

TEST_CASE("a direct message reaches an online recipient at once and opens", "[integration][direct]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  auto r = a->send_direct(b->user_id(), "psst");
  INFO(r.describe());
  REQUIRE(r.is_ok());
  auto res = r.as<proto::direct_result>();
  CHECK(res.ts > 0);
  auto d = next_direct(*b);
  REQUIRE(d);
  CHECK(d->id == res.id);
  CHECK(d->from == a->user_id());
  CHECK(d->ts == res.ts);
  auto pt = b->open_direct(*d);
  INFO((pt ? std::string() : pt.err().message));
  REQUIRE(pt.ok());
  CHECK(*pt == "psst");
  // Nobody else can open it: a third party holds the wrong kx_sk.
  test_client eve;
  eve.know(*a);
  CHECK_FALSE(eve.open_direct(*d).ok());
  CHECK_FALSE(next_direct(*a, 300ms));
}

TEST_CASE("a direct message to an offline recipient arrives after reconnect; ack_direct settles it",
          "[integration][direct]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  b->disconnect();
  auto r1 = a->send_direct(b->user_id(), "first");
  auto r2 = a->send_direct(b->user_id(), "second");
  REQUIRE(r1.is_ok());
  REQUIRE(r2.is_ok());
  b->login(f.port(), "b");
  auto d1 = next_direct(*b);
  auto d2 = next_direct(*b);
  REQUIRE(d1);
  REQUIRE(d2);
  CHECK(d1->id == r1.as<proto::direct_result>().id);
  CHECK(d2->id == r2.as<proto::direct_result>().id);
  CHECK(*b->open_direct(*d1) == "first");
  CHECK(*b->open_direct(*d2) == "second");
  b->ack_direct(d1->id);
  b->ack_direct(d2->id);
  b->request(cli::list_groups{});  // a round trip so the acks are processed first
  b->disconnect();
  b->login(f.port(), "b");
  CHECK_FALSE(next_direct(*b, 700ms));
}

TEST_CASE("an unacknowledged direct message is retried; ack_direct stops it", "[integration][direct]") {
  broker_fixture f(sets({"pubsub.retry_interval=1", "pubsub.max_delivery_attempts=5"}));
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  REQUIRE(a->send_direct(b->user_id(), "again and again").is_ok());
  auto d = next_direct(*b);
  REQUIRE(d);
  auto again = next_direct(*b, 3500ms);
  REQUIRE(again);
  CHECK(again->id == d->id);
  b->ack_direct(d->id);
  CHECK_FALSE(next_direct(*b, 2500ms));
}

TEST_CASE("a direct message to an unknown user is unknown_user", "[integration][direct]") {
  broker_fixture f;
  auto a = online(f.port());
  test_client ghost;
  cli::direct d;
  d.to = ghost.user_id();
  d.sealed = bytes(64, 7);
  CHECK(a->request(d).code() == errc::unknown_user);
}

TEST_CASE("a reconnecting member gets its group backlog before its direct messages", "[integration][direct]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  const auto g = make_group(*a, {b.get()});
  b->disconnect();
  REQUIRE(a->publish(g, "group first").is_ok());
  REQUIRE(a->send_direct(b->user_id(), "direct after").is_ok());
  b->login(f.port(), "b");
  auto x = b->wait_for(
      [](const proto::server_frame& fr) {
        return std::holds_alternative<srv::message>(fr) || std::holds_alternative<srv::direct>(fr);
      },
      3s);
  REQUIRE(x);
  CHECK(std::holds_alternative<srv::message>(*x));  // PROTOCOL.md section 3: "then undelivered direct messages"
}
