// Broker-custody groups (PROTOCOL.md sections 5 to 7): keys, publish and delivery, queries.

#include <algorithm>

#include "crypto/identity.hpp"
#include "tests/integration/fixtures.hpp"

using namespace sealcast;
using namespace sealcast::test;
using namespace std::chrono_literals;

namespace {

bool has(const std::vector<id16>& v, const id16& x) { return std::find(v.begin(), v.end(), x) != v.end(); }

}  // namespace

TEST_CASE("a two-member group: keys verify, a publish reaches the other member only", "[integration][groups]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  const auto g = make_group(*a, {b.get()});
  for (auto* c : {a.get(), b.get()}) {
    const auto* k = c->key(g, 1);
    REQUIRE(k);
    CHECK(k->manifest_verified);
    CHECK(k->frame.custody == proto::key_custody::broker);
    CHECK(k->frame.issuer == c->challenge().broker);
    CHECK(k->members.size() == 2);
    CHECK(c->key_errors().empty());
  }
  CHECK(a->key(g, 1)->frame.key_id == b->key(g, 1)->frame.key_id);

  auto r = a->publish(g, "hello b");
  INFO(r.describe());
  REQUIRE(r.is_ok());
  auto res = r.as<proto::publish_result>();
  CHECK(res.seq == 1);
  CHECK(res.ts > 0);
  auto m = messages(*b, g, 1)[0];
  CHECK(m.seq == 1);
  CHECK(m.id == res.id);
  CHECK(m.sender == a->user_id());
  CHECK(m.epoch == 1);
  CHECK(m.ts == res.ts);
  CHECK(plain(*b, m) == "hello b");
  CHECK(no_message(*a, g, 300ms));  // the sender does not get its own message
}

TEST_CASE("seq increments per group and deliveries arrive in seq order", "[integration][groups]") {
  broker_fixture f;
  auto a = online(f.port());
  auto b = online(f.port());
  const auto g = make_group(*a, {b.get()});
  for (std::uint64_t i = 1; i <= 3; ++i) {
    auto r = a->publish(g, "m" + std::to_string(i));
    REQUIRE(r.is_ok());
    CHECK(r.as<proto::publish_result>().seq == i);
  }
  auto ms = messages(*b, g, 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(ms[i].seq == i + 1);
    CHECK(plain(*b, ms[i]) == "m" + std::to_string(i + 1));
  }
  b->ack(g, 3);
  // b's reply to a's message continues the group's sequence.
  auto r = b->publish(g, "reply");
  REQUIRE(r.is_ok());
  CHECK(r.as<proto::publish_result>().seq == 4);
  auto back = messages(*a, g, 1)[0];
  CHECK(back.seq == 4);
  CHECK(plain(*a, back) == "reply");
  CHECK(no_message(*b, g, 300ms));  // acked: no redelivery, own message not echoed
}

TEST_CASE("a three-member group delivers to both other members, every algorithm", "[integration][groups]") {
  broker_fixture f;
  auto a = online(f.port());
  auto b = online(f.port());
  auto c = online(f.port());
  const auto g = make_group(*a, {b.get(), c.get()});
  CHECK(c->key(g, 1)->members.size() == 3);
  const proto::aead_alg algs[] = {proto::aead_alg::aes_256_gcm, proto::aead_alg::chacha20_poly1305,
                                  proto::aead_alg::xchacha20_poly1305};
  for (auto alg : algs) {
    auto r = b->publish(g, std::string("via ") + std::string(proto::to_string(alg)), std::nullopt, alg);
    INFO(r.describe());
    REQUIRE(r.is_ok());
  }
  for (auto* rx : {a.get(), c.get()}) {
    auto ms = messages(*rx, g, 3);
    for (std::size_t i = 0; i < 3; ++i) {
      CHECK(ms[i].alg == algs[i]);
      CHECK(plain(*rx, ms[i]) == std::string("via ") + std::string(proto::to_string(algs[i])));
    }
  }
  CHECK(no_message(*b, g, 300ms));
}

TEST_CASE("publish carries the sender's ratchet index; a repeated index is refused by the recipient",
          "[integration][groups][ratchet]") {
  // Section 7: indexes are signed and in the AAD; each (sender, epoch, index) opens once.
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  const auto g = make_group(*a, {b.get()});
  auto p0 = a->make_publish(g, "first");
  auto p1 = a->make_publish(g, "second");
  CHECK(p0.index == 0);
  CHECK(p1.index == 1);
  REQUIRE(a->request(p0).is_ok());
  REQUIRE(a->request(p1).is_ok());
  auto ms = messages(*b, g, 2);
  CHECK(ms[0].index == 0);
  CHECK(ms[1].index == 1);
  CHECK(plain(*b, ms[0]) == "first");
  CHECK(plain(*b, ms[1]) == "second");

  // The broker does not judge indexes: a replayed index gets a seq, and the recipient refuses it.
  auto again = a->request(a->make_publish_at(g, 1, 0, "first, again"));
  INFO(again.describe());
  REQUIRE(again.is_ok());
  auto replayed = messages(*b, g, 1)[0];
  CHECK(replayed.index == 0);
  auto r = b->decrypt(replayed);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::replay);
  // The same message delivered twice (a retry) is a replay the second time too.
  CHECK(b->decrypt(ms[1]).err().code == errc::replay);

  // Skipped indexes open out of order within the window; each still only once.
  REQUIRE(a->request(a->make_publish_at(g, 1, 5, "five")).is_ok());
  REQUIRE(a->request(a->make_publish_at(g, 1, 3, "three")).is_ok());
  auto out_of_order = messages(*b, g, 2);
  CHECK(out_of_order[0].index == 5);
  CHECK(plain(*b, out_of_order[0]) == "five");
  CHECK(plain(*b, out_of_order[1]) == "three");
  CHECK(b->decrypt(out_of_order[0]).err().code == errc::replay);
  // fetch returns the index too.
  auto fetched = b->request(cli::fetch{{}, g, 1, {}}).as<proto::fetch_result>().messages;
  REQUIRE(fetched.size() >= 2);
  CHECK(fetched[0].index == 0);
  CHECK(fetched[1].index == 1);
  // A tampered index breaks the signature (it is signed), before any index is spent.
  auto tampered = a->make_publish(g, "index 2");
  tampered.index = 4;
  REQUIRE(a->request(tampered).is_ok());
  auto t = messages(*b, g, 1)[0];
  CHECK(b->decrypt(t).err().code == errc::bad_signature);
}

TEST_CASE("group_info, list_groups and presence describe the group", "[integration][groups]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  auto c = online(f.port(), "c");
  const auto g = make_group(*a, {b.get(), c.get()}, "team");
  REQUIRE(a->publish(g, "x").is_ok());

  auto info = b->request(cli::group_info{{}, g}).as<proto::group_info_result>();
  CHECK(info.name == "team");
  CHECK(info.policy == proto::group_policy::invite);
  CHECK(info.custody == proto::key_custody::broker);
  CHECK(info.epoch == 1);
  REQUIRE(info.key_id);
  CHECK(*info.key_id == b->key(g, 1)->frame.key_id);
  CHECK(info.next_seq == 2);
  REQUIRE(info.members.size() == 3);
  for (const auto& m : info.members) {
    CHECK(m.online);
    CHECK(m.role == (m.user == a->user_id() ? proto::member_role::owner : proto::member_role::member));
  }

  auto groups = c->request(cli::list_groups{}).as<proto::list_groups_result>().groups;
  REQUIRE(groups.size() == 1);
  CHECK(groups[0].group == g);
  CHECK(groups[0].name == "team");
  CHECK(groups[0].epoch == 1);
  CHECK(groups[0].role == proto::member_role::member);
  CHECK(groups[0].member_count == 3);
  auto owner_view = a->request(cli::list_groups{}).as<proto::list_groups_result>().groups;
  REQUIRE(owner_view.size() == 1);
  CHECK(owner_view[0].role == proto::member_role::owner);

  auto online_now = a->request(cli::presence{{}, g}).as<proto::presence_result>().online;
  CHECK(online_now.size() == 3);
  c->disconnect();
  // Presence follows the disconnect (asynchronously: poll).
  bool gone = false;
  for (int i = 0; i < 50 && !gone; ++i) {
    auto now = a->request(cli::presence{{}, g}).as<proto::presence_result>().online;
    gone = now.size() == 2 && has(now, a->user_id()) && has(now, b->user_id()) && !has(now, c->user_id());
    if (!gone) std::this_thread::sleep_for(50ms);
  }
  CHECK(gone);
  // A stranger may not look.
  auto d = online(f.port());
  CHECK(d->request(cli::group_info{{}, g}).code() == errc::not_member);
  CHECK(d->request(cli::presence{{}, g}).code() == errc::not_member);
  CHECK(d->request(cli::list_groups{}).as<proto::list_groups_result>().groups.empty());
}

TEST_CASE("list_users and user_keys describe the known users", "[integration][groups]") {
  broker_fixture f;
  auto a = online(f.port(), "alice");
  auto b = online(f.port(), "bob");
  b->disconnect();
  bool settled = false;
  std::vector<proto::user_status> users;
  for (int i = 0; i < 50 && !settled; ++i) {
    users = a->request(cli::list_users{}).as<proto::list_users_result>().users;
    settled = users.size() == 2 &&
              std::none_of(users.begin(), users.end(), [&](auto& u) { return u.user == b->user_id() && u.online; });
    if (!settled) std::this_thread::sleep_for(50ms);
  }
  REQUIRE(settled);
  for (const auto& u : users) {
    if (u.user == a->user_id()) {
      CHECK(u.name == "alice");
      CHECK(u.online);
    } else {
      CHECK(u.name == "bob");
    }
  }
  auto keys = a->request(cli::user_keys{{}, b->user_id()}).as<proto::user_keys_result>();
  CHECK(bytes(keys.sign_pk.begin(), keys.sign_pk.end()) == b->identity().sign_pk());
  CHECK(bytes(keys.kx_pk.begin(), keys.kx_pk.end()) == b->identity().kx_pk());
  CHECK(crypto::verify_kx_sig(keys.sign_pk, keys.kx_pk, keys.kx_sig));
  test_client never;
  CHECK(a->request(cli::user_keys{{}, never.user_id()}).code() == errc::unknown_user);
}

TEST_CASE("create_group refuses members the broker has never seen", "[integration][groups]") {
  broker_fixture f;
  auto a = online(f.port());
  test_client stranger;
  cli::create_group c;
  c.name = "g";
  c.members = {stranger.user_id()};
  CHECK(a->request(c).code() == errc::unknown_user);
  CHECK(a->request(cli::list_groups{}).as<proto::list_groups_result>().groups.empty());
}

TEST_CASE("welcome lists the user's groups after a reconnect, with the current key", "[integration][groups]") {
  broker_fixture f;
  auto a = online(f.port());
  auto b = online(f.port());
  const auto g = make_group(*a, {b.get()}, "again");
  b->disconnect();
  auto w = b->login(f.port());
  REQUIRE(w.groups.size() == 1);
  CHECK(w.groups[0].group == g);
  CHECK(w.groups[0].name == "again");
  CHECK(w.groups[0].epoch == 1);
  CHECK(w.groups[0].role == proto::member_role::member);
  auto k = b->next_push<srv::key>(3s);
  REQUIRE(k);
  CHECK(k->group == g);
  CHECK(k->epoch == 1);
}
