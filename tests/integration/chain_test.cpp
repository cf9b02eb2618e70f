// The signed history of a group (docs/protocol.md sections 6.6, 6.7): a member that arrives late
// trusts no snapshot, only the chain from epoch 1, replayed from `manifests` with the same checks
// as key frames. Done here by hand with crypto/ alone, so the test states the rule, and compared
// with what the test client did by itself.

#include "crypto/identity.hpp"
#include "tests/integration/fixtures.hpp"

using namespace sealcast;
using namespace sealcast::test;
using namespace std::chrono_literals;

namespace {

/// Everything a manifests entry or key frame claims, checked against the previous epoch's set and
/// manifest hash; the new set and this epoch's manifest hash, or the failure.
struct replayed {
  crypto::member_set members;
  crypto::digest32 manifest_hash{};
};

result<replayed> replay(const id16& g, const proto::manifest_entry& m, const crypto::member_set* prev,
                        const crypto::digest32& prev_hash) {
  if (m.custody != proto::key_custody::client) return error{errc::bad_request, "custody changed"};
  if (!m.issuer_pk || crypto::user_id_of(*m.issuer_pk) != m.issuer)
    return error{errc::bad_request, "issuer_pk does not certify the issuer"};
  const auto changes = to_crypto(m.changes);
  crypto::commit_input in;
  in.group = g;
  in.epoch = m.epoch;
  in.custody = m.custody;
  in.policy = m.policy;
  in.issuer = m.issuer;
  in.prev = prev;
  in.changes = changes;
  auto set = crypto::apply_commit(in);  // issuer entitled, proposals verify, changes apply
  if (!set) return set.err();
  crypto::manifest man;
  man.group = g;
  man.epoch = m.epoch;
  man.key_id = m.key_id;
  man.alg = m.alg;
  man.custody = m.custody;
  man.policy = m.policy;
  man.issuer = m.issuer;
  man.prev_hash = prev_hash;
  man.changes_hash = crypto::changes_hash(changes);
  man.members_hash = crypto::members_hash(*set);
  if (!man.verify(m.sig, *m.issuer_pk)) return error{errc::bad_signature, "manifest signature"};
  return replayed{std::move(*set), man.hash()};
}

proto::manifest_entry entry_of(const srv::key& k) {
  return {k.epoch, k.key_id, k.alg, k.custody, k.policy, k.issuer, k.issuer_pk, k.sig, k.changes};
}

}  // namespace

TEST_CASE("a late joiner verifies the client-custody chain from epoch 1 with manifests",
          "[integration][custody][chain]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  auto c = online(f.port(), "c");
  auto late = online(f.port(), "late");
  // A history with every kind of step: genesis, add, promotion, a commit by the promoted admin,
  // a removal, an add by the admin.
  const auto g = make_client_group(*a, {b.get()});  // 1, 2
  REQUIRE(a->set_role(g, b->user_id(), proto::member_role::admin).is_ok());
  REQUIRE(commit_by(*a, g) == 3);
  REQUIRE(b->wait_key(g, 3));
  REQUIRE(b->add_member(g, c->user_id()).is_ok());
  REQUIRE(commit_any({a.get(), b.get()}, g) == 4);
  REQUIRE(a->wait_key(g, 4));
  REQUIRE(a->remove_member(g, c->user_id()).is_ok());
  REQUIRE(commit_any({a.get(), b.get()}, g) == 5);
  REQUIRE(b->wait_key(g, 5));
  REQUIRE(b->add_member(g, late->user_id()).is_ok());
  REQUIRE(commit_any({a.get(), b.get()}, g) == 6);
  REQUIRE(late->wait_key(g, 6));

  // By hand: page through epochs 1..5 (3 pages of 2), then the key frame of epoch 6.
  std::vector<proto::manifest_entry> chain;
  std::uint64_t from = 1;
  for (int pages = 0; pages < 10; ++pages) {
    auto res = late->request(cli::manifests{{}, g, from, 2}).as<proto::manifests_result>();
    chain.insert(chain.end(), res.manifests.begin(), res.manifests.end());
    if (!res.next) break;
    from = *res.next;
  }
  REQUIRE(chain.size() == 6);
  std::optional<crypto::member_set> set;
  crypto::digest32 prev_hash{};
  for (const auto& m : chain) {
    INFO("epoch " << m.epoch);
    auto r = replay(g, m, set ? &*set : nullptr, prev_hash);
    INFO((r ? std::string("ok") : r.err().message));
    REQUIRE(r.ok());
    set = r->members;
    prev_hash = r->manifest_hash;
    const auto* v = late->verified(g, m.epoch);  // what the test client replayed on its own
    REQUIRE(v);
    CHECK(v->manifest_hash == r->manifest_hash);
    CHECK(v->members == r->members);
    CHECK(v->from_manifests == (m.epoch < 6));
  }
  // The epoch-6 key frame agrees with the chain's last entry, and its set is the verified one.
  const auto* k6 = late->key(g, 6);
  REQUIRE(k6);
  CHECK(k6->manifest_hash == prev_hash);
  CHECK(k6->members == *set);
  CHECK(set->size() == 3);
  CHECK(set->at(b->user_id()).role == proto::member_role::admin);
  CHECK(set->at(late->user_id()).kx_pk == to_array<32>(late->identity().kx_pk()));
  CHECK(late->key_errors().empty());
  CHECK(late->key(g, 5) == nullptr);  // the chain, not the keys, of the epochs before it joined

  // What the replay catches: any edit of a signed entry breaks it.
  SECTION("a change edited in transit") {
    auto forged = chain;
    forged[3].changes[0].role = proto::member_role::admin;  // c "added as admin"
    crypto::member_set s;
    crypto::digest32 h{};
    bool failed = false;
    for (std::size_t i = 0; i < forged.size() && !failed; ++i) {
      auto r = replay(g, forged[i], i ? &s : nullptr, h);
      if (!r) {
        failed = true;
      } else {
        s = r->members;
        h = r->manifest_hash;
      }
    }
    CHECK(failed);
  }
  SECTION("an epoch left out") {
    auto r1 = replay(g, chain[0], nullptr, {});
    REQUIRE(r1.ok());
    auto r3 = replay(g, chain[2], &r1->members, r1->manifest_hash);  // epoch 3 on epoch 1
    CHECK_FALSE(r3.ok());
  }
  SECTION("the key frame matches its manifests entry") {
    auto r = replay(g, entry_of(k6->frame), &late->verified(g, 5)->members, late->verified(g, 5)->manifest_hash);
    REQUIRE(r.ok());
    CHECK(r->manifest_hash == k6->manifest_hash);
  }
}
