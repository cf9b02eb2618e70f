// Group policies and limits (PROTOCOL.md sections 5 to 8): open groups, leave, rotation by
// message count, max_members, client-chosen ids, publish rate, acks across connections.

#include "tests/integration/fixtures.hpp"

using namespace sealcast;
using namespace sealcast::test;
using namespace std::chrono_literals;

TEST_CASE("an open group can be joined and left; each change starts an epoch", "[integration][policy]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  auto c = online(f.port(), "c");
  cli::create_group cg;
  cg.name = "lobby";
  cg.policy = proto::group_policy::open;
  const auto g = a->request(cg).as<proto::create_group_result>().group;
  REQUIRE(a->wait_key(g, 1));

  auto j = b->request(cli::join{{}, g});
  INFO(j.describe());
  REQUIRE(j.is_ok());
  CHECK(j.as<proto::epoch_result>().epoch == 2);
  REQUIRE(b->wait_key(g, 2));
  REQUIRE(a->wait_key(g, 2));
  CHECK(b->request(cli::join{{}, g}).code() == errc::exists);
  REQUIRE(c->request(cli::join{{}, g}).is_ok());
  REQUIRE(c->wait_key(g, 3));
  REQUIRE(b->wait_key(g, 3));

  auto l = b->request(cli::leave{{}, g});
  INFO(l.describe());
  REQUIRE(l.is_ok());
  REQUIRE(a->wait_key(g, 4));
  REQUIRE(c->wait_key(g, 4));
  CHECK(a->key(g, 4)->members.size() == 2);
  CHECK(a->request(cli::leave{{}, g}).code() == errc::forbidden);  // the owner stays
  REQUIRE(a->publish(g, "b has left").is_ok());
  CHECK(plain(*c, messages(*c, g, 1)[0]) == "b has left");
  b->drain(500ms);
  CHECK(b->key(g, 4) == nullptr);
  CHECK(no_message(*b, g, 10ms));

  // An invite-only group cannot be joined.
  const auto closed = a->create_group("private", {});
  CHECK(b->request(cli::join{{}, closed}).code() == errc::forbidden);
}

TEST_CASE("pubsub.rotate_after_messages rotates the key; the old epoch stays usable within grace",
          "[integration][policy]") {
  broker_fixture f(sets({"pubsub.rotate_after_messages=3", "pubsub.retry_interval=1"}));
  auto a = online(f.port());
  auto b = online(f.port());
  const auto g = make_group(*a, {b.get()});
  for (int i = 0; i < 3; ++i) REQUIRE(a->publish(g, "m" + std::to_string(i), 1).is_ok());
  REQUIRE(a->wait_key(g, 2, 4s));
  REQUIRE(b->wait_key(g, 2, 4s));
  CHECK(a->key(g, 2)->manifest_verified);
  CHECK(a->key_errors().empty());
  CHECK(a->key(g, 2)->frame.key_id != a->key(g, 1)->frame.key_id);
  auto late = a->publish(g, "epoch 1, after the rotation", 1);
  INFO(late.describe());
  CHECK(late.is_ok());
  REQUIRE(a->publish(g, "epoch 2").is_ok());
  auto ms = messages(*b, g, 5);
  CHECK(plain(*b, ms[3]) == "epoch 1, after the rotation");
  CHECK(ms[4].epoch == 2);
  CHECK(plain(*b, ms[4]) == "epoch 2");
}

TEST_CASE("the key-rotation scheduler rotates an epoch older than key_rotation_interval, once per age",
          "[integration][policy][scheduler]") {
  // A 3 s interval: the scheduler sweeps every second (a tenth of it, at least 1 s).
  broker_fixture f(sets({"pubsub.key_rotation_interval=3"}));
  auto a = online(f.port());
  auto b = online(f.port());
  const auto g = make_group(*a, {b.get()});
  REQUIRE(a->publish(g, "epoch 1").is_ok());
  CHECK_FALSE(b->wait_key(g, 2, 1500ms));  // not before the epoch is 3 s old
  REQUIRE(b->wait_key(g, 2, 5s));
  REQUIRE(a->wait_key(g, 2, 2s));
  CHECK(a->key(g, 2)->manifest_verified);
  // The new epoch is young: the sweeps right after the rotation leave it alone.
  CHECK_FALSE(b->wait_key(g, 3, 1500ms));
  REQUIRE(a->publish(g, "epoch 2").is_ok());
  auto ms = messages(*b, g, 2);
  CHECK(ms[1].epoch == 2);
  CHECK(plain(*b, ms[1]) == "epoch 2");
}

TEST_CASE("max_members and client-chosen group ids are enforced", "[integration][policy]") {
  broker_fixture f;
  auto a = online(f.port());
  auto b = online(f.port());
  auto c = online(f.port());
  cli::create_group cg;
  cg.name = "pair";
  cg.group = test_client().user_id();  // any fresh 16-byte id
  cg.max_members = 2;
  cg.members = {b->user_id()};
  auto r = a->request(cg);
  REQUIRE(r.is_ok());
  CHECK(r.as<proto::create_group_result>().group == *cg.group);
  CHECK(a->request(cli::add_member{{}, *cg.group, c->user_id(), proto::member_role::member}).code() ==
        errc::group_full);
  CHECK(c->request(cg).code() == errc::exists);
  cg.group = test_client().user_id();
  cg.members = {b->user_id(), c->user_id()};
  CHECK(a->request(cg).code() == errc::group_full);
}

TEST_CASE("limits.publish_rate answers rate_limited beyond the rate", "[integration][policy]") {
  broker_fixture f(sets({"limits.publish_rate=2"}));
  auto a = online(f.port());
  auto b = online(f.port());
  const auto g = make_group(*a, {b.get()});
  int ok = 0, limited = 0;
  for (int i = 0; i < 6; ++i) {
    auto r = a->publish(g, "fast");
    if (r.is_ok())
      ++ok;
    else if (r.code() == errc::rate_limited)
      ++limited;
  }
  CHECK(ok >= 2);
  CHECK(limited >= 1);
  CHECK(ok + limited == 6);
}

TEST_CASE("an ack from one connection settles the delivery for the user's other connections", "[integration][policy]") {
  broker_fixture f(sets({"pubsub.retry_interval=1"}));
  auto a = online(f.port());
  auto b1 = online(f.port());
  test_client b2(b1->identity());
  b2.login(f.port());
  const auto g = make_group(*a, {b1.get()});
  REQUIRE(b2.wait_key(g, 1));
  REQUIRE(a->publish(g, "once").is_ok());
  auto m1 = messages(*b1, g, 1)[0];
  auto m2 = messages(b2, g, 1)[0];
  CHECK(m1.id == m2.id);
  b1->ack(g, m1.seq);
  CHECK(no_message(b2, g, 2500ms));
  CHECK(no_message(*b1, g, 10ms));
}

TEST_CASE("a direct message past max_message_ttl is not delivered", "[integration][policy]") {
  broker_fixture f(sets({"pubsub.max_message_ttl=1", "pubsub.cleanup_interval=1"}));
  auto a = online(f.port());
  auto b = online(f.port());
  b->disconnect();
  REQUIRE(a->send_direct(b->user_id(), "too late").is_ok());
  std::this_thread::sleep_for(3s);  // TTL 1 s plus one or two cleanup periods
  b->login(f.port());
  CHECK_FALSE(b->next_push<srv::direct>(1s));
}

TEST_CASE("members see each other come online and go offline", "[integration][policy]") {
  broker_fixture f;
  auto a = online(f.port());
  auto b = online(f.port());
  const auto g = make_group(*a, {b.get()});
  auto is_presence = [&](bool on) {
    return [&, on](const proto::server_frame& x) {
      auto* p = std::get_if<srv::presence>(&x);
      return p && p->group == g && p->user == b->user_id() && p->online == on;
    };
  };
  b->disconnect();
  CHECK(a->wait_for(is_presence(false), 3s));
  b->login(f.port());
  CHECK(a->wait_for(is_presence(true), 3s));
}
