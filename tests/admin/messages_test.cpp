// /admin/messages/{id}: a message's status while stored, and after it is deleted.

#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/admin/admin_fixtures.hpp"

using namespace sealcast;
using namespace sealcast::test;
using namespace std::chrono_literals;

namespace {

/// The user ids of recipients[outcome], sorted.
std::vector<std::string> recipients(const json::object& m, const char* outcome) {
  std::vector<std::string> out;
  const auto* r = m.if_contains("recipients");
  if (!r || !r->is_object()) return {"(no recipients object)"};
  const auto* list = r->as_object().if_contains(outcome);
  if (!list || !list->is_array()) return {"(no list)"};
  for (const auto& v : list->as_array()) out.push_back(str(v));
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> ids(std::initializer_list<const test_client*> cs) {
  std::vector<std::string> out;
  for (const auto* c : cs) out.push_back(c->user_id().hex());
  std::sort(out.begin(), out.end());
  return out;
}

std::int64_t count_of(const json::object& m, const char* outcome) {
  const auto* c = m.if_contains("counts");
  if (!c || !c->is_object()) return -1;
  const auto* v = c->as_object().if_contains(outcome);
  return v ? num(*v) : -1;
}

using none = std::vector<std::string>;

}  // namespace

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
  CHECK(recipients(m, "pending") == ids({b.get(), c.get()}));
  CHECK(recipients(m, "delivered") == none{});
  CHECK(count_of(m, "pending") == 2);

  REQUIRE(b->ack(g, mb[0].seq));
  CHECK(eventually([&] { return num(admin_ok(f, url).at("remaining_recipients")) == 1; }));
  m = admin_ok(f, url);
  CHECK(str(m.at("status")) == "pending");
  CHECK(recipients(m, "delivered") == ids({b.get()}));
  CHECK(recipients(m, "pending") == ids({c.get()}));

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
  CHECK(recipients(settled, "delivered") == ids({b.get(), c.get()}));
  CHECK(recipients(settled, "failed") == none{});
  CHECK(recipients(settled, "expired") == none{});
  CHECK(recipients(settled, "pending") == none{});
  CHECK(count_of(settled, "delivered") == 2);
  CHECK(num(settled.at("delivery_attempts")) == 2);
  CHECK(num(settled.at("seq")) == static_cast<std::int64_t>(pub.seq));
  CHECK(str(settled.at("group")) == g.hex());
  CHECK(num(admin_ok(f, "/admin/groups/" + g.hex()).at("pending_messages")) == 0);

  SECTION("the outcome survives a restart") {
    f.restart();
    auto again = admin_ok(f, url);
    CHECK(str(again.at("status")) == "delivered");
    CHECK(num(again.at("seq")) == static_cast<std::int64_t>(pub.seq));
    CHECK(recipients(again, "delivered") == ids({b.get(), c.get()}));
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
  CHECK(recipients(m, "expired") == ids({b.get()}));
  CHECK(recipients(m, "delivered") == none{});
  CHECK(recipients(m, "failed") == none{});
  CHECK(count_of(m, "expired") == 1);
}

TEST_CASE("a delivery that runs out of attempts is failed for that recipient, also after a restart",
          "[admin][messages]") {
  broker_fixture f(sets({"pubsub.retry_interval=1", "pubsub.max_delivery_attempts=2"}));
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");  // receives, never acknowledges
  const auto g = make_group(*a, {b.get()}, "fails");
  auto p = a->publish(g, "never acknowledged");
  REQUIRE(p.is_ok());
  const auto url = "/admin/messages/" + p.as<proto::publish_result>().id.hex();
  messages(*b, g, 1);
  json::object m;
  CHECK(eventually(
      [&] {
        m = admin_ok(f, url);
        return !m.at("settled").is_null();
      },
      10s));
  INFO(json::serialize(m));
  CHECK(str(m.at("status")) == "failed");
  CHECK(recipients(m, "failed") == ids({b.get()}));
  CHECK(recipients(m, "delivered") == none{});
  CHECK(recipients(m, "expired") == none{});
  CHECK(count_of(m, "failed") == 1);
  CHECK(num(m.at("remaining_recipients")) == 1);
  CHECK(num(m.at("delivery_attempts")) == 2);

  f.restart();
  auto again = admin_ok(f, url);
  CHECK(str(again.at("status")) == "failed");
  CHECK(recipients(again, "failed") == ids({b.get()}));
}

TEST_CASE("a message some recipients got and one failed is partial; the failure survives a restart while pending",
          "[admin][messages]") {
  broker_fixture f(sets({"pubsub.retry_interval=1", "pubsub.max_delivery_attempts=2"}));
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");  // never acknowledges: fails
  auto c = online(f.port(), "c");  // acknowledges at once
  auto d = online(f.port(), "d");  // offline until after the restart: pending
  const auto g = make_group(*a, {b.get(), c.get(), d.get()}, "mixed");
  d->disconnect();
  auto p = a->publish(g, "mixed fortunes");
  REQUIRE(p.is_ok());
  const auto url = "/admin/messages/" + p.as<proto::publish_result>().id.hex();
  messages(*b, g, 1);
  REQUIRE(c->ack(g, messages(*c, g, 1)[0].seq));
  json::object m;
  CHECK(eventually(
      [&] {
        m = admin_ok(f, url);
        return recipients(m, "failed") == ids({b.get()});
      },
      10s));
  INFO(json::serialize(m));
  CHECK(str(m.at("status")) == "pending");
  CHECK(recipients(m, "delivered") == ids({c.get()}));
  CHECK(recipients(m, "pending") == ids({d.get()}));
  CHECK(num(m.at("remaining_recipients")) == 2);
  CHECK(m.at("settled").is_null());

  // Still stored (d has it pending): the failure comes back from the store.
  f.restart();
  m = admin_ok(f, url);
  CHECK(str(m.at("status")) == "pending");
  CHECK(recipients(m, "failed") == ids({b.get()}));
  CHECK(recipients(m, "delivered") == ids({c.get()}));
  CHECK(recipients(m, "pending") == ids({d.get()}));

  d->login(f.port(), "d");
  REQUIRE(d->ack(g, messages(*d, g, 1)[0].seq));
  CHECK(eventually([&] {
    m = admin_ok(f, url);
    return !m.at("settled").is_null();
  }));
  CHECK(str(m.at("status")) == "partial");
  CHECK(recipients(m, "delivered") == ids({c.get(), d.get()}));
  CHECK(recipients(m, "failed") == ids({b.get()}));
  CHECK(recipients(m, "pending") == none{});
  CHECK(count_of(m, "delivered") == 2);
  CHECK(count_of(m, "failed") == 1);
  CHECK(num(m.at("remaining_recipients")) == 1);
}
