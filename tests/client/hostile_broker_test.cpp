// The client library against a hostile broker (docs/protocol.md v2): each attack a compromised
// broker could try is played by tests/client/hostile_broker, and the real client must refuse it,
// warn, and install or deliver nothing of it.

#include <catch2/catch_test_macros.hpp>

#include <algorithm>

#include "crypto/random.hpp"
#include "protocol/codec.hpp"
#include "tests/client/client_support.hpp"
#include "tests/client/hostile_broker.hpp"

namespace sealcast::test {
namespace {

using crypto::identity;

/// A victim client, its recorder, and the cast of a group: alice (owner), bob (member).
struct hostile_fixture {
  io_harness io;
  hostile_broker hb;
  identity alice = identity::generate();
  identity bob = identity::generate();
  identity mallory = identity::generate();
  identity victim = identity::generate();
  id16 gid = crypto::random_id();
  group_sim g{gid, key_custody::client, group_policy::invite, hb.identity()};
  std::unique_ptr<party> p;

  hostile_fixture() {
    for (const auto* id : {&alice, &bob, &mallory, &victim}) hb.know(*id);
    g.genesis(alice);
    g.commit(alice, {g.proposed(alice, 1, group_sim::add_of(victim))});
    g.commit(alice, {g.proposed(alice, 2, group_sim::add_of(bob))});
    hb.add_group(&g);
  }

  sc::options opts() {
    auto o = test_options(hb.port(), "victim");
    o.reconnect = false;
    o.resolve_names = false;
    return o;
  }

  /// Connects the victim and waits until `pred` holds (or 10 s).
  template <class Pred>
  bool play(Pred pred) {
    p = std::make_unique<party>(io.ioc.get_executor(), opts(), victim);
    return io.run([](party* who, Pred done) -> asio::awaitable<bool> {
      co_await connect_ok(**who);
      co_return co_await until([&] { return done(who->rec); }, 10s);
    }(p.get(), pred));
  }

  [[nodiscard]] bool installed(std::uint64_t e) const {
    return std::any_of(p->rec.keys.begin(), p->rec.keys.end(), [&](const auto& k) { return k.epoch == e; });
  }
  [[nodiscard]] std::string warnings() const {
    std::string out;
    for (const auto& w : p->rec.warnings) out += std::string(sc::to_string(w.kind)) + ": " + w.message + "\n";
    return out;
  }
  [[nodiscard]] bool warned(std::initializer_list<sc::warning_kind> kinds) const {
    return std::any_of(p->rec.warnings.begin(), p->rec.warnings.end(), [&](const auto& w) {
      return std::find(kinds.begin(), kinds.end(), w.kind) != kinds.end();
    });
  }
  void finish() {
    hb.wait(20s);
    INFO(warnings());
    for (const auto& f : hb.failures()) FAIL_CHECK("hostile broker: " << f);
  }
};

constexpr auto refused_kinds = {sc::warning_kind::bad_manifest, sc::warning_kind::bad_signature,
                                sc::warning_kind::chain_break};

std::string key_json(const group_sim& g, std::uint64_t e, const identity& to) {
  return protocol::to_json(g.key_frame(e, to.kx_pk()));
}

}  // namespace

TEST_CASE("a late joiner verifies the chain from epoch 1 and installs an honest key", "[client][hostile]") {
  hostile_fixture f;
  f.hb.run([&](hostile_conn& c) {
    c.send(key_json(f.g, 3, f.victim));  // the victim holds nothing: it must replay epochs 1 and 2
    c.serve(3s);
  });
  REQUIRE(f.play([](const recorder& r) { return !r.keys.empty(); }));
  f.finish();
  CHECK(f.installed(3));
  CHECK_FALSE(f.warned(refused_kinds));
  // The verified changes of the epochs it belongs to are reported: bob added by alice in epoch 3.
  CHECK(std::any_of(f.p->rec.members.begin(), f.p->rec.members.end(), [&](const sc::membership_event& m) {
    return m.epoch == 3 && m.user == f.bob.user_id() && m.by == f.alice.user_id() && m.action == change_action::add;
  }));
}

TEST_CASE("custody downgrade: a broker-custody key for a client-custody group is refused", "[client][hostile]") {
  hostile_fixture f;
  f.hb.run([&](hostile_conn& c) {
    c.send(key_json(f.g, 3, f.victim));
    c.serve(1s);
    // The broker announces that the group is now in broker custody and signs epoch 4 itself.
    f.g.commit(f.hb.identity(), {}, key_custody::broker, f.hb.identity().user_id());
    c.send(key_json(f.g, 4, f.victim));
    c.serve(2s);
  });
  REQUIRE(f.play([&](const recorder& r) { return r.warnings_of(sc::warning_kind::bad_manifest) > 0; }));
  f.finish();
  CHECK(f.installed(3));
  CHECK_FALSE(f.installed(4));
}

TEST_CASE("a broker-signed manifest of a client-custody group is refused", "[client][hostile]") {
  hostile_fixture f;
  f.hb.run([&](hostile_conn& c) {
    c.send(key_json(f.g, 3, f.victim));
    c.serve(1s);
    // Same custody, but the broker signs as issuer, naming its own key.
    f.g.commit(f.hb.identity(), {}, key_custody::client, f.hb.identity().user_id());
    c.send(key_json(f.g, 4, f.victim));
    c.serve(2s);
  });
  REQUIRE(f.play([&](const recorder& r) { return r.warnings_of(sc::warning_kind::bad_manifest) > 0; }));
  f.finish();
  CHECK(f.installed(3));
  CHECK_FALSE(f.installed(4));
}

TEST_CASE("an invented admin is refused: the issuer must be an admin of the previous epoch", "[client][hostile]") {
  hostile_fixture f;
  f.hb.run([&](hostile_conn& c) {
    c.send(key_json(f.g, 3, f.victim));
    c.serve(1s);
    // bob, a plain member, promotes himself and commits: an admin only of the epoch he signs.
    auto promote = crypto::change{};
    promote.action = change_action::role;
    promote.user = f.bob.user_id();
    promote.role = member_role::admin;
    f.g.commit(f.bob, {f.g.proposed(f.bob, 3, promote)});
    c.send(key_json(f.g, 4, f.victim));
    c.serve(2s);
  });
  REQUIRE(f.play([&](const recorder& r) { return r.warnings_of(sc::warning_kind::bad_manifest) > 0; }));
  f.finish();
  CHECK_FALSE(f.installed(4));
}

TEST_CASE("an unjustified member is refused: a change without the admin's proposal", "[client][hostile]") {
  hostile_fixture f;
  f.hb.run([&](hostile_conn& c) {
    c.send(key_json(f.g, 3, f.victim));
    c.serve(1s);
    // The admin's signature over the manifest is genuine (the sim plays a fooled admin), but the
    // change adding mallory carries no proposal, and then one signed by mallory herself.
    f.g.commit(f.alice, {group_sim::add_of(f.mallory)});
    c.send(key_json(f.g, 4, f.victim));
    c.serve(1s);
    c.send(key_json(f.g, 4, f.victim));
    c.serve(1s);
  });
  REQUIRE(f.play([&](const recorder& r) { return !r.warnings.empty() && r.keys.size() >= 1; }));
  f.finish();
  CHECK(f.warned(refused_kinds));
  CHECK_FALSE(f.installed(4));
}

TEST_CASE("a member added by a non-admin's proposal is refused", "[client][hostile]") {
  hostile_fixture f;
  f.hb.run([&](hostile_conn& c) {
    c.send(key_json(f.g, 3, f.victim));
    c.serve(1s);
    f.g.commit(f.alice, {f.g.proposed(f.bob, 3, group_sim::add_of(f.mallory))});
    c.send(key_json(f.g, 4, f.victim));
    c.serve(2s);
  });
  REQUIRE(f.play([&](const recorder& r) { return f.warned(refused_kinds) || r.keys.size() > 1; }));
  f.finish();
  CHECK(f.warned(refused_kinds));
  CHECK_FALSE(f.installed(4));
}

TEST_CASE("a broken chain is refused: an epoch that does not follow the verified one", "[client][hostile]") {
  hostile_fixture f;
  // A fork of the same group: genuine signatures by alice, another history.
  group_sim fork{f.gid, key_custody::client, group_policy::invite, f.hb.identity()};
  fork.genesis(f.alice);
  fork.commit(f.alice, {fork.proposed(f.alice, 1, group_sim::add_of(f.victim))});
  fork.commit(f.alice, {fork.proposed(f.alice, 2, group_sim::add_of(f.bob))});
  fork.commit(f.alice, {});
  f.hb.run([&](hostile_conn& c) {
    c.send(key_json(f.g, 3, f.victim));
    c.serve(1s);
    c.send(key_json(fork, 4, f.victim));
    c.serve(2s);
  });
  REQUIRE(f.play([&](const recorder& r) { return f.warned(refused_kinds) || r.keys.size() > 1; }));
  f.finish();
  CHECK(f.warned(refused_kinds));
  CHECK(f.installed(3));
  CHECK_FALSE(f.installed(4));
}

TEST_CASE("a key frame whose delta does not match what the admin signed is refused", "[client][hostile]") {
  hostile_fixture f;
  f.hb.run([&](hostile_conn& c) {
    c.send(key_json(f.g, 3, f.victim));
    c.serve(1s);
    f.g.commit(f.alice, {f.g.proposed(f.alice, 3, group_sim::remove_of(f.bob.user_id()))});
    auto k = f.g.key_frame(4, f.victim.kx_pk());
    k.changes.clear();  // hide bob's removal from the members
    c.send(protocol::to_json(k));
    c.serve(1s);
    auto k2 = f.g.key_frame(4, f.victim.kx_pk());
    k2.changes.front().user = f.mallory.user_id();  // or name someone else
    c.send(protocol::to_json(k2));
    c.serve(1s);
  });
  REQUIRE(f.play([&](const recorder& r) { return r.warnings.size() >= 2 || r.keys.size() > 1; }));
  f.finish();
  CHECK(f.warned(refused_kinds));
  CHECK_FALSE(f.installed(4));
}

TEST_CASE("a replayed message at a new seq is refused; reordered indexes within the window open",
          "[client][hostile]") {
  hostile_fixture f;
  f.hb.run([&](hostile_conn& c) {
    c.send(key_json(f.g, 3, f.victim));
    c.serve(1s);
    const auto m2 = f.g.message(f.alice, 3, 2, "third", 1);
    const auto m0 = f.g.message(f.alice, 3, 0, "first", 2);
    const auto m1 = f.g.message(f.alice, 3, 1, "second", 3);
    for (const auto* m : {&m2, &m0, &m1}) c.send(protocol::to_json(*m));
    c.serve(1s);
    auto replay = m0;  // the same ciphertext and signature, delivered again under a new seq
    replay.seq = 4;
    replay.id = crypto::random_id();
    c.send(protocol::to_json(replay));
    auto dup = m1;  // and a duplicate index, at the next seq
    dup.seq = 5;
    c.send(protocol::to_json(dup));
    c.serve(2s);
  });
  REQUIRE(f.play([&](const recorder& r) { return r.warnings_of(sc::warning_kind::replay) >= 2; }));
  f.finish();
  const auto texts = f.p->rec.texts();
  CHECK(texts.size() == 3);
  CHECK(std::count(texts.begin(), texts.end(), "first") == 1);
  CHECK(std::count(texts.begin(), texts.end(), "second") == 1);
  CHECK(std::count(texts.begin(), texts.end(), "third") == 1);
}

TEST_CASE("a message signed by someone outside the epoch is refused", "[client][hostile]") {
  hostile_fixture f;
  f.hb.run([&](hostile_conn& c) {
    c.send(key_json(f.g, 3, f.victim));
    c.serve(1s);
    // mallory is no member; the broker could know K_e in no honest run, but even a leaked key
    // does not let a non-member speak in the group.
    c.send(protocol::to_json(f.g.message(f.mallory, 3, 0, "hi from nowhere", 1)));
    c.serve(2s);
  });
  REQUIRE(f.play([&](const recorder& r) { return !r.warnings.empty(); }));
  f.finish();
  CHECK(f.p->rec.messages.empty());
}

TEST_CASE("an admin's client refuses to commit a ghost member the broker slipped into a rekey_request",
          "[client][hostile]") {
  hostile_fixture f;
  // A group the victim owns (the sim replays the victim's own earlier, honest commits).
  group_sim own{crypto::random_id(), key_custody::client, group_policy::invite, f.hb.identity()};
  own.genesis(f.victim);
  own.commit(f.victim, {own.proposed(f.victim, 1, group_sim::add_of(f.bob))});
  f.hb.add_group(&own, "own");
  auto request = [&](std::vector<protocol::change> changes) {
    protocol::server::rekey_request rq;
    rq.group = own.id();
    rq.epoch = 3;
    rq.reason = "member added";
    const auto h = own.at(2).man.hash();
    std::copy(h.begin(), h.end(), rq.prev_hash.begin());
    rq.changes = std::move(changes);
    rq.deadline = 1;
    return protocol::to_json(rq);
  };
  auto wire_add = [&](const crypto::change& c, const identity& subject) {
    protocol::change w;
    w.action = c.action;
    w.user = c.user;
    w.kx_pk = c.kx_pk;
    w.role = c.role;
    w.by = c.by;
    w.by_pk = c.by_pk;
    w.sig = c.sig;
    std::copy_n(subject.sign_pk().begin(), 32, w.sign_pk.emplace().begin());
    std::copy_n(subject.kx_sig().begin(), 64, w.kx_sig.emplace().begin());
    return w;
  };
  std::size_t rekeys = 0;
  f.hb.run([&](hostile_conn& c) {
    c.send(key_json(own, 2, f.victim));
    c.serve(1s);
    // 1. mallory with no proposal at all (the broker "says" bob asked).
    auto ghost = group_sim::add_of(f.mallory);
    ghost.by = f.bob.user_id();
    c.send(request({wire_add(ghost, f.mallory)}));
    c.serve(1s);
    // 2. mallory proposed by bob, who is no admin.
    c.send(request({wire_add(own.proposed(f.bob, 2, group_sim::add_of(f.mallory)), f.mallory)}));
    c.serve(1s);
    // 3. a genuine proposal by the victim itself, but with mallory's kx_pk swapped for another key.
    auto swapped = group_sim::add_of(f.mallory);
    std::copy_n(f.alice.kx_pk().begin(), 32, swapped.kx_pk.begin());
    c.send(request({wire_add(own.proposed(f.victim, 2, swapped), f.mallory)}));
    c.serve(1s);
    for (const auto& fr : c.unanswered()) rekeys += std::holds_alternative<protocol::client::rekey>(fr) ? 1 : 0;
  });
  REQUIRE(f.play([&](const recorder& r) { return r.warnings.size() >= 3; }));
  f.finish();
  CHECK(f.installed(2));
  CHECK(rekeys == 0);
  CHECK(f.warned(refused_kinds));
}

TEST_CASE("a broker cannot hand the creator of a client-custody group a group it made up", "[client][hostile]") {
  hostile_fixture f;
  const id16 gid = crypto::random_id();
  // The broker's fakes for that id: a broker-custody genesis naming the victim as owner, and a
  // client-custody history owned by mallory, who "adds" the victim.
  group_sim fake_broker{gid, key_custody::broker, group_policy::invite, f.hb.identity()};
  fake_broker.genesis(f.victim);
  group_sim fake_owner{gid, key_custody::client, group_policy::invite, f.hb.identity()};
  fake_owner.genesis(f.mallory);
  fake_owner.commit(f.mallory, {fake_owner.proposed(f.mallory, 1, group_sim::add_of(f.victim, member_role::admin))});
  f.hb.add_group(&fake_owner, "mine");
  std::optional<errc> other_id;
  f.hb.run([&](hostile_conn& c) {
    for (int round = 0; round < 2; ++round) {
      std::optional<protocol::client::create_group> req;
      for (int i = 0; i < 50 && !req; ++i)
        if (auto fr = c.recv(100ms))
          if (auto* cg = std::get_if<protocol::client::create_group>(&*fr)) req = *cg;
      if (!req) return;
      if (round == 0) {
        // Before answering: the broker's genesis for the id the client chose, then mallory's.
        c.send(protocol::to_json(fake_broker.key_frame(1, f.victim.kx_pk())));
        c.send(protocol::to_json(fake_owner.key_frame(2, f.victim.kx_pk())));
        c.send(protocol::make_ok(req->rid, protocol::create_group_result{gid, 0}));
        c.serve(1500ms);
      } else {
        // Answering with another group than the one asked for.
        c.send(protocol::make_ok(req->rid, protocol::create_group_result{crypto::random_id(), 0}));
        c.serve(500ms);
      }
    }
  });
  f.p = std::make_unique<party>(f.io.ioc.get_executor(), f.opts(), f.victim);
  f.io.run([](hostile_fixture* fx, id16 g, std::optional<errc>* other) -> asio::awaitable<void> {
    co_await connect_ok(*fx->p->c);
    sc::group_spec spec;
    spec.name = "mine";
    spec.custody = key_custody::client;
    spec.id = g;
    auto created = co_await fx->p->c->create_group(spec);
    CO_CHECK(created.ok());
    (void)co_await until([&] { return fx->p->rec.warnings.size() >= 2; }, 5s);
    sc::group_spec again;
    again.name = "second";
    again.custody = key_custody::client;
    auto second = co_await fx->p->c->create_group(again);
    if (!second) *other = second.err().code;
  }(&f, gid, &other_id));
  f.finish();
  CHECK_FALSE(f.installed(1));
  CHECK_FALSE(f.installed(2));
  CHECK(f.p->rec.warnings_of(sc::warning_kind::bad_manifest) >= 2);
  CHECK(other_id == errc::bad_request);
}

TEST_CASE("a key frame naming an epoch far ahead is refused without an unbounded catch-up", "[client][hostile]") {
  hostile_fixture f;
  f.hb.run([&](hostile_conn& c) {
    c.send(key_json(f.g, 3, f.victim));
    c.serve(1s);
    auto far = f.g.key_frame(3, f.victim.kx_pk());
    far.epoch = std::uint64_t{1} << 60;
    c.send(protocol::to_json(far));
    c.serve(1s);
  });
  REQUIRE(f.play([&](const recorder& r) { return f.warned(refused_kinds) && r.keys.size() == 1; }));
  f.finish();
  CHECK(f.installed(3));
  CHECK(f.p->rec.keys.size() == 1);
}

TEST_CASE("member hints about groups the client has no state of create none", "[client][hostile]") {
  hostile_fixture f;
  f.hb.run([&](hostile_conn& c) {
    c.send(key_json(f.g, 3, f.victim));
    c.serve(1s);
    for (int i = 0; i < 200; ++i)
      c.send(protocol::to_json(protocol::server::member{crypto::random_id(), f.mallory.user_id(),
                                                        protocol::member_action::joined, 1}));
    // A marker the client does react to, so the test knows the hints before it were processed.
    c.send(protocol::to_json(f.g.message(f.alice, 3, 0, "after the hints", 1)));
    c.serve(1s);
  });
  REQUIRE(f.play([&](const recorder& r) { return !r.messages.empty(); }));
  f.finish();
  const auto known = f.p->c->groups();
  CHECK(known.size() <= 1);  // the fixture's group alone (the welcome lists it)
}

TEST_CASE("a publish right after the welcome named a newer epoch fetches that epoch's key first",
          "[client][hostile]") {
  // The welcome says epoch 3 (bob was added); only epoch 2's key frame has come when the
  // application publishes. Sealed under epoch 2 (still accepted for the broker's grace period),
  // the message would be unreadable for bob; the client asks for epoch 3's key first.
  hostile_fixture f;
  std::vector<std::uint64_t> published;
  f.hb.run([&](hostile_conn& c) {
    c.send(key_json(f.g, 2, f.victim));
    c.serve(2s);
    for (const auto& fr : c.unanswered())
      if (const auto* p = std::get_if<protocol::client::publish>(&fr)) published.push_back(p->epoch);
  });
  auto o = f.opts();
  o.request_timeout = 2s;
  f.p = std::make_unique<party>(f.io.ioc.get_executor(), o, f.victim);
  f.io.run([](hostile_fixture* fx) -> asio::awaitable<void> {
    co_await connect_ok(**fx->p);
    REQUIRE(co_await until([&] { return fx->installed(2); }, 10s));
    (void)co_await (*fx->p)->publish(fx->gid, std::string_view("for bob too"));
  }(&f));
  f.finish();
  CHECK(f.installed(3));
  REQUIRE(published.size() == 1);
  CHECK(published[0] == 3);
}

}  // namespace sealcast::test
