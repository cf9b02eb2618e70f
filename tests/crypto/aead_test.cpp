#include <catch2/catch_test_macros.hpp>

#include "crypto/aead.hpp"
#include "vectors.hpp"

using namespace sealcast;
using namespace sealcast::crypto;

namespace {

constexpr aead_alg all_algs[] = {aead_alg::aes_256_gcm, aead_alg::chacha20_poly1305,
                                 aead_alg::xchacha20_poly1305};

bytes range_bytes(std::uint8_t first, std::size_t n) {
  bytes b(n);
  for (std::size_t i = 0; i < n; ++i) {
    b[i] = static_cast<std::uint8_t>(first + i);
  }
  return b;
}

}  // namespace

TEST_CASE("aead algorithms keep their wire names, ids and nonce sizes", "[crypto][aead]") {
  CHECK(alg_id(aead_alg::aes_256_gcm) == 1);
  CHECK(alg_id(aead_alg::chacha20_poly1305) == 2);
  CHECK(alg_id(aead_alg::xchacha20_poly1305) == 3);
  CHECK(nonce_size(aead_alg::aes_256_gcm) == 12);
  CHECK(nonce_size(aead_alg::chacha20_poly1305) == 12);
  CHECK(nonce_size(aead_alg::xchacha20_poly1305) == 24);
  for (auto alg : all_algs) {
    CHECK(*parse_aead_alg(to_string(alg)) == alg);
    CHECK(*aead_alg_from_id(alg_id(alg)) == alg);
  }
  CHECK(to_string(aead_alg::xchacha20_poly1305) == "xchacha20-poly1305");
  CHECK(test::code_of(parse_aead_alg("AES-256-GCM")) == errc::bad_request);
  CHECK(test::code_of(parse_aead_alg("")) == errc::bad_request);
  CHECK(test::code_of(aead_alg_from_id(0)) == errc::bad_format);
  CHECK(test::code_of(aead_alg_from_id(4)) == errc::bad_format);
}

// draft-irtf-cfrg-xchacha-03 appendix A.3.1: Botan's ChaCha20Poly1305 with a 24-byte nonce must
// be XChaCha20-Poly1305 as other clients implement it.
TEST_CASE("xchacha20-poly1305 reproduces the draft-irtf-cfrg-xchacha A.3.1 vector",
          "[crypto][aead]") {
  const bytes key = range_bytes(0x80, 32);
  const bytes nonce = range_bytes(0x40, 24);
  const bytes aad = *from_hex("50515253c0c1c2c3c4c5c6c7");
  const auto pt = as_bytes(
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the "
      "future, sunscreen would be it.");
  const std::string expected =
      "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4e"
      "da7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2"
      "383565d3fff921f9664c97637da9768812f615c68b13b52e"
      "c0875924c1c7987947deafd8780acf49";
  auto ct = aead_seal(aead_alg::xchacha20_poly1305, key, nonce, aad, pt);
  REQUIRE(ct.ok());
  CHECK(to_hex(*ct) == expected);
  auto back = aead_open(aead_alg::xchacha20_poly1305, key, nonce, aad, *ct);
  REQUIRE(back.ok());
  CHECK(ct_equal(*back, pt));
}

TEST_CASE("aead round-trips for every algorithm, empty inputs included", "[crypto][aead]") {
  const bytes key(32, 0x42);
  for (auto alg : all_algs) {
    INFO(to_string(alg));
    const bytes nonce(nonce_size(alg), 0x07);
    for (const bytes& pt : {bytes{}, bytes{1}, bytes(1000, 0x55)}) {
      auto ct = aead_seal(alg, key, nonce, as_bytes("aad"), pt);
      REQUIRE(ct.ok());
      CHECK(ct->size() == pt.size() + aead_tag_size);
      auto back = aead_open(alg, key, nonce, as_bytes("aad"), *ct);
      REQUIRE(back.ok());
      CHECK(bytes(back->begin(), back->end()) == pt);
    }
  }
}

TEST_CASE("aead open rejects a flipped bit, another key, nonce or aad", "[crypto][aead]") {
  const bytes key(32, 0x42);
  for (auto alg : all_algs) {
    INFO(to_string(alg));
    const bytes nonce(nonce_size(alg), 0x07);
    const bytes ct = *aead_seal(alg, key, nonce, as_bytes("aad"), as_bytes("attack at dawn"));
    for (std::size_t i = 0; i < ct.size(); ++i) {  // ciphertext and tag bytes alike
      bytes bad = ct;
      bad[i] ^= 0x20;
      CHECK(test::code_of(aead_open(alg, key, nonce, as_bytes("aad"), bad)) ==
            errc::decrypt_failed);
    }
    bytes other_key = key;
    other_key[0] ^= 1;
    bytes other_nonce = nonce;
    other_nonce.back() ^= 1;
    CHECK(test::code_of(aead_open(alg, other_key, nonce, as_bytes("aad"), ct)) ==
          errc::decrypt_failed);
    CHECK(test::code_of(aead_open(alg, key, other_nonce, as_bytes("aad"), ct)) ==
          errc::decrypt_failed);
    CHECK(test::code_of(aead_open(alg, key, nonce, as_bytes("aae"), ct)) == errc::decrypt_failed);
    CHECK(test::code_of(aead_open(alg, key, nonce, as_bytes("aad"), byte_view(ct).first(15))) ==
          errc::decrypt_failed);
  }
}

TEST_CASE("aead reports wrong key and nonce sizes as bad_length", "[crypto][aead]") {
  for (auto alg : all_algs) {
    INFO(to_string(alg));
    const bytes nonce(nonce_size(alg), 0);
    const bytes ct(32, 0);
    CHECK(test::code_of(aead_seal(alg, bytes(16, 0), nonce, {}, {})) == errc::bad_length);
    CHECK(test::code_of(aead_seal(alg, bytes(32, 0), bytes(nonce.size() + 1, 0), {}, {})) ==
          errc::bad_length);
    CHECK(test::code_of(aead_open(alg, bytes(31, 0), nonce, {}, ct)) == errc::bad_length);
    CHECK(test::code_of(aead_open(alg, bytes(32, 0), bytes(8, 0), {}, ct)) == errc::bad_length);
  }
  // A 24-byte nonce is XChaCha: it is not accepted for plain chacha20-poly1305, nor 12 for X.
  CHECK(test::code_of(aead_seal(aead_alg::chacha20_poly1305, bytes(32, 0), bytes(24, 0), {}, {})) ==
        errc::bad_length);
  CHECK(test::code_of(aead_seal(aead_alg::xchacha20_poly1305, bytes(32, 0), bytes(12, 0), {},
                                {})) == errc::bad_length);
  CHECK(test::code_of(aead_seal(static_cast<aead_alg>(9), bytes(32, 0), bytes(12, 0), {}, {})) ==
        errc::bad_request);
}
