// Membership changes (PROTOCOL.md sections 5 and 6): every change starts an epoch; removed
// members get nothing later, new members nothing earlier.

#include "tests/integration/fixtures.hpp"

using namespace sealcast;
using namespace sealcast::test;
using namespace std::chrono_literals;

namespace {

/// The next `member` push about `user` in `group`.
std::optional<srv::member> member_push(test_client& c, const id16& group, const id16& user) {
  auto f = c.wait_for(
      [&](const proto::server_frame& x) {
        auto* m = std::get_if<srv::member>(&x);
        return m && m->group == group && m->user == user;
      },
      3s);
  if (!f) return std::nullopt;
  return std::get<srv::member>(*f);
}

}  // namespace

TEST_CASE("add_member starts epoch 2 for everyone; the late joiner gets nothing earlier", "[integration][membership]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  auto c = online(f.port(), "c");
  const auto g = make_group(*a, {b.get()});
  REQUIRE(a->publish(g, "before 1").is_ok());
  REQUIRE(a->publish(g, "before 2").is_ok());
  messages(*b, g, 2);
  b->ack(g, 2);

  auto r = a->request(cli::add_member{{}, g, c->user_id(), proto::member_role::member});
  INFO(r.describe());
  REQUIRE(r.is_ok());
  CHECK(r.as<proto::epoch_result>().epoch == 2);
  for (auto* x : {a.get(), b.get(), c.get()}) {
    REQUIRE(x->wait_key(g, 2));
    CHECK(x->key(g, 2)->members.size() == 3);
    CHECK(x->key(g, 2)->manifest_verified);
    CHECK(x->key_errors().empty());
  }
  CHECK(c->key(g, 1) == nullptr);  // no key of an epoch before it joined
  for (auto* x : {a.get(), b.get()}) {
    auto m = member_push(*x, g, c->user_id());
    REQUIRE(m);
    CHECK(m->action == proto::member_action::joined);
    CHECK(m->epoch == 2);
  }

  REQUIRE(a->publish(g, "after").is_ok());
  auto got = messages(*c, g, 1)[0];
  CHECK(got.seq == 3);
  CHECK(plain(*c, got) == "after");
  CHECK(no_message(*c, g, 300ms));
  // fetch does not reach back before the join either.
  auto fetched = c->request(cli::fetch{{}, g, 1, {}}).as<proto::fetch_result>().messages;
  for (const auto& m : fetched) CHECK(m.seq >= 3);
  // The previous epoch stays usable for a while after a change that is not a removal.
  auto late = b->publish(g, "old epoch, within grace", 1);
  INFO(late.describe());
  CHECK(late.is_ok());
  CHECK(plain(*a, messages(*a, g, 1)[0]) == "old epoch, within grace");
  // Recipients are the epoch's members (PROTOCOL.md section 7): c holds no key of epoch 1, so
  // an epoch-1 message must not be sent to it.
  CHECK(no_message(*c, g, 500ms));
}

TEST_CASE("remove_member starts epoch 3 for the remaining members only", "[integration][membership]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  auto c = online(f.port(), "c");
  const auto g = make_group(*a, {b.get()});
  REQUIRE(a->request(cli::add_member{{}, g, c->user_id(), proto::member_role::member}).is_ok());
  for (auto* x : {a.get(), b.get(), c.get()}) REQUIRE(x->wait_key(g, 2));

  auto r = a->request(cli::remove_member{{}, g, b->user_id()});
  INFO(r.describe());
  REQUIRE(r.is_ok());
  CHECK(r.as<proto::epoch_result>().epoch == 3);
  for (auto* x : {a.get(), c.get()}) {
    REQUIRE(x->wait_key(g, 3));
    CHECK(x->key(g, 3)->members.size() == 2);
    CHECK(x->key_errors().empty());
    auto m = member_push(*x, g, b->user_id());
    REQUIRE(m);
    CHECK(m->action == proto::member_action::removed);
    CHECK(m->epoch == 3);
  }

  REQUIRE(a->publish(g, "secret after removal").is_ok());
  CHECK(plain(*c, messages(*c, g, 1)[0]) == "secret after removal");
  b->drain(700ms);
  CHECK(b->key(g, 3) == nullptr);
  CHECK(no_message(*b, g, 10ms));
  // The removed member can no longer act in the group or read its history.
  CHECK(b->publish(g, "still here?", 2).code() == errc::not_member);
  CHECK(b->request(cli::fetch{{}, g, 1, {}}).code() == errc::not_member);
  auto keys = b->request(cli::keys{{}, g, 3});
  if (keys.is_ok()) CHECK(keys.as<proto::keys_result>().keys.empty());
  // The epoch before a removal is not accepted any more, even within the grace period.
  auto stale = c->publish(g, "old epoch", 2);
  CHECK(stale.code() == errc::stale_epoch);
  // An old key does not open anything new: the removed member's reconnect brings no epoch 3.
  b->disconnect();
  auto w = b->login(f.port());
  CHECK(w.groups.empty());
  b->drain(500ms);
  CHECK(b->key(g, 3) == nullptr);
  CHECK(no_message(*b, g, 10ms));
}

TEST_CASE("keys returns the epochs the caller was a member of", "[integration][membership]") {
  broker_fixture f;
  auto a = online(f.port());
  auto b = online(f.port());
  auto c = online(f.port());
  const auto g = make_group(*a, {b.get()});
  REQUIRE(a->request(cli::add_member{{}, g, c->user_id(), proto::member_role::member}).is_ok());
  REQUIRE(c->wait_key(g, 2));
  auto ka = a->request(cli::keys{{}, g, 1}).as<proto::keys_result>().keys;
  REQUIRE(ka.size() == 2);
  CHECK(ka[0].epoch == 1);
  CHECK(ka[1].epoch == 2);
  auto kc = c->request(cli::keys{{}, g, 1}).as<proto::keys_result>().keys;
  REQUIRE(kc.size() == 1);
  CHECK(kc[0].epoch == 2);
  CHECK(kc[0].key_id == c->key(g, 2)->frame.key_id);
}

TEST_CASE("an admin added with role admin may add members; a plain member may not", "[integration][membership]") {
  broker_fixture f;
  auto a = online(f.port());
  auto b = online(f.port());
  auto c = online(f.port());
  auto d = online(f.port());
  const auto g = make_group(*a, {b.get()});
  CHECK(b->request(cli::add_member{{}, g, d->user_id(), proto::member_role::member}).code() == errc::forbidden);
  REQUIRE(a->request(cli::add_member{{}, g, c->user_id(), proto::member_role::admin}).is_ok());
  auto r = c->request(cli::add_member{{}, g, d->user_id(), proto::member_role::member});
  INFO(r.describe());
  CHECK(r.is_ok());
  CHECK(c->request(cli::remove_member{{}, g, a->user_id()}).code() == errc::forbidden);  // not the owner
  REQUIRE(d->wait_key(g, 3));
}
