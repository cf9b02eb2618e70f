// Delivery guarantees (PROTOCOL.md sections 3 and 7): offline backlog with keys first, retries
// up to max_delivery_attempts, and expiry after max_message_ttl.

#include <set>

#include "tests/integration/fixtures.hpp"

using namespace sealcast;
using namespace sealcast::test;
using namespace std::chrono_literals;

namespace {

/// The next key or message frame of `group`, in arrival order.
std::optional<proto::server_frame> next_of(test_client& c, const id16& group, std::chrono::milliseconds t) {
  return c.wait_for(
      [&](const proto::server_frame& x) {
        if (auto* k = std::get_if<srv::key>(&x)) return k->group == group;
        if (auto* m = std::get_if<srv::message>(&x)) return m->group == group;
        return false;
      },
      t);
}

}  // namespace

TEST_CASE("a member back from offline gets the keys first, then the backlog in seq order", "[integration][delivery]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  const auto g = make_group(*a, {b.get()});
  b->disconnect();
  for (int i = 1; i <= 5; ++i) REQUIRE(a->publish(g, "backlog " + std::to_string(i)).is_ok());

  auto w = b->login(f.port(), "b");
  REQUIRE(w.groups.size() == 1);
  bool seen_message = false;
  std::vector<srv::message> got;
  while (got.size() < 5) {
    auto x = next_of(*b, g, 5s);
    REQUIRE(x);
    if (auto* k = std::get_if<srv::key>(&*x)) {
      CHECK_FALSE(seen_message);  // keys before any ciphertext
      CHECK(k->epoch == 1);
    } else {
      seen_message = true;
      got.push_back(std::get<srv::message>(*x));
    }
  }
  for (std::size_t i = 0; i < 5; ++i) {
    CHECK(got[i].seq == i + 1);
    CHECK(plain(*b, got[i]) == "backlog " + std::to_string(i + 1));
  }
  b->ack(g, 5);
  CHECK(no_message(*b, g, 400ms));
}

TEST_CASE("an unacknowledged delivery is retried after retry_interval, up to max_delivery_attempts",
          "[integration][delivery]") {
  broker_fixture f(sets({"pubsub.retry_interval=1", "pubsub.max_delivery_attempts=2"}));
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");  // never acks
  auto c = online(f.port(), "c");  // acks at once
  const auto g = make_group(*a, {b.get(), c.get()});
  auto r = a->publish(g, "please ack");
  REQUIRE(r.is_ok());
  const auto id = r.as<proto::publish_result>().id;

  auto first = messages(*b, g, 1)[0];
  CHECK(first.id == id);
  auto mc = messages(*c, g, 1)[0];
  c->ack(g, mc.seq);
  const auto t0 = std::chrono::steady_clock::now();
  auto again = messages(*b, g, 1, 4s)[0];
  const auto after = std::chrono::steady_clock::now() - t0;
  CHECK(again.id == id);
  CHECK(again.seq == first.seq);
  CHECK(plain(*b, again) == "please ack");
  CHECK(after >= 500ms);  // not resent at once
  // Two attempts were all it gets; the acknowledged member got one copy.
  CHECK(no_message(*b, g, 3s));
  CHECK(no_message(*c, g, 10ms));
  // The failed delivery does not block later messages.
  REQUIRE(a->publish(g, "next").is_ok());
  auto next = messages(*b, g, 1)[0];
  CHECK(next.seq == first.seq + 1);
  CHECK(plain(*b, next) == "next");
}

TEST_CASE("an acknowledged delivery is not retried", "[integration][delivery]") {
  broker_fixture f(sets({"pubsub.retry_interval=1"}));
  auto a = online(f.port());
  auto b = online(f.port());
  const auto g = make_group(*a, {b.get()});
  REQUIRE(a->publish(g, "one").is_ok());
  REQUIRE(a->publish(g, "two").is_ok());
  auto ms = messages(*b, g, 2);
  b->ack(g, ms[1].seq);  // cumulative: covers both
  CHECK(no_message(*b, g, 2500ms));
}

TEST_CASE("a message past max_message_ttl expires for an offline member", "[integration][delivery]") {
  broker_fixture f(sets({"pubsub.max_message_ttl=1", "pubsub.cleanup_interval=1"}));
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  auto c = online(f.port(), "c");
  const auto g = make_group(*a, {b.get(), c.get()});
  b->disconnect();
  REQUIRE(a->publish(g, "short-lived").is_ok());
  auto fetched = c->request(cli::fetch{{}, g, 1, {}}).as<proto::fetch_result>().messages;
  REQUIRE(fetched.size() == 1);  // retained while b has not acknowledged it
  bool expired = false;
  for (int i = 0; i < 80 && !expired; ++i) {
    std::this_thread::sleep_for(100ms);
    expired = c->request(cli::fetch{{}, g, 1, {}}).as<proto::fetch_result>().messages.empty();
  }
  REQUIRE(expired);

  b->login(f.port(), "b");
  REQUIRE(b->wait_key(g, 1));
  CHECK(no_message(*b, g, 1s));
  CHECK(b->request(cli::fetch{{}, g, 1, {}}).as<proto::fetch_result>().messages.empty());
  // The group goes on: the next message has the next seq and is delivered.
  REQUIRE(a->publish(g, "fresh").is_ok());
  auto m = messages(*b, g, 1)[0];
  CHECK(m.seq == 2);
  CHECK(plain(*b, m) == "fresh");
}

TEST_CASE("fetch returns retained messages from a seq on, without the caller's own", "[integration][delivery]") {
  broker_fixture f;
  auto a = online(f.port());
  auto b = online(f.port());
  const auto g = make_group(*a, {b.get()});
  for (int i = 1; i <= 4; ++i) REQUIRE(a->publish(g, "f" + std::to_string(i)).is_ok());
  REQUIRE(b->publish(g, "own").is_ok());
  auto ms = b->request(cli::fetch{{}, g, 2, 2}).as<proto::fetch_result>().messages;
  REQUIRE(ms.size() == 2);
  CHECK(ms[0].seq == 2);
  CHECK(ms[1].seq == 3);
  CHECK(plain(*b, ms[1]) == "f3");
  auto rest = b->request(cli::fetch{{}, g, 4, {}}).as<proto::fetch_result>().messages;
  REQUIRE(rest.size() == 1);  // seq 5 is b's own
  CHECK(rest[0].seq == 4);
}

TEST_CASE("a backlog spanning a key rotation brings every key it needs before the messages",
          "[integration][delivery]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  auto c = online(f.port(), "c");
  const auto g = make_group(*a, {b.get()});
  b->disconnect();
  REQUIRE(a->publish(g, "epoch one").is_ok());
  REQUIRE(a->request(cli::add_member{{}, g, c->user_id(), proto::member_role::member}).is_ok());
  REQUIRE(a->wait_key(g, 2));
  REQUIRE(a->publish(g, "epoch two").is_ok());

  b->login(f.port(), "b");
  std::set<std::uint64_t> keys_seen;
  std::vector<srv::message> got;
  while (got.size() < 2) {
    auto x = next_of(*b, g, 5s);
    REQUIRE(x);
    if (auto* k = std::get_if<srv::key>(&*x)) {
      keys_seen.insert(k->epoch);
    } else {
      auto m = std::get<srv::message>(*x);
      CHECK(keys_seen.contains(m.epoch));  // the key came first
      got.push_back(m);
    }
  }
  CHECK(got[0].epoch == 1);
  CHECK(got[1].epoch == 2);
  CHECK(plain(*b, got[0]) == "epoch one");
  CHECK(plain(*b, got[1]) == "epoch two");
  CHECK(b->key_errors().empty());
}
