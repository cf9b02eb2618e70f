// What a member checks before it believes an epoch (client/verify, docs/protocol.md section 6.6),
// fed with forged frames a malicious broker or member could send: a custody downgrade, a
// broker-signed client-custody epoch, an invented admin, a member added without a proposal, a
// broken chain, a delta that does not match what was signed, a set without this user. Each is
// refused with its warning kind; honest chains pass. Also the URL parser.

#include <catch2/catch_test_macros.hpp>

#include "client/url.hpp"
#include "client/verify.hpp"
#include "crypto/group_key.hpp"
#include "crypto/random.hpp"

namespace sealcast::test {
namespace {

namespace cd = sealcast::client::detail;
using crypto::change_action;
using sealcast::client::warning_kind;

template <std::size_t N>
std::array<std::uint8_t, N> arr(byte_view v) {
  std::array<std::uint8_t, N> a{};
  std::copy(v.begin(), v.end(), a.begin());
  return a;
}

struct world {
  crypto::identity broker = crypto::identity::generate();
  crypto::identity me = crypto::identity::generate();
  crypto::identity alice = crypto::identity::generate();  // the owner
  crypto::identity carol = crypto::identity::generate();  // a plain member
  crypto::identity mallory = crypto::identity::generate();
  id16 group = crypto::random_id();

  [[nodiscard]] cd::check_context ctx() const { return cd::check_context{&me, broker.user_id(), broker.sign_pk()}; }

  /// A change asked for by `proposer` against epoch `e` (section 6.3); no proposal when
  /// `proposer` is null (broker custody, or a forgery).
  [[nodiscard]] crypto::change change(change_action a, const crypto::identity& subject, std::optional<member_role> role,
                                      const crypto::identity* proposer, std::uint64_t e) const {
    crypto::change c;
    c.action = a;
    c.user = subject.user_id();
    if (a == change_action::add || a == change_action::join) c.kx_pk = arr<32>(subject.kx_pk());
    c.role = role;
    if (proposer) {
      c.by = proposer->user_id();
      c.by_pk = arr<32>(proposer->sign_pk());
      c.sig = crypto::sign_proposal(proposer->signer(), group, e, c);
    }
    return c;
  }
};

/// What an epoch looks like as its issuer signs it: `set` is the previous epoch's set, to which
/// the changes are applied as they stand (no proposal is checked: a forger signs what it wants).
struct epoch_spec {
  std::uint64_t epoch = 1;
  key_custody custody = key_custody::broker;
  group_policy policy = group_policy::invite;
  const crypto::identity* issuer = nullptr;
  bool with_issuer_pk = false;
  crypto::digest32 prev_hash{};
  crypto::member_set set;
  std::vector<crypto::change> changes;
  std::optional<crypto::group_key> key;  ///< wrapped to `me` when present (a key frame)
};

/// The frame and the manifest hash its issuer signed.
struct signed_epoch {
  cd::epoch_frame frame;
  crypto::digest32 hash{};
  crypto::member_set members;
};

signed_epoch sign_epoch(const world& w, epoch_spec s) {
  signed_epoch out;
  for (const auto& c : s.changes) REQUIRE(crypto::apply_change(s.set, c).ok());
  auto& f = out.frame;
  f.group = w.group;
  f.epoch = s.epoch;
  const auto key = s.key.value_or(crypto::generate_group_key());
  f.key_id = crypto::key_id(w.group, s.epoch, key);
  f.alg = aead_alg::aes_256_gcm;
  f.custody = s.custody;
  f.policy = s.policy;
  f.issuer = s.issuer->user_id();
  if (s.with_issuer_pk) f.issuer_pk = arr<32>(s.issuer->sign_pk());
  f.changes = s.changes;
  if (s.key) f.wrapped = arr<80>(*crypto::wrap_group_key(w.me.kx_pk(), w.group, s.epoch, *s.key));
  crypto::manifest m;
  m.group = w.group;
  m.epoch = s.epoch;
  m.key_id = f.key_id;
  m.alg = f.alg;
  m.custody = s.custody;
  m.policy = s.policy;
  m.issuer = f.issuer;
  m.prev_hash = s.prev_hash;
  m.changes_hash = crypto::changes_hash(s.changes);
  m.members_hash = crypto::members_hash(s.set);
  f.sig = m.sign(s.issuer->signer());
  out.hash = m.hash();
  out.members = std::move(s.set);
  return out;
}

/// Checks and advances; the step must pass.
cd::verified_step accept(const world& w, cd::chain_state& st, const cd::epoch_frame& f) {
  auto r = cd::check_epoch(st, f, w.ctx());
  INFO(r.message);
  REQUIRE(r.ok);
  cd::advance(st, *r.ok);
  return *r.ok;
}

/// A refusal of the expected kind, with the chain left as it was.
void refused(const world& w, const cd::chain_state& st, const cd::epoch_frame& f, warning_kind kind) {
  const auto before = st;
  auto r = cd::check_epoch(st, f, w.ctx());
  INFO(r.message);
  REQUIRE_FALSE(r.ok);
  CHECK(r.kind == kind);
  CHECK_FALSE(r.message.empty());
  CHECK(st == before);
}

/// A client-custody group verified by `me` up to epoch 2: alice created it (genesis, epoch 1)
/// and added carol and me (epoch 2, alice's proposals).
struct client_group {
  world w;
  cd::chain_state st;
  signed_epoch e1, e2;
  crypto::group_key k2 = crypto::generate_group_key();

  client_group() {
    epoch_spec g;
    g.custody = key_custody::client;
    g.issuer = &w.alice;
    g.with_issuer_pk = true;
    g.changes = {w.change(change_action::add, w.alice, member_role::owner, nullptr, 0)};
    e1 = sign_epoch(w, g);
    epoch_spec s2;
    s2.epoch = 2;
    s2.custody = key_custody::client;
    s2.issuer = &w.alice;
    s2.with_issuer_pk = true;
    s2.prev_hash = e1.hash;
    s2.set = e1.members;
    s2.changes = {w.change(change_action::add, w.carol, member_role::member, &w.alice, 1),
                  w.change(change_action::add, w.me, member_role::member, &w.alice, 1)};
    s2.key = k2;
    e2 = sign_epoch(w, s2);
    (void)accept(w, st, e1.frame);
    (void)accept(w, st, e2.frame);
  }

  /// Epoch 3 as `issuer` signs it on top of epoch 2.
  [[nodiscard]] epoch_spec next(const crypto::identity& issuer, std::vector<crypto::change> changes) const {
    epoch_spec s;
    s.epoch = 3;
    s.custody = key_custody::client;
    s.issuer = &issuer;
    s.with_issuer_pk = true;
    s.prev_hash = e2.hash;
    s.set = e2.members;
    s.changes = std::move(changes);
    s.key = crypto::generate_group_key();
    return s;
  }
};

TEST_CASE("an honest broker-custody chain verifies, yields each key and pins the context", "[client][verify]") {
  world w;
  cd::chain_state st;
  const auto k1 = crypto::generate_group_key();
  epoch_spec s1;
  s1.issuer = &w.broker;
  s1.changes = {w.change(change_action::add, w.alice, member_role::owner, nullptr, 0),
                w.change(change_action::add, w.me, member_role::member, nullptr, 0)};
  s1.key = k1;
  const auto e1 = sign_epoch(w, s1);
  const auto step1 = accept(w, st, e1.frame);
  REQUIRE(step1.key);
  CHECK(*step1.key == k1);
  CHECK(step1.member);
  CHECK(step1.manifest_hash == e1.hash);
  CHECK(st.pinned);
  CHECK(st.custody == key_custody::broker);
  CHECK(st.epoch == 1);
  CHECK(st.manifest_hash() == e1.hash);

  epoch_spec s2;
  s2.epoch = 2;
  s2.issuer = &w.broker;
  s2.prev_hash = e1.hash;
  s2.set = e1.members;
  s2.changes = {w.change(change_action::add, w.carol, member_role::member, nullptr, 0)};
  s2.key = crypto::generate_group_key();
  const auto step2 = accept(w, st, sign_epoch(w, s2).frame);
  CHECK(st.epoch == 2);
  CHECK(st.members.size() == 3);
  REQUIRE(step2.changes.size() == 1);
  CHECK(step2.changes[0].user == w.carol.user_id());
  CHECK(step2.roster.size() == 3);
}

TEST_CASE("an honest client-custody chain with proposals verifies", "[client][verify]") {
  client_group g;
  CHECK(g.st.epoch == 2);
  CHECK(g.st.custody == key_custody::client);
  CHECK(g.st.members.size() == 3);
  CHECK(g.st.members.at(g.w.alice.user_id()).role == member_role::owner);
  // A role change and a removal, each asked for by the owner against epoch 2.
  auto s3 = g.next(g.w.alice, {g.w.change(change_action::role, g.w.carol, member_role::admin, &g.w.alice, 2)});
  (void)accept(g.w, g.st, sign_epoch(g.w, s3).frame);
  CHECK(g.st.members.at(g.w.carol.user_id()).role == member_role::admin);
}

TEST_CASE("a custody downgrade or a policy change is refused as bad_manifest", "[client][verify]") {
  client_group g;
  // The broker presents epoch 3 as a broker-custody epoch it signed itself.
  auto s3 = g.next(g.w.broker, {});
  s3.custody = key_custody::broker;
  s3.with_issuer_pk = false;
  refused(g.w, g.st, sign_epoch(g.w, s3).frame, warning_kind::bad_manifest);
  // Or keeps client custody but opens the group to anyone.
  auto open = g.next(g.w.alice, {});
  open.policy = group_policy::open;
  refused(g.w, g.st, sign_epoch(g.w, open).frame, warning_kind::bad_manifest);
}

TEST_CASE("a client-custody epoch issued or signed by the broker is refused", "[client][verify]") {
  client_group g;
  // Issuer = the broker's id.
  refused(g.w, g.st, sign_epoch(g.w, g.next(g.w.broker, {})).frame, warning_kind::bad_manifest);
  // Issuer = the owner's id, issuer_pk = the broker's key.
  auto f = sign_epoch(g.w, g.next(g.w.broker, {})).frame;
  f.issuer = g.w.alice.user_id();
  refused(g.w, g.st, f, warning_kind::bad_manifest);
  // And a new member's first manifest, claiming client custody, from the broker.
  world w;
  cd::chain_state fresh;
  epoch_spec s1;
  s1.custody = key_custody::client;
  s1.issuer = &w.broker;
  s1.with_issuer_pk = true;
  s1.changes = {w.change(change_action::add, w.broker, member_role::owner, nullptr, 0)};
  refused(w, fresh, sign_epoch(w, s1).frame, warning_kind::bad_manifest);
}

TEST_CASE("an invented admin cannot issue an epoch or promote itself", "[client][verify]") {
  client_group g;
  // carol is a plain member: her signed epoch is refused, whatever it contains.
  refused(g.w, g.st, sign_epoch(g.w, g.next(g.w.carol, {})).frame, warning_kind::bad_manifest);
  // mallory, not a member at all, either.
  refused(g.w, g.st, sign_epoch(g.w, g.next(g.w.mallory, {})).frame, warning_kind::bad_manifest);
  // The owner's epoch making carol admin on carol's own proposal: she is not entitled.
  auto self_promoted =
      g.next(g.w.alice, {g.w.change(change_action::role, g.w.carol, member_role::admin, &g.w.carol, 2)});
  refused(g.w, g.st, sign_epoch(g.w, self_promoted).frame, warning_kind::bad_manifest);
  // The issuer_pk of someone else under the owner's id.
  auto f = sign_epoch(g.w, g.next(g.w.mallory, {})).frame;
  f.issuer = g.w.alice.user_id();
  refused(g.w, g.st, f, warning_kind::bad_manifest);
}

TEST_CASE("a member added without a valid proposal is refused", "[client][verify]") {
  client_group g;
  // No proposal at all, in an epoch the owner signed (a compromised owner's client, or a broker
  // replaying a signature): apply_commit wants the proposal.
  auto bare = g.next(g.w.alice, {g.w.change(change_action::add, g.w.mallory, member_role::member, nullptr, 2)});
  refused(g.w, g.st, sign_epoch(g.w, bare).frame, warning_kind::bad_manifest);
  // A proposal mallory signed herself, named as the owner's.
  auto c = g.w.change(change_action::add, g.w.mallory, member_role::member, &g.w.mallory, 2);
  c.by = g.w.alice.user_id();
  refused(g.w, g.st, sign_epoch(g.w, g.next(g.w.alice, {c})).frame, warning_kind::bad_manifest);
  // The owner's proposal for another epoch.
  auto stale = g.next(g.w.alice, {g.w.change(change_action::add, g.w.mallory, member_role::member, &g.w.alice, 1)});
  refused(g.w, g.st, sign_epoch(g.w, stale).frame, warning_kind::bad_manifest);
  // The owner's proposal with another kx_pk put in by the broker.
  auto swapped = g.w.change(change_action::add, g.w.mallory, member_role::member, &g.w.alice, 2);
  swapped.kx_pk = arr<32>(g.w.broker.kx_pk());
  refused(g.w, g.st, sign_epoch(g.w, g.next(g.w.alice, {swapped})).frame, warning_kind::bad_manifest);
}

TEST_CASE("a delta that does not match what the issuer signed is refused as a bad signature", "[client][verify]") {
  client_group g;
  const auto add = g.w.change(change_action::add, g.w.mallory, member_role::member, &g.w.alice, 2);
  const auto promote = g.w.change(change_action::role, g.w.carol, member_role::admin, &g.w.alice, 2);
  const auto honest = sign_epoch(g.w, g.next(g.w.alice, {add, promote})).frame;
  SECTION("a change dropped") {
    auto f = honest;
    f.changes.pop_back();
    refused(g.w, g.st, f, warning_kind::bad_signature);
  }
  SECTION("the changes reordered") {
    auto f = honest;
    std::swap(f.changes[0], f.changes[1]);
    refused(g.w, g.st, f, warning_kind::bad_signature);
  }
  SECTION("a signature that is not the issuer's") {
    auto f = honest;
    f.sig[5] ^= 0x20;
    refused(g.w, g.st, f, warning_kind::bad_signature);
  }
  SECTION("the key_id of another key") {
    auto f = honest;
    f.key_id = crypto::random_id();
    refused(g.w, g.st, f, warning_kind::bad_signature);
  }
  SECTION("untouched, it passes") {
    cd::chain_state st = g.st;
    (void)accept(g.w, st, honest);
    CHECK(st.members.contains(g.w.mallory.user_id()));
  }
}

TEST_CASE("a broken chain is refused", "[client][verify]") {
  client_group g;
  SECTION("an epoch signed over another previous epoch") {
    auto s3 = g.next(g.w.alice, {});
    s3.prev_hash[0] ^= 1;
    refused(g.w, g.st, sign_epoch(g.w, s3).frame, warning_kind::bad_signature);
  }
  SECTION("an epoch that skips one") {
    auto s4 = g.next(g.w.alice, {});
    s4.epoch = 4;
    refused(g.w, g.st, sign_epoch(g.w, s4).frame, warning_kind::chain_break);
  }
  SECTION("a known epoch presented again with other contents") {
    // epoch 2 again, validly signed by the owner, but with mallory in place of carol.
    epoch_spec s2;
    s2.epoch = 2;
    s2.custody = key_custody::client;
    s2.issuer = &g.w.alice;
    s2.with_issuer_pk = true;
    s2.prev_hash = g.e1.hash;
    s2.set = g.e1.members;
    s2.changes = {g.w.change(change_action::add, g.w.mallory, member_role::member, &g.w.alice, 1),
                  g.w.change(change_action::add, g.w.me, member_role::member, &g.w.alice, 1)};
    s2.key = crypto::generate_group_key();
    refused(g.w, g.st, sign_epoch(g.w, s2).frame, warning_kind::chain_break);
  }
  SECTION("a known epoch presented again unchanged is checked against its record") {
    auto r = cd::check_epoch(g.st, g.e2.frame, g.w.ctx());
    INFO(r.message);
    REQUIRE(r.ok);
    CHECK(r.ok->recorded);
    REQUIRE(r.ok->key);
    CHECK(*r.ok->key == g.k2);
  }
  SECTION("a first epoch that is not the genesis") {
    world w;
    cd::chain_state fresh;
    epoch_spec s1;
    s1.issuer = &w.broker;
    s1.changes = {w.change(change_action::add, w.me, member_role::member, nullptr, 0)};
    s1.key = crypto::generate_group_key();
    refused(w, fresh, sign_epoch(w, s1).frame, warning_kind::bad_manifest);
    // Nor can a stranger start the chain in the middle.
    auto later = sign_epoch(w, s1).frame;
    later.epoch = 5;
    refused(w, fresh, later, warning_kind::chain_break);
  }
}

TEST_CASE("a key frame whose set leaves this user out, or whose key does not open, is refused", "[client][verify]") {
  client_group g;
  SECTION("this user removed, yet handed a key") {
    auto s3 = g.next(g.w.alice, {g.w.change(change_action::remove, g.w.me, std::nullopt, &g.w.alice, 2)});
    refused(g.w, g.st, sign_epoch(g.w, s3).frame, warning_kind::bad_manifest);
  }
  SECTION("listed, but the key_id commits to another key") {
    auto s3 = g.next(g.w.alice, {});
    auto f = sign_epoch(g.w, s3).frame;
    // Re-sign the same context with another key_id: a valid manifest, but the wrapped key does
    // not match it.
    const auto other = crypto::generate_group_key();
    f.key_id = crypto::key_id(g.w.group, 3, other);
    crypto::manifest m;
    m.group = g.w.group;
    m.epoch = 3;
    m.key_id = f.key_id;
    m.alg = f.alg;
    m.custody = key_custody::client;
    m.policy = group_policy::invite;
    m.issuer = g.w.alice.user_id();
    m.prev_hash = g.e2.hash;
    m.changes_hash = crypto::changes_hash(f.changes);
    m.members_hash = crypto::members_hash(g.e2.members);
    f.sig = m.sign(g.w.alice.signer());
    refused(g.w, g.st, f, warning_kind::bad_key);
  }
  SECTION("a manifest entry without a key records this user's absence without refusing it") {
    auto s3 = g.next(g.w.alice, {g.w.change(change_action::remove, g.w.me, std::nullopt, &g.w.alice, 2)});
    s3.key.reset();
    const auto step = accept(g.w, g.st, sign_epoch(g.w, s3).frame);
    CHECK_FALSE(step.member);
    CHECK_FALSE(g.st.history.at(3).member);
  }
}

TEST_CASE("epochs replayed from manifests keep what a later key frame needs", "[client][verify]") {
  world w;
  cd::chain_state st;
  epoch_spec s1;
  s1.issuer = &w.broker;
  s1.changes = {w.change(change_action::add, w.alice, member_role::owner, nullptr, 0),
                w.change(change_action::add, w.me, member_role::member, nullptr, 0)};
  auto e1 = sign_epoch(w, s1);
  auto m1 = e1.frame;
  m1.wrapped.reset();
  (void)accept(w, st, m1);
  // Verified without its key: the roster waits for the key frame.
  CHECK(st.history.at(1).member);
  CHECK(st.history.at(1).roster.size() == 2);

  // The key frame of epoch 1 arrives later: checked against the record, not re-applied.
  const auto k1 = crypto::generate_group_key();
  s1.key = k1;
  const auto with_key = sign_epoch(w, s1).frame;
  auto r = cd::check_epoch(st, with_key, w.ctx());
  INFO(r.message);
  // Another key_id than the manifest verified: refused as a chain break.
  REQUIRE_FALSE(r.ok);
  CHECK(r.kind == warning_kind::chain_break);

  // The same epoch (the key_id it committed to) opens.
  const auto k = crypto::generate_group_key();
  epoch_spec again = s1;
  again.key = k;
  auto framed = sign_epoch(w, again).frame;
  cd::chain_state st2;
  auto plain = framed;
  plain.wrapped.reset();
  (void)accept(w, st2, plain);
  auto r2 = cd::check_epoch(st2, framed, w.ctx());
  INFO(r2.message);
  REQUIRE(r2.ok);
  CHECK(r2.ok->recorded);
  CHECK(*r2.ok->key == k);
  CHECK(r2.ok->roster.size() == 2);
  const auto before = st2;
  cd::advance(st2, *r2.ok);
  CHECK(st2 == before);
}

TEST_CASE("the history keeps the newest epochs only", "[client][verify]") {
  world w;
  cd::chain_state st;
  epoch_spec s;
  s.issuer = &w.broker;
  s.changes = {w.change(change_action::add, w.alice, member_role::owner, nullptr, 0),
               w.change(change_action::add, w.me, member_role::member, nullptr, 0)};
  auto e = sign_epoch(w, s);
  (void)accept(w, st, e.frame);
  for (std::uint64_t n = 2; n <= cd::max_history_kept + 5; ++n) {
    epoch_spec next;
    next.epoch = n;
    next.issuer = &w.broker;
    next.prev_hash = e.hash;
    next.set = e.members;
    e = sign_epoch(w, next);
    (void)accept(w, st, e.frame);
  }
  CHECK(st.history.size() == cd::max_history_kept);
  CHECK(st.history.rbegin()->first == st.epoch);
}

TEST_CASE("ws and wss URLs parse; anything else is a clear bad_request", "[client][url]") {
  auto u = cd::parse_ws_url("ws://127.0.0.1:7800/ws");
  REQUIRE(u.ok());
  CHECK_FALSE(u->tls);
  CHECK(u->host == "127.0.0.1");
  CHECK(u->port == 7800);
  CHECK(u->path == "/ws");
  u = cd::parse_ws_url("wss://example.org");
  REQUIRE(u.ok());
  CHECK(u->tls);
  CHECK(u->port == 443);
  CHECK(u->path == "/ws");
  u = cd::parse_ws_url("ws://[::1]:9000/x");
  REQUIRE(u.ok());
  CHECK(u->host == "::1");
  CHECK(u->port == 9000);
  CHECK(u->path == "/x");
  for (const char* bad : {"http://127.0.0.1:1/ws", "ws://", "ws://host:0", "ws://host:70000", "ws://host:12ab",
                          "127.0.0.1:7800", "ws://[::1", "ws://:80/ws"}) {
    INFO(bad);
    auto r = cd::parse_ws_url(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == errc::bad_request);
    CHECK(r.err().message.find("bad url") != std::string::npos);
  }
}

}  // namespace
}  // namespace sealcast::test
