// Client custody (docs/protocol.md sections 6.3 to 6.5): the broker never holds K_e; an admin's
// client answers each rekey_request with wrapped keys and a signed v2 manifest that the broker
// checks, and every member checks again from the key frame's changes.

#include "crypto/identity.hpp"
#include "tests/integration/fixtures.hpp"

using namespace sealcast;
using namespace sealcast::test;
using namespace std::chrono_literals;

namespace {

/// A publish frame for a group nobody holds a key of yet (only its shape matters).
cli::publish keyless_publish(const id16& g, std::uint64_t epoch) {
  cli::publish p;
  p.group = g;
  p.epoch = epoch;
  p.nonce = bytes(12, 1);
  p.ct = bytes(32, 2);
  return p;
}

proto::key32 sign_pk_of(const test_client& c) { return to_array<32>(c.identity().sign_pk()); }

}  // namespace

TEST_CASE("client custody: epoch 0, the genesis rekey_request, then the creator's key", "[integration][custody]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  cli::create_group cg;
  cg.name = "e2e";
  cg.custody = proto::key_custody::client;
  auto created = a->request(cg);
  INFO(created.describe());
  REQUIRE(created.is_ok());
  const auto res = created.as<proto::create_group_result>();
  const auto g = res.group;
  CHECK(res.epoch == 0);  // section 5: 0 in client custody until the first commit

  // Section 6.4: the genesis is the creator's own add as owner, with no proposal.
  auto rq = a->rekey_request(g);
  REQUIRE(rq);
  CHECK(rq->epoch == 1);
  CHECK(rq->prev_hash == proto::hash32{});
  REQUIRE(rq->changes.size() == 1);
  CHECK(rq->changes[0].action == proto::change_action::add);
  CHECK(rq->changes[0].user == a->user_id());
  CHECK(rq->changes[0].role == proto::member_role::owner);
  CHECK_FALSE(rq->changes[0].sig);
  auto info = a->request(cli::group_info{{}, g}).as<proto::group_info_result>();
  CHECK(info.custody == proto::key_custody::client);
  CHECK(info.epoch == 0);
  CHECK_FALSE(info.key_id);
  CHECK(a->request(keyless_publish(g, 1)).code() == errc::rekey_pending);
  CHECK(a->request(keyless_publish(g, 0)).code() == errc::rekey_pending);

  SECTION("a rekey that does not name exactly the new member set is bad_rekey") {
    auto rk = a->make_rekey(*rq);
    rk.wrapped.erase(a->user_id());
    CHECK(a->request(rk).code() == errc::bad_rekey);
    auto extra = a->make_rekey(*rq);
    extra.wrapped[b->user_id()] = extra.wrapped.begin()->second;
    CHECK(a->request(extra).code() == errc::bad_rekey);
  }
  SECTION("a rekey with a bad manifest signature is bad_rekey") {
    auto rk = a->make_rekey(*rq);
    rk.sig[10] ^= 1;
    CHECK(a->request(rk).code() == errc::bad_rekey);
  }
  SECTION("a rekey for an epoch that is not next is bad_rekey") {
    auto rk = a->make_rekey(*rq);
    rk.epoch = 2;
    CHECK(a->request(rk).code() == errc::bad_rekey);
  }
  SECTION("a rekey that does not count the pending change is bad_rekey") {
    auto rk = a->make_rekey(*rq);
    rk.changes = 0;
    CHECK(a->request(rk).code() == errc::bad_rekey);
  }
  SECTION("a rekey by a non-member is refused") {
    auto r = b->request(a->make_rekey(*rq));
    CHECK((r.code() == errc::bad_rekey || r.code() == errc::not_member));
  }
  SECTION("a good rekey distributes the creator's key") {
    auto ok = a->request(a->make_rekey(*rq));
    INFO(ok.describe());
    REQUIRE(ok.is_ok());
    REQUIRE(a->wait_key(g, 1));
    const auto* k = a->key(g, 1);
    CHECK(k->frame.custody == proto::key_custody::client);
    CHECK(k->frame.issuer == a->user_id());
    REQUIRE(k->frame.issuer_pk);
    CHECK(*k->frame.issuer_pk == sign_pk_of(*a));
    REQUIRE(k->frame.changes.size() == 1);
    CHECK(k->frame.changes[0].role == proto::member_role::owner);
    CHECK(k->manifest_verified);
    CHECK(k->members.size() == 1);
    CHECK(a->key_errors().empty());
    CHECK(a->request(cli::group_info{{}, g}).as<proto::group_info_result>().epoch == 1);
    // The first member comes with a signed proposal and the next commit.
    REQUIRE(a->add_member(g, b->user_id()).is_ok());
    REQUIRE(commit_by(*a, g) == 2);
    REQUIRE(b->wait_key(g, 2));
    CHECK(b->key(g, 2)->manifest_verified);
    CHECK(b->key_errors().empty());
    auto p = a->publish(g, "end to end");
    INFO(p.describe());
    REQUIRE(p.is_ok());
    CHECK(plain(*b, messages(*b, g, 1)[0]) == "end to end");
  }
  // Whatever happened, the connection keeps working.
  CHECK(a->request(cli::list_groups{}).is_ok());
}

TEST_CASE("client custody: create_group may not list members", "[integration][custody]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  cli::create_group cg;
  cg.name = "e2e";
  cg.custody = proto::key_custody::client;
  cg.members = {b->user_id()};
  auto r = a->request(cg);
  INFO(r.describe());
  CHECK(r.code() == errc::bad_request);
  CHECK(a->request(cli::list_groups{}).as<proto::list_groups_result>().groups.empty());
}

TEST_CASE("client custody: membership changes ask for the next epoch; removals block publishing",
          "[integration][custody]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  auto c = online(f.port(), "c");
  const auto g = make_client_group(*a, {b.get()});  // epoch 1: a; epoch 2: a, b

  // An addition: the old epoch stays usable until the commit lands.
  auto added = a->add_member(g, c->user_id());
  INFO(added.describe());
  REQUIRE(added.is_ok());
  CHECK(added.as<proto::epoch_result>().epoch == 3);  // the pending epoch the change will be committed in
  auto rq3 = a->rekey_request(g);
  REQUIRE(rq3);
  CHECK(rq3->epoch == 3);
  CHECK(rq3->prev_hash == a->key(g, 2)->manifest_hash);
  REQUIRE(rq3->changes.size() == 1);
  const auto& add = rq3->changes[0];
  CHECK(add.action == proto::change_action::add);
  CHECK(add.user == c->user_id());
  CHECK(add.by == a->user_id());
  CHECK(add.by_pk == sign_pk_of(*a));
  CHECK(add.sig);
  CHECK(add.sign_pk == sign_pk_of(*c));  // what lets the committer check c's kx_pk
  CHECK(add.kx_sig);
  auto during = b->publish(g, "still epoch 2");
  INFO(during.describe());
  CHECK(during.is_ok());
  // A plain member may not commit.
  CHECK(b->request(a->make_rekey(*rq3)).code() == errc::bad_rekey);
  REQUIRE(a->answer(*rq3).is_ok());
  for (auto* x : {a.get(), b.get(), c.get()}) {
    REQUIRE(x->wait_key(g, 3));
    CHECK(x->key(g, 3)->manifest_verified);
    CHECK(x->key(g, 3)->members.size() == 3);
    CHECK(x->key_errors().empty());  // includes the prev_hash chain, which c replayed
  }
  REQUIRE(c->verified(g, 1));
  CHECK(c->verified(g, 1)->from_manifests);
  // c joined at epoch 3: the epoch-2 message b sent meanwhile is not for it (section 7).
  CHECK_FALSE(c->wait_for(
      [](const proto::server_frame& x) {
        auto* m = std::get_if<srv::message>(&x);
        return m && m->epoch == 2;
      },
      300ms));
  REQUIRE(c->publish(g, "hello from c").is_ok());
  CHECK(plain(*b, messages(*b, g, 1)[0]) == "hello from c");
  auto at_a = messages(*a, g, 2);  // b's epoch-2 message, then c's
  CHECK(plain(*a, at_a[0]) == "still epoch 2");
  CHECK(plain(*a, at_a[1]) == "hello from c");

  // A removal: publishing waits for the commit, and the removed member is not in it.
  REQUIRE(a->remove_member(g, c->user_id()).is_ok());
  auto rq4 = a->rekey_request(g);
  REQUIRE(rq4);
  CHECK(rq4->epoch == 4);
  CHECK(b->publish(g, "too early").code() == errc::rekey_pending);
  auto still_names_c = a->make_rekey(*rq4);
  still_names_c.wrapped[c->user_id()] = still_names_c.wrapped.begin()->second;
  CHECK(a->request(still_names_c).code() == errc::bad_rekey);
  REQUIRE(a->answer(*rq4).is_ok());
  REQUIRE(b->wait_key(g, 4));
  CHECK(b->key(g, 4)->members.size() == 2);
  REQUIRE(b->publish(g, "after removal").is_ok());
  c->drain(500ms);
  CHECK(c->key(g, 4) == nullptr);
}

TEST_CASE("client custody: a pending rekey is asked for again after a broker restart", "[integration][custody]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  cli::create_group cg;
  cg.name = "e2e";
  cg.custody = proto::key_custody::client;
  const auto g = a->request(cg).as<proto::create_group_result>().group;
  REQUIRE(a->rekey_request(g));
  a->disconnect();
  b->disconnect();
  f.broker->kill_hard();
  f.restart();

  a->login(f.port(), "a");
  auto rq = a->rekey_request(g);
  REQUIRE(rq);
  CHECK(rq->epoch == 1);
  REQUIRE(a->answer(*rq).is_ok());
  REQUIRE(a->wait_key(g, 1));
  REQUIRE(a->add_member(g, b->user_id()).is_ok());
  REQUIRE(commit_by(*a, g) == 2);
  b->login(f.port(), "b");
  REQUIRE(b->wait_key(g, 2));
  CHECK(b->key(g, 2)->manifest_verified);
  CHECK(b->key_errors().empty());
  REQUIRE(a->publish(g, "after restart").is_ok());
  CHECK(plain(*b, messages(*b, g, 1)[0]) == "after restart");
}
