// Proposals in client custody (docs/protocol.md sections 5, 6.3, 6.4, 6.7): every membership
// request carries the change signed by its proposer against the current epoch; the broker checks
// it before queuing the change, the committer and every member check it again, and `manifests`
// hands the whole signed history to members.

#include "crypto/identity.hpp"
#include "tests/integration/fixtures.hpp"

using namespace sealcast;
using namespace sealcast::test;
using namespace std::chrono_literals;

namespace {

proto::key32 sign_pk_of(const test_client& c) { return to_array<32>(c.identity().sign_pk()); }

/// The one change of (group, epoch) as `c` received it, checked to be `action` on `user` proposed
/// by `by` against epoch-1, with a proposal that verifies.
void check_proposed(const test_client& c, const id16& g, std::uint64_t epoch, proto::change_action action,
                    const id16& user, const test_client& by) {
  const auto* k = c.key(g, epoch);
  REQUIRE(k);
  CHECK(k->manifest_verified);
  REQUIRE(k->frame.changes.size() == 1);
  const auto& ch = k->frame.changes[0];
  CHECK(ch.action == action);
  CHECK(ch.user == user);
  CHECK(ch.by == by.user_id());
  CHECK(ch.by_pk == sign_pk_of(by));
  REQUIRE(ch.by_pk);
  REQUIRE(ch.sig);
  CHECK(crypto::verify_proposal(g, epoch - 1, to_crypto(ch), by.user_id(), *ch.by_pk, *ch.sig).ok());
}

}  // namespace

TEST_CASE("client custody: add, set_role, join, leave and remove each pass with a valid proposal",
          "[integration][custody][proposals]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  auto c = online(f.port(), "c");
  auto d = online(f.port(), "d");
  const auto g = make_client_group(*a, {b.get()}, "open", proto::group_policy::open);  // epoch 2

  // add (as admin), proposed by the owner
  auto r = a->add_member(g, c->user_id(), proto::member_role::admin);
  INFO(r.describe());
  REQUIRE(r.is_ok());
  REQUIRE(commit_by(*a, g) == 3);
  for (auto* x : {a.get(), b.get(), c.get()}) REQUIRE(x->wait_key(g, 3));
  check_proposed(*b, g, 3, proto::change_action::add, c->user_id(), *a);
  CHECK(b->key(g, 3)->members.at(c->user_id()).role == proto::member_role::admin);

  // set_role, proposed by the new admin
  r = c->set_role(g, b->user_id(), proto::member_role::admin);
  INFO(r.describe());
  REQUIRE(r.is_ok());
  REQUIRE(commit_any({a.get(), c.get()}, g) == 4);
  for (auto* x : {a.get(), b.get(), c.get()}) REQUIRE(x->wait_key(g, 4));
  check_proposed(*a, g, 4, proto::change_action::role, b->user_id(), *c);
  CHECK(a->key(g, 4)->members.at(b->user_id()).role == proto::member_role::admin);

  // join by a user who is no member yet: it reads the epoch with group_info (open group)
  r = d->join(g);
  INFO(r.describe());
  REQUIRE(r.is_ok());
  REQUIRE(commit_any({a.get(), b.get(), c.get()}, g) == 5);
  REQUIRE(d->wait_key(g, 5));
  check_proposed(*d, g, 5, proto::change_action::join, d->user_id(), *d);
  CHECK(d->key(g, 5)->members.size() == 4);
  CHECK(d->key_errors().empty());  // d replayed epochs 1 to 4 from manifests first

  // leave, proposed by the member itself
  r = d->leave(g);
  INFO(r.describe());
  REQUIRE(r.is_ok());
  REQUIRE(commit_any({a.get(), b.get(), c.get()}, g) == 6);
  for (auto* x : {a.get(), b.get(), c.get()}) REQUIRE(x->wait_key(g, 6));  // b proposes against 6 next
  check_proposed(*a, g, 6, proto::change_action::leave, d->user_id(), *d);
  CHECK(a->key(g, 6)->members.size() == 3);

  // remove an admin, proposed by another admin
  r = b->remove_member(g, c->user_id());
  INFO(r.describe());
  REQUIRE(r.is_ok());
  REQUIRE(commit_any({a.get(), b.get()}, g) == 7);
  for (auto* x : {a.get(), b.get()}) REQUIRE(x->wait_key(g, 7));
  check_proposed(*a, g, 7, proto::change_action::remove, c->user_id(), *b);
  CHECK(b->key(g, 7)->members.size() == 2);
  for (auto* x : {a.get(), b.get(), c.get(), d.get()}) CHECK(x->key_errors().empty());
  d->drain(300ms);
  c->drain(300ms);
  CHECK(d->key(g, 6) == nullptr);
  CHECK(c->key(g, 7) == nullptr);
}

TEST_CASE("client custody: a change without a valid proposal is refused with the reason",
          "[integration][custody][proposals]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  auto c = online(f.port(), "c");
  auto d = online(f.port(), "d");
  const auto g = make_client_group(*a, {b.get()}, "open", proto::group_policy::open);  // epoch 2: a owner, b member

  SECTION("add_member") {
    cli::add_member bare{{}, g, c->user_id(), proto::member_role::member, {}, {}};
    CHECK(a->request(bare).code() == errc::bad_request);  // no epoch, no proposal
    auto no_sig = a->make_add_member(g, c->user_id());
    no_sig.proposal.reset();
    CHECK(a->request(no_sig).code() == errc::bad_request);
    CHECK(b->add_member(g, c->user_id()).code() == errc::forbidden);  // a plain member's own proposal
    CHECK(a->add_member(g, c->user_id(), proto::member_role::member, 1).code() == errc::stale_epoch);
    CHECK(a->add_member(g, c->user_id(), proto::member_role::member, 3).code() == errc::stale_epoch);
    auto flipped = a->make_add_member(g, c->user_id());
    (*flipped.proposal)[7] ^= 1;
    CHECK(a->request(flipped).code() == errc::bad_signature);
    auto other_signer = a->make_add_member(g, c->user_id());  // b's signature in a's request
    other_signer.proposal = b->propose(g, 2, b->change_for(proto::change_action::add, c->user_id()));
    CHECK(a->request(other_signer).code() == errc::bad_signature);
    auto other_role = a->make_add_member(g, c->user_id(), proto::member_role::admin);  // signed for admin
    other_role.role = proto::member_role::member;
    CHECK(a->request(other_role).code() == errc::bad_signature);
    REQUIRE(a->add_member(g, c->user_id()).is_ok());
    REQUIRE(commit_by(*a, g) == 3);
    REQUIRE(c->wait_key(g, 3));
  }
  SECTION("remove_member") {
    cli::remove_member bare{{}, g, b->user_id(), {}, {}};
    CHECK(a->request(bare).code() == errc::bad_request);
    CHECK(b->remove_member(g, a->user_id()).code() == errc::forbidden);  // a member, and the owner
    CHECK(a->remove_member(g, b->user_id(), 1).code() == errc::stale_epoch);
    auto flipped = a->make_remove_member(g, b->user_id());
    (*flipped.proposal)[0] ^= 0x80;
    CHECK(a->request(flipped).code() == errc::bad_signature);
    REQUIRE(a->remove_member(g, b->user_id()).is_ok());
    REQUIRE(commit_by(*a, g) == 3);
    REQUIRE(a->wait_key(g, 3));
    CHECK(a->key(g, 3)->members.size() == 1);
  }
  SECTION("set_role") {
    cli::set_role bare{{}, g, b->user_id(), proto::member_role::admin, {}, {}};
    CHECK(a->request(bare).code() == errc::bad_request);
    CHECK(b->set_role(g, b->user_id(), proto::member_role::admin).code() == errc::forbidden);  // no self-promotion
    CHECK(a->set_role(g, b->user_id(), proto::member_role::admin, 1).code() == errc::stale_epoch);
    auto flipped = a->make_set_role(g, b->user_id(), proto::member_role::admin);
    (*flipped.proposal)[33] ^= 1;
    CHECK(a->request(flipped).code() == errc::bad_signature);
    auto other_role = a->make_set_role(g, b->user_id(), proto::member_role::member);  // signed for member
    other_role.role = proto::member_role::admin;
    CHECK(a->request(other_role).code() == errc::bad_signature);
    REQUIRE(a->set_role(g, b->user_id(), proto::member_role::admin).is_ok());
    REQUIRE(commit_by(*a, g) == 3);
    REQUIRE(b->wait_key(g, 3));
    CHECK(b->key(g, 3)->members.at(b->user_id()).role == proto::member_role::admin);
  }
  SECTION("join") {
    cli::join bare{{}, g, {}, {}};
    CHECK(d->request(bare).code() == errc::bad_request);
    CHECK(d->join(g, 1).code() == errc::stale_epoch);
    auto flipped = d->make_join(g);
    (*flipped.proposal)[63] ^= 1;
    CHECK(d->request(flipped).code() == errc::bad_signature);
    auto for_someone_else = d->make_join(g);  // c's proposal to join, sent by d
    for_someone_else.proposal = c->propose(g, 2, c->change_for(proto::change_action::join, c->user_id()));
    CHECK(d->request(for_someone_else).code() == errc::bad_signature);
    REQUIRE(d->join(g).is_ok());
    REQUIRE(commit_by(*a, g) == 3);
    REQUIRE(d->wait_key(g, 3));
  }
  SECTION("leave") {
    cli::leave bare{{}, g, {}, {}};
    CHECK(b->request(bare).code() == errc::bad_request);
    CHECK(a->leave(g).code() == errc::forbidden);  // the owner stays
    CHECK(b->leave(g, 1).code() == errc::stale_epoch);
    auto flipped = b->make_leave(g);
    (*flipped.proposal)[20] ^= 4;
    CHECK(b->request(flipped).code() == errc::bad_signature);
    REQUIRE(b->leave(g).is_ok());
    REQUIRE(commit_by(*a, g) == 3);
    REQUIRE(a->wait_key(g, 3));
    CHECK(a->key(g, 3)->members.size() == 1);
  }
  // Nothing refused was queued: the committed epoch holds exactly the one valid change.
  REQUIRE(a->wait_key(g, 3));
  CHECK(a->key(g, 3)->frame.changes.size() == 1);
  CHECK(a->key_errors().empty());
  CHECK(a->request(cli::list_groups{}).is_ok());
}

TEST_CASE("client custody: a proposal before the first commit is rekey_pending", "[integration][custody][proposals]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  cli::create_group cg;
  cg.name = "young";
  cg.custody = proto::key_custody::client;
  const auto g = a->request(cg).as<proto::create_group_result>().group;
  auto genesis = a->rekey_request(g);  // not answered yet
  REQUIRE(genesis);
  auto early = a->make_add_member(g, b->user_id(), proto::member_role::member, 0);
  REQUIRE(early.epoch == 0u);
  auto r = a->request(early);
  INFO(r.describe());
  CHECK(r.code() == errc::rekey_pending);
  REQUIRE(a->answer(*genesis).is_ok());
  REQUIRE(a->wait_key(g, 1));
  REQUIRE(a->add_member(g, b->user_id()).is_ok());
  REQUIRE(commit_by(*a, g) == 2);
  REQUIRE(b->wait_key(g, 2));
}

TEST_CASE("client custody: a commit that misses a later proposal is bad_rekey; a fresh rekey_request has both",
          "[integration][custody][proposals]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  auto c = online(f.port(), "c");
  auto d = online(f.port(), "d");
  const auto g = make_client_group(*a, {b.get()});
  REQUIRE(a->add_member(g, c->user_id()).is_ok());
  auto first = a->rekey_request(g);
  REQUIRE(first);
  REQUIRE(first->changes.size() == 1);
  REQUIRE(a->add_member(g, d->user_id()).is_ok());
  auto second = a->rekey_request(g);  // sent when d's proposal was queued
  REQUIRE(second);
  CHECK(second->changes.size() == 2);

  auto stale = a->answer(*first);
  INFO(stale.describe());
  CHECK(stale.code() == errc::bad_rekey);
  auto fresh = a->rekey_request(g);
  REQUIRE(fresh);  // section 6.4: the broker sends a fresh request after the bad_rekey
  CHECK(fresh->epoch == 3);
  REQUIRE(fresh->changes.size() == 2);
  CHECK(fresh->changes[0].user == c->user_id());
  CHECK(fresh->changes[1].user == d->user_id());
  REQUIRE(a->answer(*fresh).is_ok());
  for (auto* x : {a.get(), b.get(), c.get(), d.get()}) {
    REQUIRE(x->wait_key(g, 3));
    CHECK(x->key(g, 3)->members.size() == 4);
    CHECK(x->key(g, 3)->frame.changes.size() == 2);
    CHECK(x->key_errors().empty());
  }
}

TEST_CASE("manifests pages through the signed history; only members may read it", "[integration][custody][manifests]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  auto c = online(f.port(), "c");
  auto d = online(f.port(), "d");
  const auto g = make_client_group(*a, {b.get()});  // epochs 1, 2
  REQUIRE(a->add_member(g, c->user_id()).is_ok());
  REQUIRE(commit_by(*a, g) == 3);
  auto removed = a->remove_member(g, c->user_id());
  INFO(removed.describe());
  REQUIRE(removed.is_ok());
  REQUIRE(commit_by(*a, g) == 4);
  REQUIRE(a->add_member(g, d->user_id()).is_ok());
  REQUIRE(commit_by(*a, g) == 5);
  REQUIRE(b->wait_key(g, 5));

  auto page = [&](test_client& x, std::uint64_t from, std::optional<std::uint64_t> limit) {
    return x.request(cli::manifests{{}, g, from, limit});
  };
  std::vector<proto::manifest_entry> all;
  std::uint64_t from = 1;
  std::vector<std::optional<std::uint64_t>> nexts;
  for (int pages = 0; pages < 10; ++pages) {
    auto r = page(*b, from, 2);
    INFO(r.describe());
    REQUIRE(r.is_ok());
    auto res = r.as<proto::manifests_result>();
    CHECK(res.manifests.size() <= 2);
    all.insert(all.end(), res.manifests.begin(), res.manifests.end());
    nexts.push_back(res.next);
    if (!res.next) break;
    from = *res.next;
  }
  REQUIRE(nexts == std::vector<std::optional<std::uint64_t>>{3, 5, std::nullopt});
  REQUIRE(all.size() == 5);
  for (std::uint64_t e = 1; e <= 5; ++e) {
    const auto& m = all[e - 1];
    CHECK(m.epoch == e);
    CHECK(m.custody == proto::key_custody::client);
    CHECK(m.issuer == a->user_id());
    CHECK(m.issuer_pk == sign_pk_of(*a));
    if (e >= 2) CHECK(m.key_id == b->key(g, e)->frame.key_id);
    CHECK(m.changes.size() == 1);
  }
  CHECK(all[0].changes[0].role == proto::member_role::owner);  // the genesis
  CHECK(all[3].changes[0].action == proto::change_action::remove);
  // Without a limit: everything (default 64); from the current epoch: one entry and no next.
  auto whole = page(*a, 1, std::nullopt).as<proto::manifests_result>();
  CHECK(whole.manifests.size() == 5);
  CHECK_FALSE(whole.next);
  auto last = page(*a, 5, 1).as<proto::manifests_result>();
  REQUIRE(last.manifests.size() == 1);
  CHECK(last.manifests[0].epoch == 5);
  CHECK_FALSE(last.next);
  // Limits: 1 to 256, from epoch 1 on.
  CHECK(page(*a, 1, 0).code() == errc::bad_request);
  CHECK(page(*a, 1, 257).code() == errc::bad_request);
  CHECK(page(*a, 0, 2).code() == errc::bad_request);
  // Not to outsiders, nor to a removed member.
  auto stranger = online(f.port(), "stranger");
  CHECK(page(*stranger, 1, 2).code() == errc::not_member);
  CHECK(page(*c, 1, 2).code() == errc::not_member);
}
