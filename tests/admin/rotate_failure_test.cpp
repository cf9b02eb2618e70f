// A rotation whose epoch write fails (the storage writer's test hook): the admin API answers an
// error status, no key goes out, nothing is counted, and the broker keeps the stored epoch.

#include <catch2/catch_test_macros.hpp>

#include "tests/admin/admin_fixtures.hpp"
#include "tests/integration/write_faults.hpp"

using namespace sealcast;
using namespace sealcast::test;
using namespace std::chrono_literals;

TEST_CASE("an admin rotation whose epoch write fails answers 500 and changes nothing", "[admin][rotate][honest]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  const auto g = make_group(*a, {b.get()}, "rot");

  restart_failing_writes(f, "epochs");
  relogin(*a, f, "a");
  relogin(*b, f, "b");
  auto r = admin_call(f, "POST", "/admin/groups/" + g.hex() + "/rotate");
  INFO(r.raw);
  CHECK(r.status == 500);
  REQUIRE(r.body.is_object());
  CHECK(str(r.body.at("error")).find("could not be stored") != std::string::npos);
  CHECK_FALSE(a->wait_key(g, 2, 500ms));
  CHECK_FALSE(b->wait_key(g, 2, 10ms));
  CHECK(num(admin_ok(f, "/admin/groups/" + g.hex()).at("epoch")) == 1);
  auto s = admin_ok(f, "/admin/stats");
  CHECK(stat(s, "encryption", "key_rotations") == 0);  // a rotation that was not stored did not happen
  CHECK(stat(s, "encryption", "keys_generated") == 0);
  // The group still works in its stored epoch.
  REQUIRE(a->publish(g, "epoch 1 still").is_ok());
  CHECK(plain(*b, messages(*b, g, 1)[0]) == "epoch 1 still");

  restart_honest(f);
  relogin(*a, f, "a");
  relogin(*b, f, "b");
  CHECK(num(admin_ok(f, "/admin/groups/" + g.hex()).at("epoch")) == 1);
  auto ok = admin_call(f, "POST", "/admin/groups/" + g.hex() + "/rotate");
  INFO(ok.raw);
  REQUIRE(ok.status == 200);
  CHECK(num(ok.body.at("epoch")) == 2);
  CHECK(b->wait_key(g, 2));
}
