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
