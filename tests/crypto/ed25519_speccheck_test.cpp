// Ed25519 edge cases: the ten cases of "Taming the many EdDSAs" (tests/vectors/ed25519-speccheck)
// with the decision Sealcast pins for each, and the cases the strict rule exists for. Botan 2.19
// alone accepts cases 0, 1, 2, 3 and 6 and the forgeries below; ed25519_verify accepts case 3 only,
// as libsodium's crypto_sign_verify_detached does.

#include <catch2/catch_test_macros.hpp>

#include <array>
#include <fstream>
#include <sstream>
#include <string>

#include "crypto/detail/ed25519_strict.hpp"
#include "crypto/sign.hpp"
#include "vectors.hpp"

using namespace sealcast;
using namespace sealcast::crypto;
using sealcast::crypto::detail::ed25519_refusal;
using sealcast::test::hex;

namespace {

boost::json::value load_json(const std::string& name) {
  std::ifstream in(std::string(SEALCAST_TEST_VECTORS) + "/" + name);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return boost::json::parse(ss.str());
}

bytes from_hex_or_die(std::string_view h) {
  auto b = from_hex(h);
  REQUIRE(b.ok());
  return *b;
}

// The byte-level precheck of a 32-byte key and a 64-byte signature.
ed25519_refusal precheck(const bytes& pk, const bytes& sig) {
  REQUIRE(pk.size() == ed25519_public_size);
  REQUIRE(sig.size() == ed25519_signature_size);
  return detail::ed25519_precheck(byte_view(pk).first<ed25519_public_size>(),
                                  byte_view(sig).first<ed25519_signature_size>());
}

std::string name_of(ed25519_refusal r) {
  switch (r) {
    case ed25519_refusal::none:
      return "none";
    case ed25519_refusal::key_not_canonical:
      return "key_not_canonical";
    case ed25519_refusal::key_small_order:
      return "key_small_order";
    case ed25519_refusal::r_not_canonical:
      return "r_not_canonical";
    case ed25519_refusal::r_small_order:
      return "r_small_order";
    case ed25519_refusal::s_not_reduced:
      return "s_not_reduced";
  }
  return "unknown";
}

struct decision {
  bool accept;
  ed25519_refusal refusal;  // what the byte-level precheck says; `none` leaves it to the equation
  const char* reason;
};

// One line per case of cases.json, in file order. "Mixed order" is a point of large order plus a
// small-order component; "cofactored" is 8[S]B = 8R + 8[h]A, which Sealcast does not use.
constexpr std::array<decision, 10> speccheck_decisions = {{
    {false, ed25519_refusal::key_small_order, "A and R of small order, S = 0"},
    {false, ed25519_refusal::key_small_order, "A of small order (order 8), R of mixed order"},
    {false, ed25519_refusal::r_small_order, "A of mixed order, R of small order"},
    {true, ed25519_refusal::none, "A and R of mixed order, all canonical, the cofactorless equation holds"},
    {false, ed25519_refusal::none, "A and R of mixed order; only the cofactored equation holds"},
    {false, ed25519_refusal::none, "A of mixed order; only the cofactored equation holds"},
    {false, ed25519_refusal::s_not_reduced, "L <= S < 2^253: the equation holds, S is not reduced"},
    {false, ed25519_refusal::s_not_reduced, "S >= 2^253: the equation holds, S is not reduced"},
    {false, ed25519_refusal::r_not_canonical, "R encoded as y = p (holds only if R is re-encoded before hashing)"},
    {false, ed25519_refusal::r_not_canonical, "R encoded as y = p (holds over R's bytes as given)"},
}};

// Every encoding of the eight points of order 1, 2, 4 and 8: each y of libsodium's list with
// and without bit 255. Those at y = 1 or p - 1 with bit 255 set, and those at y = p or p + 1, are
// also non-canonical.
const std::array<const char*, 14> small_order_encodings = {
    "0000000000000000000000000000000000000000000000000000000000000000",  // order 4
    "0000000000000000000000000000000000000000000000000000000000000080",  // order 4
    "0100000000000000000000000000000000000000000000000000000000000000",  // identity
    "0100000000000000000000000000000000000000000000000000000000000080",  // identity, x = -0
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",  // order 8
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",  // order 8
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",  // order 8
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",  // order 8
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // order 2
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",  // order 2, x = -0
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // order 4, y = p
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",  // order 4, y = p
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // identity, y = p + 1
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",  // identity, y = p + 1
};

// Non-canonical encodings y + p of points of large order: y = 3, 4, 5, 6, 9, 10, 14, 15, 16 and
// 18 are on the curve. Nobody knows a private key for them, but a lax decoder accepts them.
const std::array<const char*, 4> large_order_noncanonical = {
    "f0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // y = p + 3
    "f1ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",  // y = p + 4, sign set
    "fbffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // y = p + 14
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",  // y = p + 18, sign set
};

// RFC 8032 section 7.1 test 1: a key of prime order whose private scalar a is known.
const bytes& rfc_key() {
  static const bytes pk = hex(test::rfc_vectors().at("ed25519_rfc8032_7_1").as_array().at(0).at("pk"));
  return pk;
}

// The 32-byte little-endian sum a + b mod 2^256.
bytes add_le(byte_view a, byte_view b) {
  bytes out(32);
  unsigned carry = 0;
  for (std::size_t i = 0; i < 32; ++i) {
    const unsigned v = a[i] + b[i] + carry;
    out[i] = static_cast<std::uint8_t>(v & 0xff);
    carry = v >> 8;
  }
  return out;
}

const bytes& group_order() {
  static const bytes l = from_hex_or_die("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
  return l;
}

}  // namespace

TEST_CASE("every speccheck case gets its pinned decision, for its pinned reason", "[crypto][sign][speccheck]") {
  const auto cases = load_json("ed25519-speccheck/cases.json");
  const auto& arr = cases.as_array();
  REQUIRE(arr.size() == speccheck_decisions.size());
  for (std::size_t i = 0; i < arr.size(); ++i) {
    const auto& c = arr[i];
    const auto& want = speccheck_decisions.at(i);
    INFO("case " << i << ": " << want.reason);
    const bytes msg = hex(c.at("message"));
    const bytes pk = hex(c.at("pub_key"));
    const bytes sig = hex(c.at("signature"));
    CHECK(ed25519_verify(pk, msg, sig) == want.accept);
    CHECK(name_of(precheck(pk, sig)) == name_of(want.refusal));
    if (want.accept) {
      CHECK(ed25519_public_key_ok(pk));  // whatever verifies passes the key check at hello
    }
  }
}

TEST_CASE("the identity key with R = identity and S = 0 is refused for every message", "[crypto][sign][speccheck]") {
  // [0]B - [h]O = O for every h: without the small-order check this "signature" verifies any
  // message under a key nobody holds.
  const bytes identity = from_hex_or_die("0100000000000000000000000000000000000000000000000000000000000000");
  bytes sig = identity;
  sig.resize(ed25519_signature_size, 0);
  for (const std::string_view msg : {"", "a", "hello", "sealcast/v1/kx"}) {
    INFO(msg);
    CHECK_FALSE(ed25519_verify(identity, as_bytes(msg), sig));
  }
  CHECK(precheck(identity, sig) == ed25519_refusal::key_small_order);
  CHECK_FALSE(ed25519_public_key_ok(identity));

  // The same forgery under every other encoding of every small-order key, and with every
  // small-order R: all refused, whatever the equation says.
  for (const char* k : small_order_encodings) {
    for (const char* r : small_order_encodings) {
      const bytes pk = from_hex_or_die(k);
      bytes forged = from_hex_or_die(r);
      forged.resize(ed25519_signature_size, 0);
      INFO("A = " << k << ", R = " << r);
      CHECK_FALSE(ed25519_verify(pk, as_bytes("hello"), forged));
      CHECK(precheck(pk, forged) != ed25519_refusal::none);
    }
  }
}

TEST_CASE("S + L of a valid signature is refused", "[crypto][sign][speccheck]") {
  const auto key = signing_key::from_seed(hex(test::rfc_vectors().at("ed25519_rfc8032_7_1").as_array().at(0).at("sk")));
  REQUIRE(key.ok());
  const byte_view msg = as_bytes("one message, two signatures?");
  const bytes sig = key->sign(msg);
  REQUIRE(ed25519_verify(key->public_key(), msg, sig));

  bytes malleated = sig;
  const bytes s_plus_l = add_le(byte_view(sig).last(32), group_order());
  std::copy(s_plus_l.begin(), s_plus_l.end(), malleated.begin() + 32);
  // Below 2^253, so Botan's own top-three-bits check lets it through: only S < L refuses it.
  REQUIRE((malleated[63] & 0xe0) == 0);
  CHECK_FALSE(ed25519_verify(key->public_key(), msg, malleated));
  CHECK(precheck(key->public_key(), malleated) == ed25519_refusal::s_not_reduced);
}

TEST_CASE("the scalar check draws the line exactly at L", "[crypto][sign][speccheck]") {
  const auto reduced = [](const bytes& s) { return detail::ed25519_is_reduced_scalar(byte_view(s).first<32>()); };
  bytes l_minus_one = group_order();
  l_minus_one[0] = static_cast<std::uint8_t>(l_minus_one[0] - 1);
  CHECK(reduced(bytes(32, 0)));
  CHECK(reduced(l_minus_one));
  CHECK_FALSE(reduced(group_order()));
  CHECK_FALSE(reduced(add_le(group_order(), from_hex_or_die("01" + std::string(62, '0')))));
  CHECK_FALSE(reduced(bytes(32, 0xff)));
}

TEST_CASE("a non-canonical R is refused even when the equation holds for the point it encodes",
          "[crypto][sign][speccheck]") {
  // Made with the RFC 8032 test 1 private scalar a: R is an encoding of the identity and
  // S = h * a mod L, with h hashed over R's bytes as given, so [S]B = R + [h]A holds for the
  // decoded R. A verifier that compared points instead of encodings would accept these.
  const byte_view msg = as_bytes("sealcast: R is the identity, encoded non-canonically");
  const std::array<const char*, 3> sigs = {
      // R = p + 1
      "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"
      "f00f8bfc682ae2a5ef70f87d83b88322e79cfc4ead293e9aaffd9760a6d7120d",
      // R = 1 with the sign bit of x = 0 set
      "0100000000000000000000000000000000000000000000000000000000000080"
      "13bbf44fed14855e326c44979272f704c7990ed9a8d18795a1814a9a13ec540e",
      // R = p + 1 with the sign bit set
      "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
      "faeaef4d60bdaf3bb8aabd180b54f06c3b2981a2bd5e2c4ca9921d26ff0e0d02",
  };
  for (const char* s : sigs) {
    INFO(s);
    const bytes sig = from_hex_or_die(s);
    CHECK_FALSE(ed25519_verify(rfc_key(), msg, sig));
    CHECK(precheck(rfc_key(), sig) == ed25519_refusal::r_not_canonical);
  }

  // The canonical identity as R, made the same way, passes Botan's equation: the key's owner can
  // make it, but an honest signer never does, and libsodium refuses it.
  const bytes owner_made = from_hex_or_die(
      "0100000000000000000000000000000000000000000000000000000000000000"
      "88f33b6f725c1f732c614bc961a0c31765f50facbe7faf9a16c6b2a5194cc90f");
  CHECK_FALSE(ed25519_verify(rfc_key(), msg, owner_made));
  CHECK(precheck(rfc_key(), owner_made) == ed25519_refusal::r_small_order);
}

TEST_CASE("non-canonical public keys are refused", "[crypto][sign][speccheck]") {
  bytes sig(ed25519_signature_size, 0);
  sig[0] = 1;  // R = identity, S = 0: the forgery Botan accepts for every encoding of the identity
  for (const char* k : {"0100000000000000000000000000000000000000000000000000000000000080",
                        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
                        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"}) {
    INFO(k);
    const bytes pk = from_hex_or_die(k);
    CHECK_FALSE(ed25519_verify(pk, as_bytes("hello"), sig));
    CHECK(precheck(pk, sig) == ed25519_refusal::key_not_canonical);
  }
  for (const char* k : large_order_noncanonical) {
    INFO(k);
    const bytes pk = from_hex_or_die(k);
    CHECK_FALSE(detail::ed25519_is_canonical_point(byte_view(pk).first<32>()));
    CHECK_FALSE(detail::ed25519_has_small_order(byte_view(pk).first<32>()));
    CHECK(detail::ed25519_is_on_curve(byte_view(pk).first<32>()));
    CHECK(precheck(pk, sig) == ed25519_refusal::key_not_canonical);
    CHECK_FALSE(ed25519_public_key_ok(pk));
  }
}

TEST_CASE("ed25519_public_key_ok accepts real keys and refuses small-order, non-canonical and off-curve ones",
          "[crypto][sign][speccheck]") {
  for (const auto& c : test::rfc_vectors().at("ed25519_rfc8032_7_1").as_array()) {
    CHECK(ed25519_public_key_ok(hex(c.at("pk"))));
  }
  for (int i = 0; i < 16; ++i) {
    CHECK(ed25519_public_key_ok(signing_key::generate().public_key()));
  }
  // Mixed order (speccheck cases 2 to 5): a large-order point plus torsion. libsodium's verifier
  // accepts such keys and so do we; no private key can produce one, but refusing them would need
  // a subgroup check (a full scalar multiplication) that buys nothing under cofactorless
  // verification with small-order R refused.
  CHECK(ed25519_public_key_ok(from_hex_or_die("f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43")));
  CHECK(ed25519_public_key_ok(from_hex_or_die("cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d")));

  for (const char* k : small_order_encodings) {
    INFO(k);
    CHECK_FALSE(ed25519_public_key_ok(from_hex_or_die(k)));
  }
  // y = 2 is canonical and of no small order, but no x puts it on the curve.
  const bytes off_curve = from_hex_or_die("0200000000000000000000000000000000000000000000000000000000000000");
  CHECK_FALSE(detail::ed25519_is_on_curve(byte_view(off_curve).first<32>()));
  CHECK_FALSE(ed25519_public_key_ok(off_curve));
  CHECK_FALSE(ed25519_public_key_ok({}));
  CHECK_FALSE(ed25519_public_key_ok(byte_view(rfc_key()).first(31)));
  bytes long_key = rfc_key();
  long_key.push_back(0);
  CHECK_FALSE(ed25519_public_key_ok(long_key));
}
