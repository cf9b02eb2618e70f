#include <catch2/catch_test_macros.hpp>

#include "crypto/secret.hpp"
#include "vectors.hpp"

using namespace sealcast;
using namespace sealcast::crypto;

TEST_CASE("fixed secrets take exactly their size", "[crypto][secret]") {
  CHECK(group_key::from_bytes(bytes(32, 1)).ok());
  CHECK(test::code_of(group_key::from_bytes(bytes(31, 1))) == errc::bad_length);
  CHECK(test::code_of(group_key::from_bytes(bytes(33, 1))) == errc::bad_length);
  auto k = group_key::from_bytes(bytes(32, 9));
  REQUIRE(k.ok());
  CHECK(k->view()[31] == 9);
  CHECK(group_key{}.view()[0] == 0);  // default-constructed secrets are zero, not indeterminate
}

TEST_CASE("fixed secrets compare by value", "[crypto][secret]") {
  auto a = group_key::from_bytes(bytes(32, 1));
  auto b = group_key::from_bytes(bytes(32, 1));
  auto c = group_key::from_bytes(bytes(32, 2));
  CHECK(*a == *b);
  CHECK_FALSE(*a == *c);
}

TEST_CASE("secure_wipe zeroes memory and ct_equal compares contents", "[crypto][secret]") {
  bytes b(40, 0xaa);
  secure_wipe(b.data(), b.size());
  CHECK(b == bytes(40, 0));
  secure_wipe(nullptr, 0);

  CHECK(ct_equal(bytes{1, 2, 3}, bytes{1, 2, 3}));
  CHECK_FALSE(ct_equal(bytes{1, 2, 3}, bytes{1, 2, 4}));
  CHECK_FALSE(ct_equal(bytes{1, 2, 3}, bytes{1, 2}));
  CHECK(ct_equal({}, {}));
}

TEST_CASE("secure_bytes behaves as a byte vector", "[crypto][secret]") {
  secure_bytes s = to_secure(bytes{1, 2, 3});
  s.push_back(4);
  for (int i = 0; i < 100; ++i) {
    s.push_back(static_cast<std::uint8_t>(i));  // regrowth releases, and wipes, old blocks
  }
  CHECK(s.size() == 104);
  CHECK(s[3] == 4);
  byte_view v = s;
  CHECK(v.size() == 104);
}
