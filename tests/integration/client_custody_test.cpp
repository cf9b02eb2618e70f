// Client custody (PROTOCOL.md section 6): the broker never holds K_e; an admin answers each
// rekey_request with wrapped keys and a signed manifest that the broker checks.

#include "tests/integration/fixtures.hpp"

using namespace sealcast;
using namespace sealcast::test;
using namespace std::chrono_literals;

namespace {

std::optional<srv::rekey_request> rekey_request_for(test_client& c, const id16& g, std::chrono::milliseconds t = 3s) {
  auto f = c.wait_for(
      [&](const proto::server_frame& x) {
        auto* r = std::get_if<srv::rekey_request>(&x);
        return r && r->group == g;
      },
      t);
  if (!f) return std::nullopt;
  return std::get<srv::rekey_request>(*f);
}

/// A publish frame for a group nobody holds a key of yet (only its shape matters).
cli::publish keyless_publish(const id16& g, std::uint64_t epoch) {
  cli::publish p;
  p.group = g;
  p.epoch = epoch;
  p.nonce = bytes(12, 1);
  p.ct = bytes(32, 2);
  return p;
}

}  // namespace

TEST_CASE("client custody: epoch 0, a rekey_request, then the creator's keys", "[integration][custody]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  a->know(*b);
  b->know(*a);
  cli::create_group cg;
  cg.name = "e2e";
  cg.members = {b->user_id()};
  cg.custody = proto::key_custody::client;
  auto created = a->request(cg);
  INFO(created.describe());
  REQUIRE(created.is_ok());
  const auto res = created.as<proto::create_group_result>();
  const auto g = res.group;
  CHECK(res.epoch == 0);  // PROTOCOL.md section 5: 0 in client custody until the first rekey

  auto rq = rekey_request_for(*a, g);
  REQUIRE(rq);
  CHECK(rq->epoch == 1);
  CHECK(rq->prev_hash == proto::hash32{});
  CHECK(rq->members.size() == 2);
  auto info = a->request(cli::group_info{{}, g}).as<proto::group_info_result>();
  CHECK(info.custody == proto::key_custody::client);
  CHECK(info.epoch == 0);
  CHECK_FALSE(info.key_id);
  CHECK(a->request(keyless_publish(g, 1)).code() == errc::rekey_pending);
  CHECK(b->request(keyless_publish(g, 0)).code() == errc::rekey_pending);

  SECTION("a rekey that does not name exactly the members is bad_rekey") {
    auto rk = a->make_rekey(*rq);
    rk.wrapped.erase(b->user_id());
    CHECK(a->request(rk).code() == errc::bad_rekey);
    auto extra = a->make_rekey(*rq);
    extra.wrapped[test_client().user_id()] = extra.wrapped.begin()->second;
    CHECK(a->request(extra).code() == errc::bad_rekey);
  }
  SECTION("a rekey with a bad manifest signature is bad_rekey") {
    auto rk = a->make_rekey(*rq);
    rk.manifest_sig[10] ^= 1;
    CHECK(a->request(rk).code() == errc::bad_rekey);
  }
  SECTION("a rekey for an epoch that is not next is bad_rekey") {
    auto next = *rq;
    next.epoch = 2;
    CHECK(a->request(a->make_rekey(next)).code() == errc::bad_rekey);
  }
  SECTION("a rekey by a plain member is bad_rekey") { CHECK(b->request(b->make_rekey(*rq)).code() == errc::bad_rekey); }
  SECTION("a good rekey distributes the creator's key; publishing works") {
    auto ok = a->request(a->make_rekey(*rq));
    INFO(ok.describe());
    REQUIRE(ok.is_ok());
    for (auto* x : {a.get(), b.get()}) {
      REQUIRE(x->wait_key(g, 1));
      const auto* k = x->key(g, 1);
      CHECK(k->frame.custody == proto::key_custody::client);
      CHECK(k->frame.issuer == a->user_id());
      CHECK(k->manifest_verified);
      CHECK(x->key_errors().empty());
    }
    auto p = a->publish(g, "end to end");
    INFO(p.describe());
    REQUIRE(p.is_ok());
    CHECK(plain(*b, messages(*b, g, 1)[0]) == "end to end");
    CHECK(a->request(cli::group_info{{}, g}).as<proto::group_info_result>().epoch == 1);
  }
  // Whatever happened, the connection keeps working.
  CHECK(a->request(cli::list_groups{}).is_ok());
}

TEST_CASE("client custody: membership changes ask for the next epoch; removals block publishing",
          "[integration][custody]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  auto c = online(f.port(), "c");
  for (auto* x : {b.get(), c.get()}) x->know(*a);
  cli::create_group cg;
  cg.name = "e2e";
  cg.members = {b->user_id()};
  cg.custody = proto::key_custody::client;
  const auto g = a->request(cg).as<proto::create_group_result>().group;
  auto rq1 = rekey_request_for(*a, g);
  REQUIRE(rq1);
  REQUIRE(a->request(a->make_rekey(*rq1)).is_ok());
  REQUIRE(b->wait_key(g, 1));

  // An addition: the old epoch stays usable until the rekey lands.
  REQUIRE(a->request(cli::add_member{{}, g, c->user_id(), proto::member_role::member}).is_ok());
  auto rq2 = rekey_request_for(*a, g);
  REQUIRE(rq2);
  CHECK(rq2->epoch == 2);
  CHECK(rq2->members.size() == 3);
  CHECK(rq2->prev_hash == a->key(g, 1)->manifest_hash);
  auto during = b->publish(g, "still epoch 1");
  INFO(during.describe());
  CHECK(during.is_ok());
  REQUIRE(a->request(a->make_rekey(*rq2)).is_ok());
  for (auto* x : {a.get(), b.get(), c.get()}) {
    REQUIRE(x->wait_key(g, 2));
    CHECK(x->key(g, 2)->manifest_verified);
    CHECK(x->key_errors().empty());  // includes the prev_hash chain for a and b
  }
  // c joined at epoch 2: the epoch-1 message b sent meanwhile is not for it (section 7).
  CHECK_FALSE(c->wait_for(
      [](const proto::server_frame& x) {
        auto* m = std::get_if<srv::message>(&x);
        return m && m->epoch == 1;
      },
      300ms));
  REQUIRE(c->publish(g, "hello from c").is_ok());
  CHECK(plain(*b, messages(*b, g, 1)[0]) == "hello from c");

  // A removal: publishing waits for the rekey, and the removed member is not in it.
  REQUIRE(a->request(cli::remove_member{{}, g, c->user_id()}).is_ok());
  auto rq3 = rekey_request_for(*a, g);
  REQUIRE(rq3);
  CHECK(rq3->epoch == 3);
  CHECK(rq3->members.size() == 2);
  CHECK(b->publish(g, "too early").code() == errc::rekey_pending);
  auto stale = a->make_rekey(*rq2);  // still names c
  stale.epoch = 3;
  CHECK(a->request(stale).code() == errc::bad_rekey);
  REQUIRE(a->request(a->make_rekey(*rq3)).is_ok());
  REQUIRE(b->wait_key(g, 3));
  REQUIRE(b->publish(g, "after removal").is_ok());
  c->drain(500ms);
  CHECK(c->key(g, 3) == nullptr);
}

TEST_CASE("client custody: a pending rekey is asked for again after a broker restart", "[integration][custody]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  b->know(*a);
  cli::create_group cg;
  cg.name = "e2e";
  cg.members = {b->user_id()};
  cg.custody = proto::key_custody::client;
  const auto g = a->request(cg).as<proto::create_group_result>().group;
  REQUIRE(rekey_request_for(*a, g));
  a->disconnect();
  b->disconnect();
  f.broker->kill_hard();
  f.restart();

  a->login(f.port(), "a");
  auto rq = rekey_request_for(*a, g);
  REQUIRE(rq);
  CHECK(rq->epoch == 1);
  REQUIRE(a->request(a->make_rekey(*rq)).is_ok());
  b->login(f.port(), "b");
  REQUIRE(b->wait_key(g, 1));
  CHECK(b->key(g, 1)->manifest_verified);
  REQUIRE(a->wait_key(g, 1));
  REQUIRE(a->publish(g, "after restart").is_ok());
  CHECK(plain(*b, messages(*b, g, 1)[0]) == "after restart");
}
