#include <catch2/catch_test_macros.hpp>

#include "crypto/x25519.hpp"
#include "vectors.hpp"

using namespace sealcast;
using namespace sealcast::crypto;
using sealcast::test::hex;

namespace {

// The points of order 1, 2, 4 and 8 of Curve25519 and its twist, canonical and as p and p + 1
// (libsodium's has_small_order list). Each is also tried with bit 255 set, which X25519 ignores.
const char* const low_order_points[] = {
    "0000000000000000000000000000000000000000000000000000000000000000",  // 0
    "0100000000000000000000000000000000000000000000000000000000000000",  // 1
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",  // order 8
    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",  // order 8
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // p - 1
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // p, i.e. 0
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // p + 1, i.e. 1
};

bytes from_hex_or_die(const char* h) {
  auto b = from_hex(h);
  REQUIRE(b.ok());
  return *b;
}

}  // namespace

TEST_CASE("x25519 reproduces RFC 7748 section 6.1", "[crypto][x25519]") {
  const auto& v = test::rfc_vectors().at("x25519_rfc7748_6_1").as_object();
  const bytes alice_sk = hex(v.at("alice_sk"));
  const bytes bob_sk = hex(v.at("bob_sk"));

  auto alice_pk = x25519_public_key(alice_sk);
  auto bob_pk = x25519_public_key(bob_sk);
  REQUIRE(alice_pk.ok());
  REQUIRE(bob_pk.ok());
  CHECK(to_hex(*alice_pk) == test::str(v.at("alice_pk")));
  CHECK(to_hex(*bob_pk) == test::str(v.at("bob_pk")));

  auto k1 = x25519(alice_sk, *bob_pk);
  auto k2 = x25519(bob_sk, *alice_pk);
  REQUIRE(k1.ok());
  REQUIRE(k2.ok());
  CHECK(to_hex(k1->view()) == test::str(v.at("shared")));
  CHECK(to_hex(k2->view()) == test::str(v.at("shared")));
}

TEST_CASE("x25519 refuses every low-order public key with bad_key", "[crypto][x25519]") {
  const bytes sk = hex(test::rfc_vectors().at("x25519_rfc7748_6_1").at("alice_sk"));
  for (const char* h : low_order_points) {
    for (const std::uint8_t top_bit : {0x00, 0x80}) {
      bytes pk = from_hex_or_die(h);
      pk[31] |= top_bit;
      INFO(to_hex(pk));
      CHECK_FALSE(is_acceptable_kx_pk(pk));
      auto r = x25519(sk, pk);
      REQUIRE_FALSE(r.ok());
      CHECK(test::code_of(r) == errc::bad_key);
    }
  }
}

TEST_CASE("x25519 accepts ordinary public keys", "[crypto][x25519]") {
  const auto& v = test::rfc_vectors().at("x25519_rfc7748_6_1");
  CHECK(is_acceptable_kx_pk(hex(v.at("alice_pk"))));
  CHECK(is_acceptable_kx_pk(hex(v.at("bob_pk"))));
  for (const auto* who : {"alice", "bob", "carol", "broker"}) {
    CHECK(is_acceptable_kx_pk(hex(test::v2_vectors().at("identities").at(who).at("kx_pk"))));
  }
}

TEST_CASE("x25519 reports wrong lengths as bad_length", "[crypto][x25519]") {
  const bytes k32(32, 7);
  const bytes k31(31, 7);
  const bytes k33(33, 7);
  CHECK(test::code_of(x25519_public_key(k31)) == errc::bad_length);
  CHECK(test::code_of(x25519(k31, k32)) == errc::bad_length);
  CHECK(test::code_of(x25519(k32, k33)) == errc::bad_length);
  CHECK(test::code_of(x25519(k32, {})) == errc::bad_length);
  CHECK_FALSE(is_acceptable_kx_pk(k31));
  CHECK_FALSE(is_acceptable_kx_pk({}));
}
