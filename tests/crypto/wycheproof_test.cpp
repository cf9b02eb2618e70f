// Project Wycheproof vectors (tests/vectors/wycheproof) through Sealcast's own crypto API, not
// Botan's: every `valid` case must pass, every `invalid` one must be refused, and each
// `acceptable` one gets the decision pinned here. Cases whose sizes the API does not offer (AES
// keys other than 256 bits, other nonce lengths) must be refused with bad_length, and are counted
// so that a change to the files or the API shows up as a changed number.

#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <cstddef>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>

#include "crypto/aead.hpp"
#include "crypto/hkdf.hpp"
#include "crypto/sign.hpp"
#include "crypto/x25519.hpp"
#include "vectors.hpp"

using namespace sealcast;
using namespace sealcast::crypto;
using sealcast::test::hex;

namespace {

// tests/vectors/wycheproof/<name>, parsed once.
const boost::json::object& wycheproof(const std::string& name) {
  static std::map<std::string, boost::json::value> cache;
  auto it = cache.find(name);
  if (it == cache.end()) {
    std::ifstream in(std::string(SEALCAST_TEST_VECTORS) + "/wycheproof/" + name);
    REQUIRE(in.good());
    std::stringstream ss;
    ss << in.rdbuf();
    it = cache.emplace(name, boost::json::parse(ss.str())).first;
  }
  return it->second.as_object();
}

// "tcId 12 [Ktv, Twist] comment", for INFO.
std::string label(const boost::json::object& t) {
  std::string s = "tcId " + std::to_string(t.at("tcId").as_int64()) + " [";
  for (const auto& f : t.at("flags").as_array()) {
    s += test::str(f) + " ";
  }
  return s + "] " + test::str(t.at("comment"));
}

bool has_flag(const boost::json::object& t, std::string_view flag) {
  const auto& flags = t.at("flags").as_array();
  return std::any_of(flags.begin(), flags.end(), [&](const auto& f) { return test::str(f) == flag; });
}

using case_fn = std::function<void(const boost::json::object& group, const boost::json::object& test)>;

// Calls fn for every test whose result is `result` ("valid", "invalid", "acceptable"); returns
// how many there were.
std::size_t for_each_case(const std::string& file, std::string_view result, const case_fn& fn) {
  std::size_t n = 0;
  for (const auto& g : wycheproof(file).at("testGroups").as_array()) {
    for (const auto& t : g.at("tests").as_array()) {
      if (test::str(t.at("result")) == result) {
        ++n;
        INFO(file << " " << label(t.as_object()));
        fn(g.as_object(), t.as_object());
      }
    }
  }
  return n;
}

bool all_zero(byte_view v) {
  return std::all_of(v.begin(), v.end(), [](std::uint8_t b) { return b == 0; });
}

}  // namespace

// ---- Ed25519: through ed25519_verify, the strict rule broker and clients share ----------------

TEST_CASE("wycheproof ed25519: every valid signature verifies", "[crypto][wycheproof][ed25519]") {
  const std::size_t n = for_each_case("ed25519_test.json", "valid", [](const auto& g, const auto& t) {
    const bytes pk = hex(g.at("publicKey").at("pk"));
    CHECK(ed25519_verify(pk, hex(t.at("msg")), hex(t.at("sig"))));
    CHECK(ed25519_public_key_ok(pk));
  });
  CHECK(n == 88);
}

TEST_CASE("wycheproof ed25519: every invalid signature is refused", "[crypto][wycheproof][ed25519]") {
  // Includes S + L (SignatureMalleability), truncated, padded and bit-flipped signatures.
  const std::size_t n = for_each_case("ed25519_test.json", "invalid", [](const auto& g, const auto& t) {
    CHECK_FALSE(ed25519_verify(hex(g.at("publicKey").at("pk")), hex(t.at("msg")), hex(t.at("sig"))));
  });
  CHECK(n == 63);
  // The file has no `acceptable` cases; speccheck covers the ones libraries disagree on.
  CHECK(for_each_case("ed25519_test.json", "acceptable", [](const auto&, const auto&) {}) == 0);
}

// ---- X25519: through crypto::x25519, which refuses an all-zero shared secret -----------------

TEST_CASE("wycheproof x25519: every valid case gives the expected shared secret", "[crypto][wycheproof][x25519]") {
  const std::size_t n = for_each_case("x25519_test.json", "valid", [](const auto&, const auto& t) {
    const bytes pk = hex(t.at("public"));
    auto shared = x25519(hex(t.at("private")), pk);
    REQUIRE(shared.ok());
    CHECK(to_hex(shared->view()) == test::str(t.at("shared")));
    CHECK(is_acceptable_kx_pk(pk));
  });
  CHECK(n == 264);
  CHECK(for_each_case("x25519_test.json", "invalid", [](const auto&, const auto&) {}) == 0);
}

TEST_CASE("wycheproof x25519: acceptable cases with an all-zero secret are refused with bad_key",
          "[crypto][wycheproof][x25519]") {
  // Pinned: a low-order public key (any encoding) gives the all-zero secret, which Sealcast
  // refuses (RFC 7748 section 6.1, RFC 9180 section 7.1.4), and is_acceptable_kx_pk refuses the
  // key itself so the broker turns it away at hello.
  std::size_t zero = 0;
  const std::size_t n = for_each_case("x25519_test.json", "acceptable", [&](const auto&, const auto& t) {
    const bytes expected = hex(t.at("shared"));
    CHECK(all_zero(expected) == has_flag(t, "ZeroSharedSecret"));
    if (!all_zero(expected)) {
      return;
    }
    ++zero;
    const bytes pk = hex(t.at("public"));
    CHECK(test::code_of(x25519(hex(t.at("private")), pk)) == errc::bad_key);
    CHECK_FALSE(is_acceptable_kx_pk(pk));
  });
  CHECK(n == 254);
  CHECK(zero == 31);
}

TEST_CASE("wycheproof x25519: other acceptable cases are computed as RFC 7748 defines them",
          "[crypto][wycheproof][x25519]") {
  // Pinned: points on the twist and non-canonical u (>= p, or bit 255 set) are accepted and
  // decoded as RFC 7748 section 5 says (bit 255 masked, u reduced mod p), as section 7 recommends;
  // the result must be exactly Wycheproof's.
  std::size_t nonzero = 0;
  for_each_case("x25519_test.json", "acceptable", [&](const auto&, const auto& t) {
    if (all_zero(hex(t.at("shared")))) {
      return;
    }
    ++nonzero;
    const bytes pk = hex(t.at("public"));
    auto shared = x25519(hex(t.at("private")), pk);
    REQUIRE(shared.ok());
    CHECK(to_hex(shared->view()) == test::str(t.at("shared")));
    CHECK(is_acceptable_kx_pk(pk));
  });
  CHECK(nonzero == 223);
}

// ---- AEADs: through crypto::aead_seal / aead_open ---------------------------------------------

namespace {

// Why a vector cannot run through the API: it only has 32-byte keys, the algorithm's one nonce
// size and 16-byte tags.
enum class aead_fit { runs, key_size, nonce_size, tag_size };

aead_fit fit_of(aead_alg alg, const boost::json::object& t) {
  if (hex(t.at("key")).size() != aead_key_size) {
    return aead_fit::key_size;
  }
  if (hex(t.at("iv")).size() != nonce_size(alg)) {
    return aead_fit::nonce_size;
  }
  if (hex(t.at("tag")).size() != aead_tag_size) {
    return aead_fit::tag_size;
  }
  return aead_fit::runs;
}

bytes ct_and_tag(const boost::json::object& t) {
  bytes out = hex(t.at("ct"));
  append(out, hex(t.at("tag")));
  return out;
}

// Valid vectors that fit: open gives msg back, seal gives ct || tag. Returns how many ran.
std::size_t run_valid(const std::string& file, aead_alg alg) {
  std::size_t ran = 0;
  for_each_case(file, "valid", [&](const auto&, const auto& t) {
    if (fit_of(alg, t) != aead_fit::runs) {
      return;
    }
    ++ran;
    const bytes key = hex(t.at("key"));
    const bytes iv = hex(t.at("iv"));
    const bytes aad = hex(t.at("aad"));
    const bytes msg = hex(t.at("msg"));
    auto pt = aead_open(alg, key, iv, aad, ct_and_tag(t));
    REQUIRE(pt.ok());
    CHECK(to_hex(byte_view(pt->data(), pt->size())) == to_hex(msg));
    auto ct = aead_seal(alg, key, iv, aad, msg);
    REQUIRE(ct.ok());
    CHECK(to_hex(*ct) == to_hex(ct_and_tag(t)));
  });
  return ran;
}

// Invalid vectors that fit (modified tags, edge-case ciphertexts): open refuses them.
std::size_t run_invalid(const std::string& file, aead_alg alg) {
  std::size_t ran = 0;
  for_each_case(file, "invalid", [&](const auto&, const auto& t) {
    if (fit_of(alg, t) != aead_fit::runs) {
      return;
    }
    ++ran;
    auto pt = aead_open(alg, hex(t.at("key")), hex(t.at("iv")), hex(t.at("aad")), ct_and_tag(t));
    CHECK(test::code_of(pt) == errc::decrypt_failed);
  });
  return ran;
}

struct size_refusals {
  std::size_t key_size = 0;
  std::size_t nonce_size = 0;
  std::size_t tag_size = 0;
};

// Vectors that do not fit, valid or invalid alike: both directions return bad_length.
size_refusals run_unfit(const std::string& file, aead_alg alg) {
  size_refusals n;
  for (const char* result : {"valid", "invalid", "acceptable"}) {
    for_each_case(file, result, [&](const auto&, const auto& t) {
      const aead_fit fit = fit_of(alg, t);
      if (fit == aead_fit::runs) {
        return;
      }
      const bytes key = hex(t.at("key"));
      const bytes iv = hex(t.at("iv"));
      const bytes aad = hex(t.at("aad"));
      switch (fit) {
        case aead_fit::key_size:
          ++n.key_size;
          break;
        case aead_fit::nonce_size:
          ++n.nonce_size;
          break;
        case aead_fit::tag_size:
          // A tag of another size is a ciphertext the API reads with a 16-byte tag: it cannot
          // authenticate, so open fails as decrypt_failed rather than bad_length.
          ++n.tag_size;
          CHECK(test::code_of(aead_open(alg, key, iv, aad, ct_and_tag(t))) == errc::decrypt_failed);
          return;
        case aead_fit::runs:
          return;
      }
      CHECK(test::code_of(aead_open(alg, key, iv, aad, ct_and_tag(t))) == errc::bad_length);
      CHECK(test::code_of(aead_seal(alg, key, iv, aad, hex(t.at("msg")))) == errc::bad_length);
    });
  }
  return n;
}

}  // namespace

TEST_CASE("wycheproof aes-256-gcm: valid vectors with 12-byte nonces open and seal exactly",
          "[crypto][wycheproof][aead]") {
  CHECK(run_valid("aes_gcm_test.json", aead_alg::aes_256_gcm) == 39);
}

TEST_CASE("wycheproof aes-256-gcm: invalid vectors are refused with decrypt_failed", "[crypto][wycheproof][aead]") {
  CHECK(run_invalid("aes_gcm_test.json", aead_alg::aes_256_gcm) == 27);
}

TEST_CASE("wycheproof aes-gcm: AES-128/192 keys and other nonce sizes are refused with bad_length",
          "[crypto][wycheproof][aead]") {
  // 211 vectors with 16- or 24-byte keys (153 valid, 58 invalid); 39 with 256-bit keys and
  // nonces of 0 to 257 bytes other than 12 (37 valid, 2 invalid).
  const auto n = run_unfit("aes_gcm_test.json", aead_alg::aes_256_gcm);
  CHECK(n.key_size == 211);
  CHECK(n.nonce_size == 39);
  CHECK(n.tag_size == 0);
}

TEST_CASE("wycheproof chacha20-poly1305: valid vectors open and seal exactly", "[crypto][wycheproof][aead]") {
  CHECK(run_valid("chacha20_poly1305_test.json", aead_alg::chacha20_poly1305) == 256);
}

TEST_CASE("wycheproof chacha20-poly1305: invalid vectors are refused with decrypt_failed",
          "[crypto][wycheproof][aead]") {
  CHECK(run_invalid("chacha20_poly1305_test.json", aead_alg::chacha20_poly1305) == 60);
}

TEST_CASE("wycheproof chacha20-poly1305: nonces other than 12 bytes are refused with bad_length",
          "[crypto][wycheproof][aead]") {
  // The InvalidNonceSize vectors (0 to 32 bytes, all invalid), including the 8- and 24-byte
  // nonces Botan's ChaCha20Poly1305 would take as the original and the X variant.
  const auto n = run_unfit("chacha20_poly1305_test.json", aead_alg::chacha20_poly1305);
  CHECK(n.key_size == 0);
  CHECK(n.nonce_size == 9);
  CHECK(n.tag_size == 0);
}

TEST_CASE("wycheproof xchacha20-poly1305: valid vectors open and seal exactly", "[crypto][wycheproof][aead]") {
  CHECK(run_valid("xchacha20_poly1305_test.json", aead_alg::xchacha20_poly1305) == 246);
}

TEST_CASE("wycheproof xchacha20-poly1305: invalid vectors are refused with decrypt_failed",
          "[crypto][wycheproof][aead]") {
  CHECK(run_invalid("xchacha20_poly1305_test.json", aead_alg::xchacha20_poly1305) == 60);
}

TEST_CASE("wycheproof xchacha20-poly1305: nonces other than 24 bytes are refused with bad_length",
          "[crypto][wycheproof][aead]") {
  const auto n = run_unfit("xchacha20_poly1305_test.json", aead_alg::xchacha20_poly1305);
  CHECK(n.key_size == 0);
  CHECK(n.nonce_size == 9);
  CHECK(n.tag_size == 0);
}

TEST_CASE("wycheproof aead files hold no acceptable cases", "[crypto][wycheproof][aead]") {
  for (const char* file : {"aes_gcm_test.json", "chacha20_poly1305_test.json", "xchacha20_poly1305_test.json"}) {
    CHECK(for_each_case(file, "acceptable", [](const auto&, const auto&) {}) == 0);
  }
}

// ---- HKDF-SHA256: through crypto::hkdf and extract-then-expand --------------------------------

TEST_CASE("wycheproof hkdf-sha256: valid vectors give the expected output", "[crypto][wycheproof][hkdf]") {
  const std::size_t n = for_each_case("hkdf_sha256_test.json", "valid", [](const auto&, const auto& t) {
    const bytes ikm = hex(t.at("ikm"));
    const bytes salt = hex(t.at("salt"));
    const bytes info = hex(t.at("info"));
    const auto size = static_cast<std::size_t>(t.at("size").as_int64());
    const std::string okm = test::str(t.at("okm"));
    auto out = hkdf(ikm, salt, info, size);
    REQUIRE(out.ok());
    CHECK(to_hex(byte_view(out->data(), out->size())) == okm);
    const secure_bytes prk = hkdf_extract(salt, ikm);
    auto expanded = hkdf_expand(prk, info, size);
    REQUIRE(expanded.ok());
    CHECK(to_hex(byte_view(expanded->data(), expanded->size())) == okm);
  });
  CHECK(n == 83);
}

TEST_CASE("wycheproof hkdf-sha256: outputs longer than 255 blocks are refused with bad_length",
          "[crypto][wycheproof][hkdf]") {
  const std::size_t n = for_each_case("hkdf_sha256_test.json", "invalid", [](const auto&, const auto& t) {
    const bytes ikm = hex(t.at("ikm"));
    const bytes salt = hex(t.at("salt"));
    const auto size = static_cast<std::size_t>(t.at("size").as_int64());
    CHECK(size > hkdf_max_length);
    CHECK(test::code_of(hkdf(ikm, salt, hex(t.at("info")), size)) == errc::bad_length);
    CHECK(test::code_of(hkdf_expand(hkdf_extract(salt, ikm), hex(t.at("info")), size)) == errc::bad_length);
  });
  CHECK(n == 3);
  CHECK(for_each_case("hkdf_sha256_test.json", "acceptable", [](const auto&, const auto&) {}) == 0);
}
