// /admin/messages/{id}: a message's status while stored, and after it is deleted.

#include <catch2/catch_test_macros.hpp>

#include "tests/admin/admin_fixtures.hpp"

using namespace sealcast;
using namespace sealcast::test;
using namespace std::chrono_literals;

TEST_CASE("a message is pending until acknowledged, then delivered, also after deletion", "[admin][messages]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  auto c = online(f.port(), "c");
  const auto g = make_group(*a, {b.get(), c.get()}, "m");
  auto p = a->publish(g, "status?");
  REQUIRE(p.is_ok());
  const auto pub = p.as<proto::publish_result>();
  const auto url = "/admin/messages/" + pub.id.hex();
  auto mb = messages(*b, g, 1);
  auto mc = messages(*c, g, 1);

  auto m = admin_ok(f, url);
  CHECK(str(m.at("id")) == pub.id.hex());
  CHECK(str(m.at("group")) == g.hex());
  CHECK(num(m.at("seq")) == static_cast<std::int64_t>(pub.seq));
  CHECK(str(m.at("sender")) == a->user_id().hex());
  CHECK(num(m.at("epoch")) == 1);
  CHECK(num(m.at("ts")) == static_cast<std::int64_t>(pub.ts));
  CHECK(str(m.at("status")) == "pending");
  CHECK(num(m.at("recipient_count")) == 2);
  CHECK(num(m.at("remaining_recipients")) == 2);
  CHECK(num(m.at("delivery_attempts")) == 2);  // written once to each online recipient

  REQUIRE(b->ack(g, mb[0].seq));
  CHECK(eventually([&] { return num(admin_ok(f, url).at("remaining_recipients")) == 1; }));
  CHECK(str(admin_ok(f, url).at("status")) == "pending");

  REQUIRE(c->ack(g, mc[0].seq));
  // Acknowledged by all: delivered, then deleted; the outcome keeps answering.
  json::object settled;
  CHECK(eventually([&] {
    settled = admin_ok(f, url);
    return !settled.at("settled").is_null();
  }));
  INFO(json::serialize(settled));
  CHECK(str(settled.at("status")) == "delivered");
  CHECK(num(settled.at("remaining_recipients")) == 0);
  CHECK(num(settled.at("delivery_attempts")) == 2);
  CHECK(num(settled.at("seq")) == static_cast<std::int64_t>(pub.seq));
  CHECK(str(settled.at("group")) == g.hex());
  CHECK(num(admin_ok(f, "/admin/groups/" + g.hex()).at("pending_messages")) == 0);

  SECTION("the outcome survives a restart") {
    f.restart();
    auto again = admin_ok(f, url);
    CHECK(str(again.at("status")) == "delivered");
    CHECK(num(again.at("seq")) == static_cast<std::int64_t>(pub.seq));
  }
  SECTION("unknown and malformed ids") {
    auto r = admin_get(f, "/admin/messages/" + test_client().user_id().hex());
    CHECK(r.status == 404);
    REQUIRE(r.body.is_object());
    CHECK(str(r.body.at("error")).find("unknown message") != std::string::npos);
    CHECK(admin_get(f, "/admin/messages/abc").status == 400);
  }
}

TEST_CASE("a message nobody acknowledges before the TTL is expired", "[admin][messages]") {
  broker_fixture f(sets({"pubsub.max_message_ttl=1", "pubsub.cleanup_interval=1"}));
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  const auto g = make_group(*a, {b.get()}, "ttl");
  b->disconnect();
  auto p = a->publish(g, "never read");
  REQUIRE(p.is_ok());
  const auto url = "/admin/messages/" + p.as<proto::publish_result>().id.hex();
  CHECK(str(admin_ok(f, url).at("status")) == "pending");
  json::object m;
  CHECK(eventually(
      [&] {
        m = admin_ok(f, url);
        return str(m.at("status")) == "expired";
      },
      10s));
  INFO(json::serialize(m));
  CHECK(num(m.at("remaining_recipients")) == 1);
  CHECK(num(m.at("delivery_attempts")) == 0);
  CHECK(!m.at("settled").is_null());
}
