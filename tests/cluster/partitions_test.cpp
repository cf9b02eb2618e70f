// The hashes every node must compute alike (docs/cluster.md, "Partitions"): known answers pin
// them, so a change that would make two versions disagree fails here first.
#include <map>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch_test_macros.hpp>

#include "cluster/partitions.hpp"

using namespace sealcast;

namespace {

id16 group_of(std::uint8_t first) {
  id16 g;
  for (std::size_t i = 0; i < g.b.size(); ++i) g.b[i] = static_cast<std::uint8_t>(first + i);
  return g;
}

}  // namespace

TEST_CASE("the partition hash is FNV-1a 64 then the murmur3 finalizer, mod P", "[partitions]") {
  // FNV-1a's published test vectors.
  const std::string a = "a";
  CHECK(cluster::fnv1a64({}) == 0xcbf29ce484222325ULL);
  CHECK(cluster::fnv1a64(byte_view(reinterpret_cast<const std::uint8_t*>(a.data()), a.size())) ==
        0xaf63dc4c8601ec8cULL);
  CHECK(cluster::mix64(0) == 0);
  CHECK(cluster::mix64(1) == 0xb456bcfc34c2cb2cULL);
  // Pinned answers (computed independently): changing them splits a cluster of mixed versions.
  CHECK(cluster::partition_of(id16{}, 64) == 10);
  CHECK(cluster::partition_of(group_of(0), 64) == 38);  // bytes 00 01 .. 0f
  CHECK(cluster::partition_of(group_of(0), 1) == 0);
  CHECK(cluster::rendezvous_score("n0", 0) == 0xde23e365f3972620ULL);
}

TEST_CASE("groups spread evenly over partitions", "[partitions]") {
  std::vector<int> counts(64);
  for (int i = 0; i < 64000; ++i) {
    id16 g;
    for (std::size_t k = 0; k < 4; ++k) g.b[k] = static_cast<std::uint8_t>(i >> (8 * k));
    ++counts[cluster::partition_of(g, 64)];
  }
  for (int c : counts) {
    CHECK(c > 800);
    CHECK(c < 1200);
  }
}

TEST_CASE("rendezvous: a joining node takes only partitions it wins, a leaving one gives up only its own",
          "[partitions]") {
  const std::vector<std::string> three = {"n0", "n1", "n2"};
  const std::vector<std::string> four = {"n0", "n1", "n2", "n3"};
  std::map<std::string, int> owned;
  for (std::uint32_t p = 0; p < 64; ++p) {
    const auto before = cluster::desired_owner(three, p);
    const auto after = cluster::desired_owner(four, p);
    ++owned[before];
    if (after != before) CHECK(after == "n3");
    // The same answer whatever the order of the list.
    CHECK(cluster::desired_owner(std::vector<std::string>{"n2", "n0", "n1"}, p) == before);
    const std::vector<std::string> two = {"n0", "n2"};
    if (before != "n1") CHECK(cluster::desired_owner(two, p) == before);
  }
  CHECK(owned.size() == 3);
  for (const auto& [node, n] : owned) CHECK(n >= 10);  // 64 / 3 on average
  CHECK(cluster::desired_owner(std::vector<std::string>{}, 0).empty());
  CHECK(cluster::lease_key(17) == "p.17");
}
