// Honest acknowledgements (issue 11): a membership change or publish whose write fails answers
// `internal`, sends nothing else (no ok, key frame, member frame) and leaves the broker as its
// store is, also after a restart. Failures are injected with the storage writer's test hook
// (tests/integration/write_faults.hpp).

#include <algorithm>

#include "crypto/random.hpp"
#include "tests/integration/write_faults.hpp"

using namespace sealcast;
using namespace sealcast::test;
using namespace std::chrono_literals;

namespace {

/// A `member` push about `user` in `group` within `window`.
std::optional<srv::member> member_push(test_client& c, const id16& group, const id16& user,
                                       std::chrono::milliseconds window) {
  auto f = c.wait_for(
      [&](const proto::server_frame& x) {
        auto* m = std::get_if<srv::member>(&x);
        return m && m->group == group && m->user == user;
      },
      window);
  if (!f) return std::nullopt;
  return std::get<srv::member>(*f);
}

/// The group as `asker` sees it through group_info.
proto::group_info_result info(test_client& asker, const id16& g) {
  auto r = asker.request(cli::group_info{{}, g});
  INFO(r.describe());
  REQUIRE(r.is_ok());
  return r.as<proto::group_info_result>();
}

bool has_member(const proto::group_info_result& i, const id16& user) {
  return std::any_of(i.members.begin(), i.members.end(), [&](const auto& m) { return m.user == user; });
}

/// The refusal of a change that could not be stored.
void check_not_stored(const reply& r) {
  INFO(r.describe());
  REQUIRE(r.error);
  CHECK(r.code() == errc::internal);
  CHECK(r.error->message.find("could not be stored") != std::string::npos);
}

}  // namespace

TEST_CASE("a removal whose epoch write fails answers internal, and the member stays one, also after a restart",
          "[integration][honest]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  auto c = online(f.port(), "c");
  const auto g = make_group(*a, {b.get(), c.get()});

  restart_failing_writes(f, "epochs");
  relogin(*a, f, "a");
  relogin(*b, f, "b");
  relogin(*c, f, "c");
  check_not_stored(a->remove_member(g, c->user_id()));
  // Nothing of the change went out: no key of epoch 2, no member frame.
  CHECK_FALSE(a->wait_key(g, 2, 500ms));
  CHECK_FALSE(b->wait_key(g, 2, 10ms));
  CHECK_FALSE(member_push(*b, g, c->user_id(), 10ms));
  CHECK_FALSE(member_push(*c, g, c->user_id(), 10ms));
  // The broker holds what its store holds: c is a member of epoch 1 and still receives.
  auto i = info(*a, g);
  CHECK(i.epoch == 1);
  CHECK(i.members.size() == 3);
  CHECK(has_member(i, c->user_id()));
  REQUIRE(a->publish(g, "c is still here").is_ok());
  CHECK(plain(*c, messages(*c, g, 1)[0]) == "c is still here");

  restart_honest(f);
  relogin(*a, f, "a");
  relogin(*b, f, "b");
  relogin(*c, f, "c");
  i = info(*a, g);
  CHECK(i.epoch == 1);
  CHECK(has_member(i, c->user_id()));
  CHECK(info(*c, g).members.size() == 3);
  // With a working store the same removal goes through.
  auto r = a->remove_member(g, c->user_id());
  INFO(r.describe());
  REQUIRE(r.is_ok());
  CHECK(r.as<proto::epoch_result>().epoch == 2);
  CHECK(b->wait_key(g, 2));
  CHECK_FALSE(c->wait_key(g, 2, 300ms));
}

TEST_CASE("an add whose epoch write fails answers internal, and the user is no member, also after a restart",
          "[integration][honest]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  auto d = online(f.port(), "d");
  const auto g = make_group(*a, {b.get()});

  restart_failing_writes(f, "epochs");
  relogin(*a, f, "a");
  relogin(*b, f, "b");
  relogin(*d, f, "d");
  check_not_stored(a->add_member(g, d->user_id()));
  CHECK_FALSE(d->wait_key(g, 2, 500ms));
  CHECK_FALSE(d->wait_key(g, 1, 10ms));
  CHECK_FALSE(a->wait_key(g, 2, 10ms));
  CHECK_FALSE(member_push(*b, g, d->user_id(), 10ms));
  auto i = info(*a, g);
  CHECK(i.epoch == 1);
  CHECK_FALSE(has_member(i, d->user_id()));
  CHECK(d->request(cli::group_info{{}, g}).code() == errc::not_member);
  // Nothing published now reaches d.
  REQUIRE(a->publish(g, "not for d").is_ok());
  CHECK(no_message(*d, g, 300ms));

  restart_honest(f);
  relogin(*a, f, "a");
  relogin(*d, f, "d");
  CHECK_FALSE(has_member(info(*a, g), d->user_id()));
  auto mine = d->request(cli::list_groups{{}}).as<proto::list_groups_result>();
  CHECK(mine.groups.empty());
  auto r = a->add_member(g, d->user_id());
  INFO(r.describe());
  REQUIRE(r.is_ok());
  CHECK(r.as<proto::epoch_result>().epoch == 2);
  CHECK(d->wait_key(g, 2));
}

TEST_CASE("a role change whose epoch write fails answers internal and keeps the role", "[integration][honest]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  auto c = online(f.port(), "c");
  const auto g = make_group(*a, {b.get(), c.get()});

  restart_failing_writes(f, "epochs");
  relogin(*a, f, "a");
  relogin(*b, f, "b");
  check_not_stored(a->set_role(g, b->user_id(), proto::member_role::admin));
  CHECK_FALSE(b->wait_key(g, 2, 300ms));
  // b is still a plain member: it may not remove anyone.
  auto r = b->remove_member(g, c->user_id());
  INFO(r.describe());
  CHECK(r.code() == errc::forbidden);
  for (const auto& m : info(*a, g).members)
    if (m.user == b->user_id()) CHECK(m.role == proto::member_role::member);

  restart_honest(f);
  relogin(*a, f, "a");
  for (const auto& m : info(*a, g).members)
    if (m.user == b->user_id()) CHECK(m.role == proto::member_role::member);
}

TEST_CASE("a client-custody removal whose write fails answers internal and asks no admin to commit",
          "[integration][honest]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  a->know(*b);
  b->know(*a);
  const auto g = make_client_group(*a, {b.get()});
  const auto epoch = a->current_epoch(g);

  // The removal's write is the first that stores a group record.
  restart_failing_writes(f, "groups,1");
  relogin(*a, f, "a");
  relogin(*b, f, "b");
  check_not_stored(a->remove_member(g, b->user_id()));
  CHECK_FALSE(a->rekey_request(g, 500ms));
  CHECK_FALSE(member_push(*b, g, b->user_id(), 10ms));
  CHECK(has_member(info(*a, g), b->user_id()));
  // No rekey is pending: b still publishes in the current epoch, and a reads it.
  auto p = b->publish(g, "still a member");
  INFO(p.describe());
  REQUIRE(p.is_ok());
  CHECK(plain(*a, messages(*a, g, 1)[0]) == "still a member");

  restart_honest(f);
  relogin(*a, f, "a");
  relogin(*b, f, "b");
  CHECK(has_member(info(*a, g), b->user_id()));
  REQUIRE(a->remove_member(g, b->user_id()).is_ok());
  CHECK(commit_by(*a, g) == epoch + 1);
  CHECK_FALSE(b->wait_key(g, epoch + 1, 300ms));
}

TEST_CASE("a publish whose write fails answers internal and leaves no trace: no message, no seq taken",
          "[integration][honest]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  const auto g = make_group(*a, {b.get()});
  REQUIRE(a->publish(g, "one").is_ok());
  auto first = messages(*b, g, 1)[0];
  CHECK(first.seq == 1);
  REQUIRE(b->ack(g, first.seq));
  // A request the group answers after the ack (same connection, same actor): the ack is applied
  // before the restart, and the cursor written at the latest when the broker stops.
  REQUIRE(b->request(cli::fetch{{}, g, 1, {}}).is_ok());

  restart_failing_writes(f, "messages,1");
  relogin(*a, f, "a");
  relogin(*b, f, "b");
  auto lost = a->publish(g, "lost");
  INFO(lost.describe());
  REQUIRE(lost.error);
  CHECK(lost.code() == errc::internal);
  CHECK(lost.error->message.find("could not be stored") != std::string::npos);
  CHECK(no_message(*b, g, 300ms));
  // The next message takes the seq the failed one had: no member sees a gap.
  auto two = a->publish(g, "two");
  INFO(two.describe());
  REQUIRE(two.is_ok());
  CHECK(two.as<proto::publish_result>().seq == 2);
  auto got = messages(*b, g, 1)[0];
  CHECK(got.seq == 2);
  CHECK(plain(*b, got) == "two");
  CHECK(no_message(*b, g, 200ms));

  restart_honest(f);
  relogin(*a, f, "a");
  relogin(*b, f, "b");
  // Unacknowledged, "two" is sent again, and nothing else: the failed message was never stored.
  auto again = messages(*b, g, 1)[0];
  CHECK(again.seq == 2);
  CHECK(again.id == two.as<proto::publish_result>().id);
  CHECK(no_message(*b, g, 200ms));
  auto fetched = b->request(cli::fetch{{}, g, 1, {}}).as<proto::fetch_result>().messages;
  REQUIRE(fetched.size() == 1);
  CHECK(fetched[0].seq == 2);
  REQUIRE(b->ack(g, 2));
  auto three = a->publish(g, "three");
  REQUIRE(three.is_ok());
  CHECK(three.as<proto::publish_result>().seq == 3);
}

TEST_CASE("a group whose creation write fails answers internal, sends no key and does not exist",
          "[integration][honest]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");

  restart_failing_writes(f, "epochs");
  relogin(*a, f, "a");
  relogin(*b, f, "b");
  cli::create_group cg;
  cg.name = "never stored";
  cg.group = crypto::random_id();
  cg.members = {b->user_id()};
  const auto gid = *cg.group;
  auto r = a->request(cg);
  INFO(r.describe());
  REQUIRE(r.error);
  CHECK(r.code() == errc::internal);
  CHECK(r.error->message.find("could not be") != std::string::npos);
  CHECK(a->request(cli::list_groups{{}}).as<proto::list_groups_result>().groups.empty());
  CHECK(b->request(cli::list_groups{{}}).as<proto::list_groups_result>().groups.empty());
  CHECK_FALSE(b->wait_key(gid, 1, 300ms));
  CHECK_FALSE(a->wait_key(gid, 1, 10ms));
  // Until the restart its actor refuses everything.
  CHECK(a->request(cli::group_info{{}, gid}).code() == errc::internal);

  restart_honest(f);
  relogin(*a, f, "a");
  CHECK(a->request(cli::list_groups{{}}).as<proto::list_groups_result>().groups.empty());
  CHECK(a->request(cli::group_info{{}, gid}).code() == errc::not_found);
  // The broker works again once its store does.
  const auto g = make_group(*a, {}, "stored");
  CHECK(a->request(cli::list_groups{{}}).as<proto::list_groups_result>().groups.size() == 1);
  (void)g;
}
