#include <catch2/catch_test_macros.hpp>

#include "crypto/sign.hpp"
#include "vectors.hpp"

using namespace sealcast;
using namespace sealcast::crypto;
using sealcast::test::hex;

TEST_CASE("ed25519 reproduces RFC 8032 section 7.1 tests 1 and 2", "[crypto][sign]") {
  const auto& cases = test::rfc_vectors().at("ed25519_rfc8032_7_1").as_array();
  REQUIRE(cases.size() == 2);
  for (const auto& c : cases) {
    auto key = signing_key::from_seed(hex(c.at("sk")));
    REQUIRE(key.ok());
    CHECK(to_hex(key->public_key()) == test::str(c.at("pk")));
    const bytes msg = hex(c.at("msg"));
    const bytes sig = key->sign(msg);
    CHECK(to_hex(sig) == test::str(c.at("sig")));
    CHECK(ed25519_verify(hex(c.at("pk")), msg, hex(c.at("sig"))));
  }
}

TEST_CASE("ed25519 verification rejects any flipped bit", "[crypto][sign]") {
  const auto& c = test::rfc_vectors().at("ed25519_rfc8032_7_1").as_array().at(1);
  const bytes pk = hex(c.at("pk"));
  const bytes msg = hex(c.at("msg"));
  const bytes sig = hex(c.at("sig"));
  for (std::size_t bit = 0; bit < sig.size() * 8; bit += 7) {
    bytes bad = sig;
    bad[bit / 8] ^= static_cast<std::uint8_t>(1U << (bit % 8));
    CHECK_FALSE(ed25519_verify(pk, msg, bad));
  }
  bytes bad_msg = msg;
  bad_msg[0] ^= 1;
  CHECK_FALSE(ed25519_verify(pk, bad_msg, sig));
  bytes bad_pk = pk;
  bad_pk[3] ^= 0x10;
  CHECK_FALSE(ed25519_verify(bad_pk, msg, sig));
}

TEST_CASE("ed25519 verification rejects wrong lengths without throwing", "[crypto][sign]") {
  const auto& c = test::rfc_vectors().at("ed25519_rfc8032_7_1").as_array().at(0);
  const bytes pk = hex(c.at("pk"));
  const bytes sig = hex(c.at("sig"));
  CHECK_FALSE(ed25519_verify(byte_view(pk).first(31), {}, sig));
  CHECK_FALSE(ed25519_verify(pk, {}, byte_view(sig).first(63)));
  bytes long_sig = sig;
  long_sig.push_back(0);
  CHECK_FALSE(ed25519_verify(pk, {}, long_sig));
  CHECK_FALSE(ed25519_verify({}, {}, {}));
  CHECK_FALSE(ed25519_verify(bytes(32, 0xff), {}, sig));  // not a curve point
}

TEST_CASE("signing keys refuse seeds that are not 32 bytes", "[crypto][sign]") {
  CHECK(test::code_of(signing_key::from_seed(bytes(31, 1))) == errc::bad_length);
  CHECK(test::code_of(signing_key::from_seed(bytes(64, 1))) == errc::bad_length);
}

TEST_CASE("generated signing keys sign and verify, and copies share the key", "[crypto][sign]") {
  const auto key = signing_key::generate();
  const auto copy = key;  // NOLINT(performance-unnecessary-copy-initialization): tests sharing
  const byte_view msg = as_bytes("hello");
  CHECK(copy.public_key() == key.public_key());
  CHECK(ed25519_verify(key.public_key(), msg, copy.sign(msg)));
  CHECK(key.public_key() != signing_key::generate().public_key());
}
