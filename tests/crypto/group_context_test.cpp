#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "crypto/commit.hpp"
#include "crypto/group_context.hpp"
#include "crypto/group_key.hpp"
#include "crypto/identity.hpp"
#include "vectors.hpp"

using namespace sealcast;
using namespace sealcast::crypto;

namespace {

identity who(std::uint8_t n) {
  return *identity::from_secrets(bytes(32, n), bytes(32, static_cast<std::uint8_t>(n + 100)));
}

// Epoch 1 of a group: alice owner, bob admin, carol member; dave is not in it.
struct group_fixture {
  identity alice = who(1);
  identity bob = who(2);
  identity carol = who(3);
  identity dave = who(4);
  id16 group = *id16::from_hex("ad936fcbed631fa67e05c3ea03953905");
  member_set epoch1;

  group_fixture() {
    epoch1.emplace(alice.user_id(), member_entry{to_array<32>(alice.kx_pk()), member_role::owner});
    epoch1.emplace(bob.user_id(), member_entry{to_array<32>(bob.kx_pk()), member_role::admin});
    epoch1.emplace(carol.user_id(), member_entry{to_array<32>(carol.kx_pk()), member_role::member});
  }

  // A client-custody commit of epoch 2 onto epoch1.
  [[nodiscard]] result<member_set> commit(const identity& issuer, const std::vector<change>& changes,
                                          group_policy policy = group_policy::invite) const {
    return apply_commit({group, 2, key_custody::client, policy, issuer.user_id(), &epoch1, changes});
  }

  // The change proposed by `by` against epoch 1, as a rekey request carries it.
  [[nodiscard]] change proposed(change c, const identity& by, std::uint64_t against = 1) const {
    c.by = by.user_id();
    c.by_pk = to_array<32>(by.sign_pk());
    c.sig = sign_proposal(by.signer(), group, against, c);
    return c;
  }
};

change add(const identity& u, std::optional<member_role> r) {
  return {change_action::add, u.user_id(), to_array<32>(u.kx_pk()), r, {}, {}, {}};
}
change join(const identity& u, std::optional<member_role> r = member_role::member) {
  return {change_action::join, u.user_id(), to_array<32>(u.kx_pk()), r, {}, {}, {}};
}
change remove(const identity& u) { return {change_action::remove, u.user_id(), {}, std::nullopt, {}, {}, {}}; }
change leave(const identity& u) { return {change_action::leave, u.user_id(), {}, std::nullopt, {}, {}, {}}; }
change set_role(const identity& u, std::optional<member_role> r) {
  return {change_action::role, u.user_id(), {}, r, {}, {}, {}};
}

// The error code of a result or status, and that its message names `user`.
template <class R>
std::optional<errc> code_naming(const R& r, const id16& user) {
  if (!r.ok()) {
    INFO(r.err().message);
    CHECK(r.err().message.find(user.hex()) != std::string::npos);
  }
  return test::code_of(r);
}

manifest some_manifest(const group_fixture& f) {
  manifest m;
  m.group = f.group;
  m.epoch = 2;
  m.key_id = *id16::from_hex("f5e49c8ea1fc89bcde83cd05a0411541");
  m.alg = aead_alg::chacha20_poly1305;
  m.custody = key_custody::client;
  m.policy = group_policy::open;
  m.issuer = f.alice.user_id();
  m.prev_hash.fill(0x11);
  m.changes_hash.fill(0x22);
  m.members_hash.fill(0x33);
  return m;
}

}  // namespace

TEST_CASE("change actions and roles keep their wire names and bytes", "[crypto][group_context]") {
  CHECK(static_cast<int>(change_action::add) == 1);
  CHECK(static_cast<int>(change_action::remove) == 2);
  CHECK(static_cast<int>(change_action::role) == 3);
  CHECK(static_cast<int>(change_action::join) == 4);
  CHECK(static_cast<int>(change_action::leave) == 5);
  for (auto a :
       {change_action::add, change_action::remove, change_action::role, change_action::join, change_action::leave}) {
    CHECK(*parse_change_action(to_string(a)) == a);
  }
  CHECK(test::code_of(parse_change_action("kick")) == errc::bad_request);
  CHECK(static_cast<int>(member_role::owner) == 1);
  CHECK(static_cast<int>(member_role::admin) == 2);
  CHECK(static_cast<int>(member_role::member) == 3);
  for (auto r : {member_role::owner, member_role::admin, member_role::member}) {
    CHECK(*parse_member_role(to_string(r)) == r);
  }
  CHECK(test::code_of(parse_member_role("root")) == errc::bad_request);
}

TEST_CASE("change lines are 50 bytes with zeros where an action has no key or role", "[crypto][group_context]") {
  const group_fixture f;
  const bytes a = add(f.bob, member_role::admin).line();
  REQUIRE(a.size() == change_line_size);
  CHECK(a[0] == 1);
  CHECK(std::equal(a.begin() + 1, a.begin() + 17, f.bob.user_id().b.begin()));
  CHECK(std::equal(a.begin() + 17, a.begin() + 49, f.bob.kx_pk().begin()));
  CHECK(a[49] == 2);

  // A key or role left in a change that has none is not part of what is signed or hashed.
  change r = remove(f.bob);
  r.kx_pk = to_array<32>(f.bob.kx_pk());
  r.role = member_role::admin;
  const bytes rl = r.line();
  CHECK(rl[0] == 2);
  CHECK(std::all_of(rl.begin() + 17, rl.end(), [](auto b) { return b == 0; }));
  CHECK(rl == remove(f.bob).line());

  change s = set_role(f.bob, member_role::member);
  s.kx_pk = to_array<32>(f.bob.kx_pk());
  const bytes sl = s.line();
  CHECK(sl[0] == 3);
  CHECK(std::all_of(sl.begin() + 17, sl.begin() + 49, [](auto b) { return b == 0; }));
  CHECK(sl[49] == 3);
  CHECK(leave(f.carol).line()[0] == 5);
  CHECK(join(f.dave).line()[49] == 3);
}

TEST_CASE("members_hash covers the sorted member lines and changes_hash the lines in order",
          "[crypto][group_context]") {
  const group_fixture f;
  bytes expected;
  append(expected, std::string_view("sealcast/v2/members"));
  put_u32be(expected, 3);
  for (const auto& [user, e] : f.epoch1) {  // std::map: sorted by id bytes
    append(expected, user.view());
    append(expected, e.kx_pk);
    expected.push_back(static_cast<std::uint8_t>(e.role));
  }
  CHECK(members_hash(f.epoch1) == sha256(expected));
  CHECK(expected.size() == 19 + 4 + 3 * 49);

  bytes empty;
  append(empty, std::string_view("sealcast/v2/members"));
  put_u32be(empty, 0);
  CHECK(members_hash({}) == sha256(empty));

  member_set promoted = f.epoch1;
  promoted[f.carol.user_id()].role = member_role::admin;
  CHECK(members_hash(promoted) != members_hash(f.epoch1));

  const std::vector<change> two = {add(f.dave, member_role::member), remove(f.carol)};
  bytes ch;
  append(ch, std::string_view("sealcast/v2/changes"));
  put_u32be(ch, 2);
  append(ch, two[0].line());
  append(ch, two[1].line());
  CHECK(changes_hash(two) == sha256(ch));
  const std::vector<change> swapped = {two[1], two[0]};
  CHECK(changes_hash(swapped) != changes_hash(two));

  bytes none;  // a rotation without changes (section 6.8)
  append(none, std::string_view("sealcast/v2/changes"));
  put_u32be(none, 0);
  CHECK(changes_hash({}) == sha256(none));
}

TEST_CASE("manifest canonical bytes lay out every field in order", "[crypto][group_context]") {
  const group_fixture f;
  const manifest m = some_manifest(f);
  const bytes b = m.canonical_bytes();
  REQUIRE(b.size() == manifest_size);
  CHECK(manifest_size == 175);
  std::size_t at = 0;
  const auto take = [&](std::size_t n) {
    bytes out(b.begin() + static_cast<std::ptrdiff_t>(at), b.begin() + static_cast<std::ptrdiff_t>(at + n));
    at += n;
    return out;
  };
  CHECK(take(20) == bytes(manifest_label.begin(), manifest_label.end()));
  CHECK(take(16) == bytes(m.group.b.begin(), m.group.b.end()));
  CHECK(take(8) == bytes{0, 0, 0, 0, 0, 0, 0, 2});
  CHECK(take(16) == bytes(m.key_id.b.begin(), m.key_id.b.end()));
  CHECK(take(3) == bytes{2, 2, 2});  // chacha20-poly1305, client, open
  CHECK(take(16) == bytes(m.issuer.b.begin(), m.issuer.b.end()));
  CHECK(take(32) == bytes(32, 0x11));
  CHECK(take(32) == bytes(32, 0x22));
  CHECK(take(32) == bytes(32, 0x33));
  CHECK(at == b.size());
  CHECK(m.hash() == sha256(b));
}

TEST_CASE("a manifest signature verifies only for its issuer and its exact fields", "[crypto][group_context]") {
  const group_fixture f;
  const manifest m = some_manifest(f);
  const sig64 sig = m.sign(f.alice.signer());
  CHECK(m.verify(sig, f.alice.sign_pk()));
  CHECK_FALSE(m.verify(sig, f.bob.sign_pk()));
  CHECK_FALSE(m.verify(byte_view(sig).first(63), f.alice.sign_pk()));
  sig64 bad = sig;
  bad[10] ^= 1;
  CHECK_FALSE(m.verify(bad, f.alice.sign_pk()));

  const auto changed = [&](auto&& mutate) {
    manifest c = m;
    mutate(c);
    return c.verify(sig, f.alice.sign_pk());
  };
  CHECK_FALSE(changed([](manifest& c) { c.epoch += 1; }));
  CHECK_FALSE(changed([](manifest& c) { c.group.b[0] ^= 1; }));
  CHECK_FALSE(changed([](manifest& c) { c.key_id.b[0] ^= 1; }));
  CHECK_FALSE(changed([](manifest& c) { c.alg = aead_alg::aes_256_gcm; }));
  CHECK_FALSE(changed([](manifest& c) { c.custody = key_custody::broker; }));
  CHECK_FALSE(changed([](manifest& c) { c.policy = group_policy::invite; }));
  CHECK_FALSE(changed([&](manifest& c) { c.issuer = f.bob.user_id(); }));
  CHECK_FALSE(changed([](manifest& c) { c.prev_hash[31] ^= 1; }));
  CHECK_FALSE(changed([](manifest& c) { c.changes_hash[0] ^= 1; }));
  CHECK_FALSE(changed([](manifest& c) { c.members_hash[5] ^= 1; }));
}

TEST_CASE("proposals verify only for their group, epoch, change and proposer", "[crypto][group_context]") {
  const group_fixture f;
  const change c = add(f.dave, member_role::member);
  const sig64 sig = sign_proposal(f.bob.signer(), f.group, 1, c);
  const bytes tbs = proposal_tbs(f.group, 1, c, f.bob.user_id());
  CHECK(tbs.size() == 20 + 16 + 8 + 50 + 16);
  CHECK(ed25519_verify(f.bob.sign_pk(), tbs, sig));
  CHECK(verify_proposal(f.group, 1, c, f.bob.user_id(), f.bob.sign_pk(), sig).ok());

  CHECK(test::code_of(verify_proposal(f.group, 2, c, f.bob.user_id(), f.bob.sign_pk(), sig)) == errc::bad_signature);
  id16 other_group = f.group;
  other_group.b[3] ^= 1;
  CHECK(test::code_of(verify_proposal(other_group, 1, c, f.bob.user_id(), f.bob.sign_pk(), sig)) ==
        errc::bad_signature);
  CHECK(test::code_of(verify_proposal(f.group, 1, add(f.dave, member_role::admin), f.bob.user_id(), f.bob.sign_pk(),
                                      sig)) == errc::bad_signature);
  // by_pk must be the proposer's own key.
  CHECK(test::code_of(verify_proposal(f.group, 1, c, f.bob.user_id(), f.alice.sign_pk(), sig)) == errc::bad_key);
  CHECK(test::code_of(verify_proposal(f.group, 1, c, f.alice.user_id(), f.bob.sign_pk(), sig)) == errc::bad_key);
  CHECK(test::code_of(verify_proposal(f.group, 1, c, f.bob.user_id(), byte_view(f.bob.sign_pk()).first(31), sig)) ==
        errc::bad_key);
}

TEST_CASE("entitlement: add is for owners and admins, of a non-member, as member or admin", "[crypto][group_context]") {
  const group_fixture f;
  const auto& p = f.epoch1;
  CHECK(check_entitlement(p, group_policy::invite, add(f.dave, member_role::member), f.alice.user_id()).ok());
  CHECK(check_entitlement(p, group_policy::invite, add(f.dave, member_role::admin), f.bob.user_id()).ok());
  CHECK(code_naming(check_entitlement(p, group_policy::invite, add(f.dave, member_role::member), f.carol.user_id()),
                    f.carol.user_id()) == errc::forbidden);
  CHECK(code_naming(check_entitlement(p, group_policy::open, add(f.dave, member_role::member), f.dave.user_id()),
                    f.dave.user_id()) == errc::forbidden);
  CHECK(code_naming(check_entitlement(p, group_policy::invite, add(f.carol, member_role::member), f.alice.user_id()),
                    f.carol.user_id()) == errc::forbidden);
  CHECK(test::code_of(check_entitlement(p, group_policy::invite, add(f.dave, member_role::owner), f.alice.user_id())) ==
        errc::forbidden);
  CHECK(test::code_of(check_entitlement(p, group_policy::invite, add(f.dave, std::nullopt), f.alice.user_id())) ==
        errc::forbidden);
}

TEST_CASE("entitlement: remove and role are for owners and admins, never of the owner", "[crypto][group_context]") {
  const group_fixture f;
  const auto& p = f.epoch1;
  for (const identity* by : {&f.alice, &f.bob}) {
    CHECK(check_entitlement(p, group_policy::invite, remove(f.carol), by->user_id()).ok());
    CHECK(check_entitlement(p, group_policy::invite, set_role(f.carol, member_role::admin), by->user_id()).ok());
  }
  CHECK(check_entitlement(p, group_policy::invite, remove(f.bob), f.bob.user_id()).ok());  // an admin may go
  CHECK(check_entitlement(p, group_policy::invite, set_role(f.bob, member_role::member), f.alice.user_id()).ok());
  for (const identity* by : {&f.carol, &f.dave}) {
    CHECK(code_naming(check_entitlement(p, group_policy::invite, remove(f.bob), by->user_id()), by->user_id()) ==
          errc::forbidden);
    CHECK(code_naming(check_entitlement(p, group_policy::invite, set_role(f.carol, member_role::admin), by->user_id()),
                      by->user_id()) == errc::forbidden);
  }
  CHECK(code_naming(check_entitlement(p, group_policy::invite, remove(f.alice), f.bob.user_id()), f.alice.user_id()) ==
        errc::forbidden);
  CHECK(code_naming(check_entitlement(p, group_policy::invite, set_role(f.alice, member_role::admin), f.bob.user_id()),
                    f.alice.user_id()) == errc::forbidden);
  CHECK(test::code_of(check_entitlement(p, group_policy::invite, set_role(f.carol, member_role::owner),
                                        f.alice.user_id())) == errc::forbidden);
}

TEST_CASE("entitlement: join is by the subject itself, as member, in an open group", "[crypto][group_context]") {
  const group_fixture f;
  const auto& p = f.epoch1;
  CHECK(check_entitlement(p, group_policy::open, join(f.dave), f.dave.user_id()).ok());
  CHECK(code_naming(check_entitlement(p, group_policy::invite, join(f.dave), f.dave.user_id()), f.dave.user_id()) ==
        errc::forbidden);
  CHECK(code_naming(check_entitlement(p, group_policy::open, join(f.dave), f.alice.user_id()), f.dave.user_id()) ==
        errc::forbidden);
  CHECK(test::code_of(check_entitlement(p, group_policy::open, join(f.dave, member_role::admin), f.dave.user_id())) ==
        errc::forbidden);
}

TEST_CASE("entitlement: leave is by the subject itself, a member, not the owner", "[crypto][group_context]") {
  const group_fixture f;
  const auto& p = f.epoch1;
  CHECK(check_entitlement(p, group_policy::invite, leave(f.carol), f.carol.user_id()).ok());
  CHECK(check_entitlement(p, group_policy::invite, leave(f.bob), f.bob.user_id()).ok());
  CHECK(code_naming(check_entitlement(p, group_policy::invite, leave(f.carol), f.alice.user_id()), f.carol.user_id()) ==
        errc::forbidden);
  CHECK(code_naming(check_entitlement(p, group_policy::invite, leave(f.dave), f.dave.user_id()), f.dave.user_id()) ==
        errc::forbidden);
  CHECK(code_naming(check_entitlement(p, group_policy::invite, leave(f.alice), f.alice.user_id()), f.alice.user_id()) ==
        errc::forbidden);
}

TEST_CASE("changes apply to a member set as section 6.1 says", "[crypto][group_context]") {
  const group_fixture f;
  member_set s = f.epoch1;
  REQUIRE(apply_change(s, add(f.dave, member_role::member)).ok());
  CHECK(s.at(f.dave.user_id()) == member_entry{to_array<32>(f.dave.kx_pk()), member_role::member});
  REQUIRE(apply_change(s, set_role(f.dave, member_role::admin)).ok());
  CHECK(s.at(f.dave.user_id()).role == member_role::admin);
  REQUIRE(apply_change(s, remove(f.dave)).ok());
  CHECK_FALSE(s.contains(f.dave.user_id()));
  REQUIRE(apply_change(s, join(f.dave)).ok());
  REQUIRE(apply_change(s, leave(f.dave)).ok());
  CHECK(s == f.epoch1);
}

TEST_CASE("every inapplicable change is refused and leaves the set as it was", "[crypto][group_context]") {
  const group_fixture f;
  const std::vector<std::pair<const char*, change>> cases = {
      {"add of a member", add(f.carol, member_role::member)},
      {"join of a member", join(f.carol)},
      {"add without a role", add(f.dave, std::nullopt)},
      {"join as admin", join(f.dave, member_role::admin)},
      {"remove of a non-member", remove(f.dave)},
      {"remove of the owner", remove(f.alice)},
      {"leave of a non-member", leave(f.dave)},
      {"leave of the owner", leave(f.alice)},
      {"role of a non-member", set_role(f.dave, member_role::admin)},
      {"role of the owner", set_role(f.alice, member_role::admin)},
      {"role already held", set_role(f.bob, member_role::admin)},
      {"role owner", set_role(f.carol, member_role::owner)},
      {"role without a role", set_role(f.carol, std::nullopt)},
      {"unknown action", {static_cast<change_action>(9), f.dave.user_id(), {}, member_role::member, {}, {}, {}}},
  };
  for (const auto& [what, c] : cases) {
    INFO(what);
    member_set s = f.epoch1;
    CHECK(code_naming(apply_change(s, c), c.user) == errc::bad_request);
    CHECK(s == f.epoch1);
  }
}

TEST_CASE("genesis in client custody: the creator adds itself as owner, alone", "[crypto][group_context]") {
  const group_fixture f;
  const auto genesis = [&](const identity& issuer, const std::vector<change>& changes) {
    return apply_commit({f.group, 1, key_custody::client, group_policy::invite, issuer.user_id(), nullptr, changes});
  };
  auto ok = genesis(f.alice, {add(f.alice, member_role::owner)});
  REQUIRE(ok.ok());
  CHECK(ok->size() == 1);
  CHECK(ok->at(f.alice.user_id()).role == member_role::owner);

  // No proposal needed, and a previous set given by mistake is ignored: epoch 1 starts empty.
  auto ignores_prev = apply_commit({f.group, 1, key_custody::client, group_policy::invite, f.alice.user_id(), &f.epoch1,
                                    std::vector<change>{add(f.alice, member_role::owner)}});
  REQUIRE(ignores_prev.ok());
  CHECK(ignores_prev->size() == 1);

  CHECK(code_naming(genesis(f.bob, {add(f.alice, member_role::owner)}), f.bob.user_id()) == errc::bad_request);
  CHECK(test::code_of(genesis(f.alice, {add(f.alice, member_role::owner), add(f.bob, member_role::member)})) ==
        errc::bad_request);
  CHECK(code_naming(genesis(f.alice, {add(f.alice, member_role::admin)}), f.alice.user_id()) == errc::bad_request);
  CHECK(test::code_of(genesis(f.alice, {join(f.alice, member_role::owner)})) == errc::bad_request);
  CHECK(test::code_of(genesis(f.alice, {})) == errc::bad_request);
}

TEST_CASE("genesis in broker custody: the creator as owner first, then members", "[crypto][group_context]") {
  const group_fixture f;
  const id16 broker = who(9).user_id();
  const auto genesis = [&](const std::vector<change>& changes) {
    return apply_commit({f.group, 1, key_custody::broker, group_policy::open, broker, nullptr, changes});
  };
  auto ok =
      genesis({add(f.alice, member_role::owner), add(f.bob, member_role::member), add(f.carol, member_role::member)});
  REQUIRE(ok.ok());
  CHECK(ok->size() == 3);
  CHECK(ok->at(f.alice.user_id()).role == member_role::owner);
  CHECK(genesis({add(f.alice, member_role::owner)}).ok());

  CHECK(code_naming(genesis({add(f.alice, member_role::owner), add(f.bob, member_role::owner)}), f.bob.user_id()) ==
        errc::bad_request);
  CHECK(test::code_of(genesis({add(f.bob, member_role::member), add(f.alice, member_role::owner)})) ==
        errc::bad_request);
  CHECK(code_naming(genesis({add(f.alice, member_role::owner), add(f.alice, member_role::member)}),
                    f.alice.user_id()) == errc::bad_request);
  CHECK(test::code_of(genesis({})) == errc::bad_request);
}

TEST_CASE("a client-custody commit applies proposed changes by entitled proposers", "[crypto][group_context]") {
  const group_fixture f;
  auto next = f.commit(f.bob, {f.proposed(add(f.dave, member_role::member), f.alice),
                               f.proposed(set_role(f.carol, member_role::admin), f.bob),
                               f.proposed(set_role(f.dave, member_role::admin), f.bob)});
  REQUIRE(next.ok());
  CHECK(next->size() == 4);
  CHECK(next->at(f.carol.user_id()).role == member_role::admin);
  CHECK(next->at(f.dave.user_id()).role == member_role::admin);

  // A rotation without changes, and a member leaving of its own accord.
  auto rotated = f.commit(f.alice, {});
  REQUIRE(rotated.ok());
  CHECK(*rotated == f.epoch1);
  auto left = f.commit(f.alice, {f.proposed(leave(f.carol), f.carol)});
  REQUIRE(left.ok());
  CHECK_FALSE(left->contains(f.carol.user_id()));
}

TEST_CASE("a ghost member (a change without a proposal) is refused in client custody", "[crypto][group_context]") {
  const group_fixture f;
  CHECK(code_naming(f.commit(f.alice, {add(f.dave, member_role::member)}), f.dave.user_id()) == errc::bad_signature);
  change no_sig = f.proposed(add(f.dave, member_role::member), f.alice);
  no_sig.sig.reset();
  CHECK(test::code_of(f.commit(f.alice, {no_sig})) == errc::bad_signature);
  change no_pk = f.proposed(add(f.dave, member_role::member), f.alice);
  no_pk.by_pk.reset();
  CHECK(test::code_of(f.commit(f.alice, {no_pk})) == errc::bad_signature);
  // A genuine proposal followed by a ghost: the whole commit is refused.
  CHECK(test::code_of(f.commit(f.alice, {f.proposed(remove(f.carol), f.alice), add(f.dave, member_role::admin)})) ==
        errc::bad_signature);
}

TEST_CASE("a proposal whose by_pk is not by's key, or with a bad signature, is refused", "[crypto][group_context]") {
  const group_fixture f;
  change c = f.proposed(add(f.dave, member_role::member), f.alice);
  c.by = f.bob.user_id();  // claims bob asked, with alice's key and signature
  CHECK(code_naming(f.commit(f.alice, {c}), f.bob.user_id()) == errc::bad_key);
  change tampered = f.proposed(add(f.dave, member_role::member), f.alice);
  tampered.role = member_role::admin;  // the broker upgrades the role after the fact
  CHECK(code_naming(f.commit(f.alice, {tampered}), f.dave.user_id()) == errc::bad_signature);
}

TEST_CASE("a proposal signed against another epoch is refused", "[crypto][group_context]") {
  const group_fixture f;
  CHECK(code_naming(f.commit(f.alice, {f.proposed(add(f.dave, member_role::member), f.alice, 2)}), f.alice.user_id()) ==
        errc::bad_signature);
  CHECK(test::code_of(f.commit(f.alice, {f.proposed(add(f.dave, member_role::member), f.alice, 0)})) ==
        errc::bad_signature);
}

TEST_CASE("a forged admin (issuer not owner or admin of the previous epoch) is refused", "[crypto][group_context]") {
  const group_fixture f;
  const std::vector<change> changes = {f.proposed(add(f.dave, member_role::member), f.alice)};
  CHECK(code_naming(f.commit(f.carol, changes), f.carol.user_id()) == errc::forbidden);
  CHECK(code_naming(f.commit(f.dave, changes), f.dave.user_id()) == errc::forbidden);
  // Carol promoted in this very commit is not yet entitled to issue it.
  CHECK(test::code_of(f.commit(f.carol, {f.proposed(set_role(f.carol, member_role::admin), f.alice)})) ==
        errc::forbidden);
  // An issuer that leaves the owners and admins in its own commit is refused too.
  CHECK(code_naming(f.commit(f.bob, {f.proposed(set_role(f.bob, member_role::member), f.alice)}), f.bob.user_id()) ==
        errc::forbidden);
  CHECK(test::code_of(f.commit(f.bob, {f.proposed(leave(f.bob), f.bob)})) == errc::forbidden);
}

TEST_CASE("a proposal by a non-admin is refused", "[crypto][group_context]") {
  const group_fixture f;
  CHECK(code_naming(f.commit(f.alice, {f.proposed(add(f.dave, member_role::member), f.carol)}), f.carol.user_id()) ==
        errc::forbidden);
  CHECK(code_naming(f.commit(f.alice, {f.proposed(remove(f.bob), f.carol)}), f.carol.user_id()) == errc::forbidden);
  // Entitlement is judged on the previous epoch: carol promoted earlier in the commit is not yet admin.
  CHECK(test::code_of(f.commit(f.alice, {f.proposed(set_role(f.carol, member_role::admin), f.alice),
                                         f.proposed(add(f.dave, member_role::member), f.carol)})) == errc::forbidden);
  // Someone else's leave.
  CHECK(test::code_of(f.commit(f.alice, {f.proposed(leave(f.carol), f.bob)})) == errc::forbidden);
}

TEST_CASE("a join is refused in an invite-only group and accepted in an open one", "[crypto][group_context]") {
  const group_fixture f;
  const std::vector<change> changes = {f.proposed(join(f.dave), f.dave)};
  CHECK(code_naming(f.commit(f.alice, changes, group_policy::invite), f.dave.user_id()) == errc::forbidden);
  auto open = f.commit(f.alice, changes, group_policy::open);
  REQUIRE(open.ok());
  CHECK(open->at(f.dave.user_id()).role == member_role::member);
}

TEST_CASE("the owner cannot be removed, demoted or made twice", "[crypto][group_context]") {
  const group_fixture f;
  CHECK(code_naming(f.commit(f.bob, {f.proposed(remove(f.alice), f.bob)}), f.alice.user_id()) == errc::forbidden);
  CHECK(code_naming(f.commit(f.bob, {f.proposed(set_role(f.alice, member_role::member), f.bob)}), f.alice.user_id()) ==
        errc::forbidden);
  CHECK(code_naming(f.commit(f.alice, {f.proposed(leave(f.alice), f.alice)}), f.alice.user_id()) == errc::forbidden);
  CHECK(code_naming(f.commit(f.alice, {f.proposed(add(f.dave, member_role::owner), f.alice)}), f.dave.user_id()) ==
        errc::bad_request);
  CHECK(test::code_of(f.commit(f.alice, {f.proposed(set_role(f.bob, member_role::owner), f.alice)})) ==
        errc::bad_request);
}

TEST_CASE("an entitled but inapplicable change fails the commit", "[crypto][group_context]") {
  const group_fixture f;
  CHECK(code_naming(f.commit(f.alice, {f.proposed(add(f.dave, member_role::member), f.alice),
                                       f.proposed(add(f.dave, member_role::admin), f.bob)}),
                    f.dave.user_id()) == errc::bad_request);
  CHECK(code_naming(f.commit(f.alice, {f.proposed(remove(f.dave), f.alice)}), f.dave.user_id()) == errc::bad_request);
  CHECK(test::code_of(f.commit(f.alice, {f.proposed(set_role(f.bob, member_role::admin), f.alice)})) ==
        errc::bad_request);
}

TEST_CASE("a broker-custody commit needs no proposals but only applicable changes", "[crypto][group_context]") {
  const group_fixture f;
  const id16 broker = who(9).user_id();
  const auto commit = [&](const std::vector<change>& changes) {
    return apply_commit({f.group, 2, key_custody::broker, group_policy::invite, broker, &f.epoch1, changes});
  };
  auto next = commit({add(f.dave, member_role::member), remove(f.carol)});
  REQUIRE(next.ok());
  CHECK(next->contains(f.dave.user_id()));
  CHECK_FALSE(next->contains(f.carol.user_id()));
  CHECK(commit({}).ok());
  CHECK(code_naming(commit({remove(f.alice)}), f.alice.user_id()) == errc::bad_request);
  CHECK(test::code_of(commit({add(f.dave, member_role::owner)})) == errc::bad_request);
  CHECK(test::code_of(commit({remove(f.dave)})) == errc::bad_request);
}

TEST_CASE("commits need an epoch, a previous set after the first, and known enums", "[crypto][group_context]") {
  const group_fixture f;
  const std::vector<change> none;
  CHECK(test::code_of(apply_commit({f.group, 0, key_custody::client, group_policy::invite, f.alice.user_id(), &f.epoch1,
                                    none})) == errc::bad_request);
  CHECK(test::code_of(apply_commit({f.group, 2, key_custody::client, group_policy::invite, f.alice.user_id(), nullptr,
                                    none})) == errc::bad_request);
  CHECK(test::code_of(apply_commit({f.group, 2, static_cast<key_custody>(3), group_policy::invite, f.alice.user_id(),
                                    &f.epoch1, none})) == errc::bad_request);
  CHECK(test::code_of(apply_commit({f.group, 2, key_custody::client, static_cast<group_policy>(0), f.alice.user_id(),
                                    &f.epoch1, none})) == errc::bad_request);
}

TEST_CASE("a proposal replayed within one commit is refused: add, remove, add again", "[crypto][group_context]") {
  const group_fixture f;
  const auto add_dave = f.proposed(add(f.dave, member_role::member), f.alice);
  const auto remove_dave = f.proposed(remove(f.dave), f.alice);
  // Without the rule the broker could append alice's first add after her removal of dave, and
  // dave would be back with no one having asked for it.
  CHECK(f.commit(f.alice, {add_dave, remove_dave}).ok());
  CHECK(code_naming(f.commit(f.alice, {add_dave, remove_dave, add_dave}), f.dave.user_id()) == errc::bad_request);
  // The same change by another entitled proposer is another proposal.
  CHECK(f.commit(f.alice, {add_dave, remove_dave, f.proposed(add(f.dave, member_role::member), f.bob)}).ok());
}

TEST_CASE("seal_commit wraps a fresh key to every member and signs the manifest members check", "[crypto][group_context]") {
  const group_fixture f;
  const std::vector<change> changes{f.proposed(add(f.dave, member_role::member), f.alice)};
  auto next = f.commit(f.alice, changes);
  REQUIRE(next.ok());
  const digest32 prev{};
  auto sealed = seal_commit(f.alice.signer(), {f.group, 2, aead_alg::aes_256_gcm, group_policy::invite, prev, changes, &*next});
  REQUIRE(sealed.ok());
  CHECK(sealed->man.issuer == f.alice.user_id());
  CHECK(sealed->man.custody == key_custody::client);
  CHECK(sealed->man.members_hash == members_hash(*next));
  CHECK(sealed->man.changes_hash == changes_hash(changes));
  CHECK(sealed->man.key_id == key_id(f.group, 2, sealed->key));
  CHECK(sealed->man.verify(sealed->sig, f.alice.sign_pk()));
  REQUIRE(sealed->wrapped.size() == next->size());
  for (const auto* m : {&f.alice, &f.bob, &f.carol, &f.dave}) {
    auto k = unwrap_group_key(m->kx_sk(), f.group, 2, sealed->man.key_id, sealed->wrapped.at(m->user_id()));
    REQUIRE(k.ok());
    CHECK(*k == sealed->key);
  }
  CHECK_FALSE(seal_commit(f.alice.signer(), {f.group, 2, aead_alg::aes_256_gcm, group_policy::invite, prev, changes, nullptr}).ok());
}
