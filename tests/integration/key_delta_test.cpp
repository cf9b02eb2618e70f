// Key frames carry the delta (docs/protocol.md section 6.2): a change costs each member a frame
// whose size does not grow with the group, and every member rebuilds the same member set from the
// previous one and the changes. In v1 each frame listed the whole membership (about 110 bytes
// per member: 5.5 KB for 50 members), so a change cost O(n) per member and O(n^2) in all.

#include "tests/integration/fixtures.hpp"

using namespace sealcast;
using namespace sealcast::test;
using namespace std::chrono_literals;

namespace {

/// The set as group_info lists it: user -> role.
std::map<id16, proto::member_role> roles_of(const proto::group_info_result& info) {
  std::map<id16, proto::member_role> out;
  for (const auto& m : info.members) out.emplace(m.user, m.role);
  return out;
}

std::map<id16, proto::member_role> roles_of(const crypto::member_set& set) {
  std::map<id16, proto::member_role> out;
  for (const auto& [user, entry] : set) out.emplace(user, entry.role);
  return out;
}

}  // namespace

TEST_CASE("broker custody: a 1-change key frame in a 50-member group is small; members rebuild the set",
          "[integration][delta]") {
  constexpr std::size_t n = 50;
  broker_fixture f;
  std::vector<std::unique_ptr<test_client>> clients;
  for (std::size_t i = 0; i < n; ++i) clients.push_back(online(f.port(), "m" + std::to_string(i)));
  auto& owner = *clients[0];
  std::vector<test_client*> others;
  for (std::size_t i = 1; i + 1 < n; ++i) others.push_back(clients[i].get());
  const auto g = make_group(owner, others);  // 49 members
  // Epoch 1 lists everyone once: one add per member, the owner first.
  const auto* k1 = clients[1]->key(g, 1);
  REQUIRE(k1->frame.changes.size() == n - 1);
  CHECK(k1->frame.changes[0].user == owner.user_id());
  CHECK(k1->frame.changes[0].role == proto::member_role::owner);

  auto& newcomer = *clients[n - 1];
  REQUIRE(owner.add_member(g, newcomer.user_id()).is_ok());
  for (auto& c : clients) REQUIRE(c->wait_key(g, 2));

  const auto expected = roles_of(owner.request(cli::group_info{{}, g}).as<proto::group_info_result>());
  REQUIRE(expected.size() == n);
  std::size_t largest = 0;
  for (auto& c : clients) {
    INFO("member " << c->user_id().hex());
    const auto* k = c->key(g, 2);
    REQUIRE(k);
    CHECK(k->frame.changes.size() == 1);
    CHECK(k->frame.changes[0].user == newcomer.user_id());
    CHECK_FALSE(k->frame.issuer_pk);  // broker custody: the challenge gave the broker's key
    CHECK(k->manifest_verified);
    CHECK(k->members.size() == n);
    CHECK(roles_of(k->members) == expected);
    CHECK(k->manifest_hash == owner.key(g, 2)->manifest_hash);
    CHECK(c->key_errors().empty());
    largest = std::max(largest, k->frame_bytes);
  }
  INFO("largest epoch-2 key frame: " << largest << " bytes; epoch 1: " << k1->frame_bytes);
  CHECK(largest > 0);
  CHECK(largest < 1024);
  CHECK(k1->frame_bytes > 10 * largest);  // epoch 1 names 49 members; epoch 2, one
  // The newcomer knew nothing of the group: it replayed epoch 1 from manifests before installing 2.
  REQUIRE(newcomer.verified(g, 1));
  CHECK(newcomer.verified(g, 1)->from_manifests);
  CHECK(newcomer.key(g, 1) == nullptr);

  // A removal: one change again, and the set shrinks the same way for everyone.
  REQUIRE(owner.remove_member(g, clients[5]->user_id()).is_ok());
  for (std::size_t i = 0; i < n; ++i) {
    if (i == 5) continue;
    REQUIRE(clients[i]->wait_key(g, 3));
    const auto* k = clients[i]->key(g, 3);
    CHECK(k->frame.changes.size() == 1);
    CHECK(k->frame.changes[0].action == proto::change_action::remove);
    CHECK(k->members.size() == n - 1);
    CHECK(k->frame_bytes < 1024);
  }
}
