// Membership and partition ownership across real sealcastd processes: three clustered
// nats-servers and three sealcastd nodes, started once for every scenario below (they run in
// order and each leaves the three nodes up again). Leases are short (2 s, 0.5 s margin, 250 ms
// heartbeats) so a takeover takes seconds.
#include <signal.h>
#include <sys/wait.h>

#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch_test_macros.hpp>

#include "cluster/partitions.hpp"
#include "tests/support/broker_process.hpp"
#include "tests/support/nats_cluster.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/ws_client.hpp"

using namespace sealcast;
using namespace std::chrono_literals;
using std::chrono::steady_clock;
namespace json = boost::json;

namespace {

constexpr int node_count = 3;
constexpr std::uint32_t partitions = 64;
const test::cluster_settings timings;  // lease 2000 ms, margin 500 ms, heartbeat 250 ms

/// One node's /admin/cluster, reduced to what the scenarios compare.
struct view {
  bool ok = false;
  std::string self;
  std::vector<std::string> nodes;   ///< live, sorted
  std::vector<std::string> owners;  ///< by partition; "" = none
  std::vector<std::uint64_t> revisions;
  std::vector<bool> mine;
  std::uint64_t owned = 0;
};

/// The fixture: nats-servers and nodes n0..n2, each with its own data directory.
struct cluster_fixture {
  test::nats_cluster nats{3};
  test::temp_dir dir;
  std::array<std::unique_ptr<test::broker_process>, node_count> nodes;

  cluster_fixture() {
    for (int i = 0; i < node_count; ++i) start(i);
  }

  static std::string name(int i) { return "n" + std::to_string(i); }

  void start(int i) {
    test::cluster_settings c = timings;
    c.nats = nats.client_urls_csv();
    c.node = name(i);
    nodes[static_cast<std::size_t>(i)] =
        std::make_unique<test::broker_process>(dir.path() / name(i), test::cluster_args(c));
  }

  test::broker_process& node(int i) { return *nodes[static_cast<std::size_t>(i)]; }
  [[nodiscard]] bool running(int i) const { return nodes[static_cast<std::size_t>(i)] != nullptr; }

  view get(int i, std::chrono::milliseconds timeout = 2s) {
    view v;
    auto r = test::http_get("127.0.0.1", node(i).admin_port(), "/admin/cluster", {}, false, timeout);
    if (r.status != 200) return v;
    boost::system::error_code ec;
    auto doc = json::parse(r.body, ec);
    if (ec) return v;
    const auto& o = doc.as_object();
    v.self = std::string(o.at("node").at("name").as_string());
    for (const auto& n : o.at("nodes").as_array()) v.nodes.emplace_back(n.at("name").as_string());
    const auto& parts = o.at("partitions").as_object();
    v.owned = parts.at("owned").to_number<std::uint64_t>();
    for (const auto& e : parts.at("owners").as_array()) {
      const auto& owner = e.at("owner");
      v.owners.push_back(owner.is_null() ? std::string() : std::string(owner.as_string()));
      v.revisions.push_back(e.at("revision").to_number<std::uint64_t>());
      v.mine.push_back(e.as_object().contains("valid_ms"));
    }
    v.ok = v.owners.size() == partitions;
    return v;
  }
};

cluster_fixture& fixture() {
  static cluster_fixture f;
  return f;
}

std::vector<std::string> names_of(const std::vector<int>& ids) {
  std::vector<std::string> out;
  for (int i : ids) out.push_back(cluster_fixture::name(i));
  std::sort(out.begin(), out.end());
  return out;
}

// True when every node in `ids` sees exactly `ids` live, every partition owned by the node the
// rendezvous hash picks among them, each node claiming exactly its own, and all agreeing on it.
bool settled(cluster_fixture& f, const std::vector<int>& ids, std::string* why = nullptr) {
  const auto live = names_of(ids);
  std::vector<view> views;
  for (int i : ids) {
    auto v = f.get(i);
    if (!v.ok) {
      if (why) *why = cluster_fixture::name(i) + ": no answer";
      return false;
    }
    if (v.nodes != live) {
      if (why) *why = v.self + " sees " + std::to_string(v.nodes.size()) + " nodes";
      return false;
    }
    views.push_back(std::move(v));
  }
  for (std::uint32_t p = 0; p < partitions; ++p) {
    const auto want = cluster::desired_owner(live, p);
    int claimed = 0;
    for (const auto& v : views) {
      // Revisions are not compared: owners renew every few heartbeats and each node read the
      // table at its own moment.
      if (v.owners[p] != want) {
        if (why) *why = v.self + " says p" + std::to_string(p) + " is '" + v.owners[p] + "', want '" + want + "'";
        return false;
      }
      if (v.mine[p]) ++claimed;
    }
    if (claimed != 1) {
      if (why) *why = "p" + std::to_string(p) + " claimed by " + std::to_string(claimed) + " nodes";
      return false;
    }
  }
  return true;
}

// Polls until `ok()` or the timeout; returns the time it took, or nullopt.
std::optional<std::chrono::milliseconds> wait_for(std::chrono::milliseconds timeout, const std::function<bool()>& ok) {
  const auto start = steady_clock::now();
  while (steady_clock::now() - start < timeout) {
    if (ok()) return std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - start);
    std::this_thread::sleep_for(50ms);
  }
  return std::nullopt;
}

// Waits until settled(ids) and returns the time since `since`; fails the test after `timeout`.
std::chrono::milliseconds require_settled(cluster_fixture& f, const std::vector<int>& ids,
                                          std::chrono::milliseconds timeout,
                                          steady_clock::time_point since = steady_clock::now()) {
  std::string why;
  auto took = wait_for(timeout, [&] { return settled(f, ids, &why); });
  INFO("last disagreement: " << why);
  REQUIRE(took.has_value());
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - since);
}

// The partitions a view says node `name` owns.
std::vector<std::uint32_t> owned_by(const view& v, const std::string& name) {
  std::vector<std::uint32_t> out;
  for (std::uint32_t p = 0; p < partitions; ++p)
    if (v.owners[p] == name) out.push_back(p);
  return out;
}

void report(const std::string& what, std::chrono::milliseconds took) {
  std::cout << "cluster_node_tests: " << what << ": " << took.count() << " ms\n";
}

}  // namespace

TEST_CASE("three nodes: every partition has exactly one live owner, and every node's /admin/cluster agrees") {
  auto& f = fixture();
  require_settled(f, {0, 1, 2}, 15s);

  std::uint64_t owned = 0;
  for (int i = 0; i < node_count; ++i) {
    auto v = f.get(i);
    owned += v.owned;
    CHECK(v.owned == owned_by(v, v.self).size());
    CHECK(v.owned > 0);
    // The metrics say the same.
    auto m = test::http_get("127.0.0.1", f.node(i).admin_port(), "/metrics");
    CHECK(m.body.find("sealcast_cluster_nodes 3\n") != std::string::npos);
    CHECK(m.body.find("sealcast_cluster_partitions_owned " + std::to_string(v.owned) + "\n") != std::string::npos);
    // And each gain was an event.
    auto ev = test::http_get("127.0.0.1", f.node(i).admin_port(), "/admin/events?type=partition_gained&limit=1000");
    CHECK(ev.status == 200);
    CHECK(ev.body.find("\"partition_gained\"") != std::string::npos);
  }
  CHECK(owned == partitions);
}

TEST_CASE("kill -9 of a node: its partitions move to the two others within the lease term and a few heartbeats") {
  auto& f = fixture();
  require_settled(f, {0, 1, 2}, 15s);
  const auto before = f.get(0);
  const auto lost = owned_by(before, "n2");
  REQUIRE_FALSE(lost.empty());

  const auto killed = steady_clock::now();
  f.node(2).kill_hard();
  const auto elapsed = require_settled(f, {0, 1}, 10s, killed);
  report("takeover after kill -9", elapsed);
  // The lease term, then a heartbeat or two to see it free and take it; slack for 2 busy cores.
  CHECK(elapsed < std::chrono::milliseconds(timings.lease_ms + 8 * timings.heartbeat_ms + 1000));
  // Not before the killed node's leases could have expired (its last renewal was at most a third
  // of the usable span and a heartbeat before the kill): nobody took a live lease.
  CHECK(elapsed >= std::chrono::milliseconds(timings.lease_ms - (timings.lease_ms - timings.lease_margin_ms) / 3 -
                                             2 * timings.heartbeat_ms));
  const auto after = f.get(0);
  for (auto p : lost) CHECK(after.revisions[p] > before.revisions[p]);

  // Back on the same data directory and name: it gets its share again.
  f.start(2);
  require_settled(f, {0, 1, 2}, 15s);
}

TEST_CASE(
    "SIGSTOP of a node past its lease: the others take its partitions; after SIGCONT it claims none of them "
    "until it acquires them again with a newer revision") {
  auto& f = fixture();
  require_settled(f, {0, 1, 2}, 15s);
  const auto before = f.get(1);
  const auto held = owned_by(before, "n1");
  REQUIRE_FALSE(held.empty());

  const auto paused = steady_clock::now();
  f.node(1).signal(SIGSTOP);
  report("takeover from a paused node", require_settled(f, {0, 2}, 10s, paused));
  const auto meanwhile = f.get(0);
  for (auto p : held) CHECK(meanwhile.revisions[p] > before.revisions[p]);

  f.node(1).signal(SIGCONT);
  // From its first answer on, n1 claims a partition it lost only under a revision newer than
  // the one the node that took it over got.
  int claims_checked = 0;
  const auto until = steady_clock::now() + 4s;
  while (steady_clock::now() < until) {
    auto v = f.get(1, 5s);
    if (!v.ok) continue;
    for (auto p : held) {
      if (v.owners[p] == "n1" || v.mine[p]) {
        CHECK(v.mine[p]);
        CHECK(v.revisions[p] > meanwhile.revisions[p]);
        ++claims_checked;
      }
    }
    std::this_thread::sleep_for(20ms);
  }
  std::cout << "cluster_node_tests: claims by the resumed node checked: " << claims_checked << "\n";
  // It came back: the rendezvous gives it its share again, each under a new revision.
  require_settled(f, {0, 1, 2}, 15s);
  const auto back = f.get(1);
  for (auto p : held) {
    CHECK(back.owners[p] == "n1");
    CHECK(back.revisions[p] > meanwhile.revisions[p]);
  }
  const auto log = f.node(1).log();
  CHECK(log.find("deadline passed") != std::string::npos);
}

TEST_CASE("SIGTERM of a node hands its partitions over faster than the lease term") {
  auto& f = fixture();
  require_settled(f, {0, 1, 2}, 15s);
  const auto stopping = steady_clock::now();
  f.node(0).signal(SIGTERM);
  const auto elapsed = require_settled(f, {1, 2}, 10s, stopping);
  report("handover after SIGTERM (signal to every partition owned by the two others)", elapsed);
  CHECK(elapsed < std::chrono::milliseconds(timings.lease_ms - timings.lease_margin_ms));
  const int status = f.node(0).stop(SIGTERM);  // already stopping: waits for the exit
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  const auto log = f.node(0).log();
  CHECK(log.find("node stopping") != std::string::npos);

  f.start(0);
  require_settled(f, {0, 1, 2}, 15s);
}
