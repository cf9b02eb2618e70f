#include <catch2/catch_test_macros.hpp>

#include <array>

#include "crypto/detail/kdf.hpp"
#include "crypto/hkdf.hpp"
#include "vectors.hpp"

using namespace sealcast;
using namespace sealcast::crypto;
using sealcast::test::hex;

namespace {

bytes range_bytes(std::uint8_t first, std::size_t n) {
  bytes b(n);
  for (std::size_t i = 0; i < n; ++i) {
    b[i] = static_cast<std::uint8_t>(first + i);
  }
  return b;
}

}  // namespace

TEST_CASE("hkdf reproduces RFC 5869 test case A.1", "[crypto][hkdf]") {
  const auto& v = test::rfc_vectors().at("hkdf_sha256_rfc5869_a1").as_object();
  const bytes ikm = hex(v.at("ikm"));
  const bytes salt = hex(v.at("salt"));
  const bytes info = hex(v.at("info"));
  const bytes okm_expected = hex(v.at("okm"));

  const secure_bytes prk = hkdf_extract(salt, ikm);
  CHECK(to_hex(prk) == test::str(v.at("prk")));

  auto okm = hkdf_expand(prk, info, okm_expected.size());
  REQUIRE(okm.ok());
  CHECK(to_hex(*okm) == test::str(v.at("okm")));

  auto full = hkdf(ikm, salt, info, okm_expected.size());
  REQUIRE(full.ok());
  CHECK(to_hex(*full) == test::str(v.at("okm")));
}

// A.2 uses 80-byte salt and info (longer than HMAC's block, so the key is hashed first) and a
// multi-block output; A.3 uses an empty salt and info.
TEST_CASE("hkdf reproduces RFC 5869 test cases A.2 and A.3", "[crypto][hkdf]") {
  const bytes ikm = range_bytes(0x00, 80);
  const bytes salt = range_bytes(0x60, 80);
  const bytes info = range_bytes(0xb0, 80);
  CHECK(to_hex(hkdf_extract(salt, ikm)) ==
        "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244");
  auto okm = hkdf(ikm, salt, info, 82);
  REQUIRE(okm.ok());
  CHECK(to_hex(*okm) ==
        "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c6"
        "5e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87");

  const bytes ikm3(22, 0x0b);
  CHECK(to_hex(hkdf_extract({}, ikm3)) ==
        "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04");
  auto okm3 = hkdf(ikm3, {}, {}, 42);
  REQUIRE(okm3.ok());
  CHECK(to_hex(*okm3) ==
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST_CASE("hkdf refuses outputs longer than 255 blocks and short keys", "[crypto][hkdf]") {
  const bytes prk(32, 1);
  CHECK(hkdf_expand(prk, {}, hkdf_max_length).ok());
  CHECK(test::code_of(hkdf_expand(prk, {}, hkdf_max_length + 1)) == errc::bad_length);
  CHECK(test::code_of(hkdf(prk, {}, {}, hkdf_max_length + 1)) == errc::bad_length);
  CHECK(test::code_of(hkdf_expand(bytes(31, 1), {}, 32)) == errc::bad_length);
  auto empty = hkdf_expand(prk, {}, 0);
  REQUIRE(empty.ok());
  CHECK(empty->empty());
}

// RFC 4231 section 4.3 (test case 2): the HMAC behind the sender ratchet's steps.
TEST_CASE("hmac-sha256 reproduces RFC 4231 test case 2, with data in parts", "[crypto][hkdf]") {
  std::array<std::uint8_t, 32> mac{};
  detail::hmac_sha256(mac, as_bytes("Jefe"), {as_bytes("what do ya want "), as_bytes("for nothing?")});
  CHECK(to_hex(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}
