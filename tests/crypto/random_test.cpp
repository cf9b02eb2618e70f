#include <catch2/catch_test_macros.hpp>

#include "crypto/random.hpp"

using namespace sealcast;
using namespace sealcast::crypto;

TEST_CASE("random values have the requested size and differ", "[crypto][random]") {
  CHECK(random_bytes(0).empty());
  CHECK(random_bytes(32).size() == 32);
  CHECK(random_bytes(32) != random_bytes(32));
  CHECK(random_secret(24).size() == 24);
  CHECK(random_id() != random_id());
  CHECK_FALSE(random_id().is_zero());
  CHECK_FALSE(random_fixed_secret<group_key>() == random_fixed_secret<group_key>());
}
