// Access to the admin API: bearer token, unknown paths, wrong methods.

#include <catch2/catch_test_macros.hpp>

#include "tests/admin/admin_fixtures.hpp"

using namespace sealcast;
using namespace sealcast::test;

TEST_CASE("with admin.token set, every API route needs the bearer token", "[admin][access]") {
  broker_fixture f(sets({"admin.token=s3cret-token"}));
  const header_pairs good{{"Authorization", "Bearer s3cret-token"}};
  const header_pairs wrong{{"Authorization", "Bearer nope"}};
  for (const char* path : {"/admin/stats", "/admin/groups", "/admin/events", "/metrics", "/admin/events/stream",
                           "/admin/groups/00000000000000000000000000000001",
                           "/admin/messages/00000000000000000000000000000001"}) {
    INFO(path);
    CHECK(admin_get(f, path).status == 401);
    CHECK(admin_get(f, path, wrong).status == 401);
  }
  CHECK(admin_call(f, "POST", "/admin/groups/00000000000000000000000000000001/rotate").status == 401);
  CHECK(admin_get(f, "/admin/stats", good).status == 200);
  CHECK(admin_get(f, "/admin/groups", good).status == 200);
  CHECK(admin_get(f, "/admin/groups/00000000000000000000000000000001", good).status == 404);
  auto m = http_get("127.0.0.1", f.broker->admin_port(), "/metrics", good);
  CHECK(m.status == 200);
  CHECK(m.body.find("sealcast_uptime_seconds") != std::string::npos);
  // Probes stay open for orchestrators.
  CHECK(admin_get(f, "/healthz").status == 200);
}

TEST_CASE("unknown paths are 404 and wrong methods 405", "[admin][access]") {
  broker_fixture f;
  CHECK(admin_get(f, "/admin/nothing").status == 404);
  CHECK(admin_get(f, "/admin/groups/00000000000000000000000000000001/members").status == 404);
  CHECK(admin_call(f, "POST", "/admin/stats").status == 405);
  CHECK(admin_call(f, "DELETE", "/admin/groups").status == 405);
  CHECK(admin_call(f, "POST", "/metrics").status == 405);
  CHECK(admin_call(f, "PUT", "/admin/events").status == 405);
}

TEST_CASE("with admin.token set, the token is checked before the target is parsed", "[admin][access]") {
  broker_fixture f(sets({"admin.token=s3cret-token"}));
  const header_pairs good{{"Authorization", "Bearer s3cret-token"}};
  const auto port = f.broker->admin_port();
  const std::string user = "/admin/users/00000000000000000000000000000001/groups";
  CHECK(admin_get(f, user).status == 401);
  CHECK(admin_get(f, user, {{"Authorization", "Bearer nope"}}).status == 401);
  CHECK(admin_get(f, user, good).status == 404);
  // A bad percent-encoding: 401 without the token (nothing else is revealed), 400 JSON with it.
  for (const char* target : {"/admin/events?since=%zz", "/admin/gr%zzoups", "/nowhere%"}) {
    INFO(target);
    auto anon = http_call("127.0.0.1", port, "GET", target);
    CHECK(anon.status == 401);
    auto r = admin_get(f, target, good);
    CHECK(r.status == 400);
    REQUIRE(r.body.is_object());
    CHECK(r.body.as_object().contains("error"));
  }
  CHECK(admin_get(f, "/admin/nothing").status == 401);
}

TEST_CASE("404, 405 and 400 answers carry a JSON error body", "[admin][access]") {
  broker_fixture f;
  const auto port = f.broker->admin_port();
  auto missing = admin_get(f, "/admin/nothing");
  CHECK(missing.status == 404);
  REQUIRE(missing.body.is_object());
  CHECK(str(missing.body.at("error")) == "not found");

  auto wrong = http_call("127.0.0.1", port, "POST", "/admin/stats");
  CHECK(wrong.status == 405);
  CHECK(wrong.header("Allow") == "GET");
  CHECK(wrong.header("Content-Type") == "application/json");
  CHECK(wrong.body.find("\"error\"") != std::string::npos);

  auto bad = admin_get(f, "/admin/events?since=%zz");
  CHECK(bad.status == 400);
  REQUIRE(bad.body.is_object());
  CHECK(bad.body.as_object().contains("error"));
  auto bad_limit = admin_get(f, "/admin/groups?limit=0");
  CHECK(bad_limit.status == 400);
  CHECK(bad_limit.body.is_object());
}
