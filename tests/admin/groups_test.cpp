// /admin/groups (paging, filters), /admin/groups/{id}, /admin/users/{id}/groups and
// POST /admin/groups/{id}/rotate against groups the test created.

#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <set>

#include "tests/admin/admin_fixtures.hpp"

using namespace sealcast;
using namespace sealcast::test;
using namespace std::chrono_literals;

namespace {

/// A client-custody group of `owner` alone (docs/protocol.md 6.4: members come later, each with
/// its own proposal); its genesis commit is pending.
id16 client_custody_group(test_client& owner, const std::string& name) {
  cli::create_group cg;
  cg.name = name;
  cg.custody = proto::key_custody::client;
  auto created = owner.request(cg);
  INFO(created.describe());
  REQUIRE(created.is_ok());
  return created.as<proto::create_group_result>().group;
}

const json::object* member_entry(const json::object& detail, const id16& user) {
  for (const auto& m : detail.at("members").as_array())
    if (str(m.at("user")) == user.hex()) return &m.as_object();
  return nullptr;
}

}  // namespace

TEST_CASE("groups are listed in id order, page by page, and filtered", "[admin][groups]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  std::set<std::string> made;
  for (int i = 0; i < 5; ++i) made.insert(make_group(*a, {b.get()}, "g" + std::to_string(i)).hex());
  const auto cg = a->create_group("client", {b->user_id()}, proto::key_custody::client);  // epochs 1 and 2
  made.insert(cg.hex());

  std::vector<std::string> seen;
  std::string after;
  int pages = 0;
  for (;;) {
    auto page = admin_ok(f, "/admin/groups?limit=2" + (after.empty() ? std::string() : "&after=" + after));
    ++pages;
    const auto& groups = page.at("groups").as_array();
    CHECK(groups.size() <= 2);
    for (const auto& g : groups) {
      seen.push_back(str(g.at("group")));
      CHECK(num(g.at("member_count")) == 2);
      CHECK(str(g.at("name")).size() > 0);
    }
    if (page.at("next").is_null()) break;
    after = str(page.at("next"));
    CHECK(after == seen.back());
    REQUIRE(pages < 10);
  }
  CHECK(pages == 3);
  CHECK(std::is_sorted(seen.begin(), seen.end()));
  CHECK(std::set<std::string>(seen.begin(), seen.end()) == made);
  CHECK(seen.size() == made.size());

  auto client_only = admin_ok(f, "/admin/groups?custody=client");
  REQUIRE(client_only.at("groups").as_array().size() == 1);
  CHECK(str(client_only.at("groups").as_array()[0].at("group")) == cg.hex());
  CHECK(str(client_only.at("groups").as_array()[0].at("custody")) == "client");
  CHECK(admin_ok(f, "/admin/groups?custody=broker").at("groups").as_array().size() == 5);
  CHECK(admin_ok(f, "/admin/groups?policy=open").at("groups").as_array().empty());

  for (const char* bad : {"/admin/groups?limit=abc", "/admin/groups?limit=0", "/admin/groups?limit=1001",
                          "/admin/groups?after=xyz", "/admin/groups?custody=nobody", "/admin/groups?policy=x"}) {
    auto r = admin_get(f, bad);
    INFO(bad << " -> " << r.raw);
    CHECK(r.status == 400);
    REQUIRE(r.body.is_object());
    CHECK(str(r.body.at("error")).size() > 0);
  }
}

TEST_CASE("a group's detail shows members online, keys and what is missing", "[admin][groups]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  a->know(*b);
  b->know(*a);
  const auto g = make_group(*a, {b.get()}, "detail");
  REQUIRE(a->publish(g, "one").is_ok());

  auto d = admin_ok(f, "/admin/groups/" + g.hex());
  CHECK(str(d.at("group")) == g.hex());
  CHECK(str(d.at("name")) == "detail");
  CHECK(str(d.at("custody")) == "broker");
  CHECK(str(d.at("policy")) == "invite");
  CHECK(num(d.at("epoch")) == 1);
  CHECK(str(d.at("key_id")) == a->key(g, 1)->frame.key_id.hex());
  CHECK(num(d.at("member_count")) == 2);
  CHECK(num(d.at("next_seq")) == 2);
  CHECK(d.at("missing_keys").as_array().empty());
  const auto* ma = member_entry(d, a->user_id());
  const auto* mb = member_entry(d, b->user_id());
  REQUIRE(ma);
  REQUIRE(mb);
  CHECK(str(ma->at("role")) == "owner");
  CHECK(str(mb->at("role")) == "member");
  CHECK(ma->at("online").as_bool());
  CHECK(mb->at("online").as_bool());
  CHECK(num(d.at("pending_messages")) == 1);  // b has not acknowledged it

  b->disconnect();
  CHECK(eventually([&] {
    auto now = admin_ok(f, "/admin/groups/" + g.hex());
    const auto* m = member_entry(now, b->user_id());
    return m && !m->at("online").as_bool();
  }));

  SECTION("client custody: every member lacks the pending epoch's key until an admin commits") {
    b->login(f.port(), "b");
    const auto cg = client_custody_group(*a, "e2e");
    auto rq = a->rekey_request(cg);
    REQUIRE(rq);
    auto before = admin_ok(f, "/admin/groups/" + cg.hex());
    CHECK(num(before.at("epoch")) == 0);
    CHECK(num(before.at("pending_epoch")) == 1);
    CHECK(before.at("key_id").is_null());
    REQUIRE(before.at("missing_keys").as_array().size() == 1);  // the genesis: the creator alone
    CHECK(str(before.at("missing_keys").as_array()[0].at("user")) == a->user_id().hex());
    REQUIRE(a->answer(*rq).is_ok());
    auto first = admin_ok(f, "/admin/groups/" + cg.hex());
    CHECK(num(first.at("epoch")) == 1);
    CHECK(first.at("pending_epoch").is_null());
    CHECK(first.at("missing_keys").as_array().empty());

    REQUIRE(a->wait_key(cg, 1));
    REQUIRE(a->add_member(cg, b->user_id()).is_ok());
    auto pending = admin_ok(f, "/admin/groups/" + cg.hex());
    CHECK(num(pending.at("pending_epoch")) == 2);
    // Nobody holds epoch 2's key yet; b, admitted while it is pending, holds no epoch-1 key either.
    std::set<std::pair<std::string, std::int64_t>> lacking;
    for (const auto& m : pending.at("missing_keys").as_array()) lacking.emplace(str(m.at("user")), num(m.at("epoch")));
    CHECK(lacking == std::set<std::pair<std::string, std::int64_t>>{
                         {a->user_id().hex(), 2}, {b->user_id().hex(), 1}, {b->user_id().hex(), 2}});
    auto committed = a->commit(cg);
    REQUIRE(committed.ok());
    CHECK(*committed == 2);
    auto after = admin_ok(f, "/admin/groups/" + cg.hex());
    CHECK(num(after.at("epoch")) == 2);
    CHECK(after.at("pending_epoch").is_null());
    CHECK(after.at("missing_keys").as_array().empty());
  }
}

TEST_CASE("a user's groups come with name, role and member count", "[admin][users]") {
  broker_fixture f;
  auto a = online(f.port(), "alice");
  auto b = online(f.port(), "bob");
  auto c = online(f.port(), "carol");
  const auto g1 = make_group(*a, {b.get()}, "ab");
  const auto g2 = make_group(*b, {a.get(), c.get()}, "bac");
  auto u = admin_ok(f, "/admin/users/" + a->user_id().hex() + "/groups");
  CHECK(str(u.at("user")) == a->user_id().hex());
  CHECK(str(u.at("name")) == "alice");
  const auto& groups = u.at("groups").as_array();
  REQUIRE(groups.size() == 2);
  for (const auto& x : groups) {
    const auto id = str(x.at("group"));
    if (id == g1.hex()) {
      CHECK(str(x.at("name")) == "ab");
      CHECK(str(x.at("role")) == "owner");
      CHECK(num(x.at("member_count")) == 2);
    } else {
      CHECK(id == g2.hex());
      CHECK(str(x.at("name")) == "bac");
      CHECK(str(x.at("role")) == "member");
      CHECK(num(x.at("member_count")) == 3);
    }
  }
  CHECK(admin_ok(f, "/admin/users/" + c->user_id().hex() + "/groups").at("groups").as_array().size() == 1);
  CHECK(admin_get(f, "/admin/users/" + test_client().user_id().hex() + "/groups").status == 404);
  CHECK(admin_get(f, "/admin/users/nothex/groups").status == 400);
}

TEST_CASE("rotate: a new epoch in broker custody, a rekey request in client custody", "[admin][rotate]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  a->know(*b);
  b->know(*a);
  const auto g = make_group(*a, {b.get()}, "rot");
  auto r = admin_call(f, "POST", "/admin/groups/" + g.hex() + "/rotate");
  INFO(r.raw);
  REQUIRE(r.status == 200);
  CHECK(str(r.body.at("group")) == g.hex());
  CHECK(num(r.body.at("epoch")) == 2);
  CHECK(str(r.body.at("custody")) == "broker");
  CHECK(str(r.body.at("status")) == "rotated");
  CHECK(a->wait_key(g, 2));
  CHECK(b->wait_key(g, 2));
  CHECK(num(admin_ok(f, "/admin/groups/" + g.hex()).at("epoch")) == 2);
  CHECK(stat(admin_ok(f, "/admin/stats"), "encryption", "key_rotations") == 1);
  CHECK(a->publish(g, "after rotation").is_ok());

  const auto cg = client_custody_group(*a, "e2e");
  auto rq = a->rekey_request(cg);
  REQUIRE(rq);
  REQUIRE(a->answer(*rq).is_ok());
  REQUIRE(a->wait_key(cg, 1));
  auto cr = admin_call(f, "POST", "/admin/groups/" + cg.hex() + "/rotate");
  INFO(cr.raw);
  REQUIRE(cr.status == 200);
  CHECK(str(cr.body.at("custody")) == "client");
  CHECK(str(cr.body.at("status")) == "rekey_requested");
  CHECK(num(cr.body.at("epoch")) == 2);
  auto again = a->rekey_request(cg);
  REQUIRE(again);
  CHECK(again->epoch == 2);
  CHECK(again->changes.empty());  // section 6.8: a rotation without membership change
  CHECK(num(admin_ok(f, "/admin/groups/" + cg.hex()).at("pending_epoch")) == 2);

  CHECK(admin_call(f, "POST", "/admin/groups/" + test_client().user_id().hex() + "/rotate").status == 404);
  CHECK(admin_call(f, "POST", "/admin/groups/12/rotate").status == 400);
  CHECK(admin_call(f, "GET", "/admin/groups/" + g.hex() + "/rotate").status == 405);
}

TEST_CASE("missing_keys is right after a restart, for current and pending epochs", "[admin][groups]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  const auto g = make_group(*a, {b.get()}, "broker-held");
  const auto cg = client_custody_group(*a, "client-held");
  REQUIRE(commit_by(*a, cg) == 1);
  REQUIRE(a->wait_key(cg, 1));
  REQUIRE(a->add_member(cg, b->user_id()).is_ok());  // epoch 2 pending: nobody holds its key
  REQUIRE(a->rekey_request(cg));
  a->disconnect();
  b->disconnect();
  f.restart();

  // Group actors load from the store on this query: the key holders come with them.
  auto d = admin_ok(f, "/admin/groups/" + g.hex());
  CHECK(num(d.at("epoch")) == 1);
  CHECK(d.at("missing_keys").as_array().empty());
  auto c = admin_ok(f, "/admin/groups/" + cg.hex());
  CHECK(num(c.at("epoch")) == 1);
  CHECK(num(c.at("pending_epoch")) == 2);
  std::set<std::pair<std::string, std::int64_t>> lacking;
  for (const auto& m : c.at("missing_keys").as_array()) lacking.emplace(str(m.at("user")), num(m.at("epoch")));
  CHECK(lacking == std::set<std::pair<std::string, std::int64_t>>{
                       {a->user_id().hex(), 2}, {b->user_id().hex(), 1}, {b->user_id().hex(), 2}});

  // A rotation through the API: every member holds the new epoch's key, nobody is missing.
  REQUIRE(admin_call(f, "POST", "/admin/groups/" + g.hex() + "/rotate").status == 200);
  auto after = admin_ok(f, "/admin/groups/" + g.hex());
  CHECK(num(after.at("epoch")) == 2);
  CHECK(after.at("missing_keys").as_array().empty());
}
