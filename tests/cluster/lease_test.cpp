#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch_test_macros.hpp>

#include "cluster/lease.hpp"
#include "tests/cluster/shared_cluster.hpp"

using namespace sealcast;
using namespace std::chrono_literals;
using std::chrono::steady_clock;

namespace {

// Short terms so the expiry tests take seconds; the margin covers loopback scheduling only.
cluster::lease_options short_leases(const std::string& bucket) {
  cluster::lease_options o;
  o.bucket = bucket;
  o.ttl = 2000ms;
  o.margin = 500ms;
  return o;
}

cluster::nats_client client_on(int server, const std::string& name) {
  cluster::connect_options o;
  o.servers = {test::shared_cluster().client_url(server)};
  o.name = name;
  auto c = cluster::nats_client::connect(o);
  REQUIRE(c.ok());
  return std::move(c).value();
}

}  // namespace

TEST_CASE("two nodes racing for the same lease: exactly one acquires it, the other is told it is held") {
  auto a = client_on(0, "node-a");
  auto b = client_on(1, "node-b");
  auto ta = cluster::lease_table::open(a, short_leases("race"));
  REQUIRE(ta.ok());
  auto tb = cluster::lease_table::open(b, short_leases("race"));
  REQUIRE(tb.ok());

  constexpr int keys = 20;
  int a_won = 0;
  int b_won = 0;
  for (int k = 0; k < keys; ++k) {
    const std::string key = "p." + std::to_string(k);
    std::atomic<bool> go{false};
    std::optional<result<cluster::lease_grant>> ra;
    std::optional<result<cluster::lease_grant>> rb;
    std::thread t1([&] {
      while (!go.load()) {
      }
      ra.emplace(ta->acquire(key, "node-a"));
    });
    std::thread t2([&] {
      while (!go.load()) {
      }
      rb.emplace(tb->acquire(key, "node-b"));
    });
    go = true;
    t1.join();
    t2.join();
    INFO("key " << key << ": a " << (ra->ok() ? "ok" : ra->err().message) << "; b "
                << (rb->ok() ? "ok" : rb->err().message));
    REQUIRE(ra->ok() != rb->ok());
    const auto& loser = ra->ok() ? *rb : *ra;
    CHECK(loser.err().code == errc::exists);
    (ra->ok() ? a_won : b_won)++;

    // The bucket agrees with the winner.
    auto h = ta->holder(key);
    REQUIRE(h.ok());
    REQUIRE(h->has_value());
    CHECK((*h)->holder == (ra->ok() ? "node-a" : "node-b"));
    CHECK((*h)->revision == (ra->ok() ? (*ra)->revision : (*rb)->revision));
  }
  INFO("a won " << a_won << ", b won " << b_won);
  CHECK(a_won + b_won == keys);
}

TEST_CASE("a renewal moves the fencing revision on, and the superseded revision cannot renew") {
  auto c = test::connect_client("renewer");
  auto t = cluster::lease_table::open(c, short_leases("renew"));
  REQUIRE(t.ok());
  auto g1 = t->acquire("p.1", "node-a");
  REQUIRE(g1.ok());
  auto g2 = t->renew(*g1);
  REQUIRE(g2.ok());
  CHECK(g2->revision > g1->revision);
  CHECK(g2->valid_until > g1->valid_until);

  auto stale = t->renew(*g1);
  REQUIRE_FALSE(stale.ok());
  CHECK(stale.err().code == errc::conflict);

  // The current grant still renews, and a second acquire is refused as held.
  auto g3 = t->renew(*g2);
  REQUIRE(g3.ok());
  auto again = t->acquire("p.1", "node-b");
  REQUIRE_FALSE(again.ok());
  CHECK(again.err().code == errc::exists);
}

TEST_CASE("a holder that stops renewing: its deadline passes before the next node can acquire, then it is fenced") {
  auto a = test::connect_client("node-a");
  auto b = test::connect_client("node-b");
  auto ta = cluster::lease_table::open(a, short_leases("expiry"));
  REQUIRE(ta.ok());
  auto tb = cluster::lease_table::open(b, short_leases("expiry"));
  REQUIRE(tb.ok());

  const auto a_sent = steady_clock::now();
  auto ga = ta->acquire("p.7", "node-a");
  REQUIRE(ga.ok());
  CHECK(ga->valid_until <= a_sent + 2000ms - 500ms + 50ms);  // measured from before the send

  // node-a goes silent (as if paused); node-b tries every 50 ms.
  std::optional<cluster::lease_grant> gb;
  steady_clock::time_point b_sent{};
  const auto give_up = steady_clock::now() + 10s;
  while (!gb && steady_clock::now() < give_up) {
    b_sent = steady_clock::now();
    auto r = tb->acquire("p.7", "node-b");
    if (r.ok()) {
      gb = *r;
      break;
    }
    REQUIRE(r.err().code == errc::exists);
    std::this_thread::sleep_for(50ms);
  }
  REQUIRE(gb.has_value());
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(b_sent - a_sent);
  INFO("node-b acquired " << waited.count() << " ms after node-a's acquire was sent");
  // Not before the term (the server stamps the entry after a_sent), and not much after it.
  CHECK(waited >= 2000ms - 100ms);
  CHECK(waited <= 2000ms + 3000ms);
  // Fencing by time: node-a's own deadline had passed before node-b's winning request left.
  CHECK(ga->valid_until <= b_sent);
  CHECK_FALSE(ga->valid(b_sent));
  // Fencing by revision: the new holder's token is higher, and node-a cannot renew.
  CHECK(gb->revision > ga->revision);
  auto late = ta->renew(*ga);
  REQUIRE_FALSE(late.ok());
  CHECK(late.err().code == errc::conflict);
}

TEST_CASE("release hands the lease over at once, and a late release of an old grant does not remove the new holder's") {
  auto c = test::connect_client("releaser");
  auto t = cluster::lease_table::open(c, short_leases("release"));
  REQUIRE(t.ok());
  auto ga = t->acquire("p.3", "node-a");
  REQUIRE(ga.ok());
  REQUIRE(t->release(*ga).ok());

  auto gb = t->acquire("p.3", "node-b");
  REQUIRE(gb.ok());
  CHECK(gb->revision > ga->revision);

  // node-a releases again (a retry after a timeout): node-b keeps the lease.
  REQUIRE(t->release(*ga).ok());
  auto h = t->holder("p.3");
  REQUIRE(h.ok());
  REQUIRE(h->has_value());
  CHECK((*h)->holder == "node-b");
  CHECK((*h)->revision == gb->revision);
}

TEST_CASE("a lease bucket that exists with another term is refused") {
  auto c = test::connect_client("config");
  REQUIRE(cluster::lease_table::open(c, short_leases("term")).ok());
  auto other = short_leases("term");
  other.ttl = 5000ms;
  auto r = cluster::lease_table::open(c, other);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::config_error);
}
