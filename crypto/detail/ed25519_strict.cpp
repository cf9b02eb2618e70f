#include "crypto/detail/ed25519_strict.hpp"

#include <botan/bigint.h>
#include <botan/numthry.h>

#include <algorithm>
#include <array>
#include <exception>

namespace sealcast::crypto::detail {
namespace {

constexpr std::size_t last = 31;         // the byte that holds bit 255
constexpr std::uint8_t sign_bit = 0x80;  // bit 255: the sign (parity) of x

using encoding = std::array<std::uint8_t, 32>;

// Little-endian constants. p = 2^255 - 19 is the field prime.
constexpr encoding y_one = {0x01};
constexpr encoding y_minus_one = {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
constexpr encoding field_prime = {0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
constexpr encoding field_prime_plus_one = {0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                           0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                           0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
// L = 2^252 + 27742317777372353535851937790883648493, the order of the base point.
constexpr encoding group_order = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
                                  0xa2, 0xde, 0xf9, 0xde, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10};

// y of the eight points of order dividing 8, as libsodium's ge25519_has_small_order lists them,
// compared with bit 255 cleared so that both signs of each match: 0 and 1 (also as p and p + 1),
// p - 1, and the y of the two pairs of points of order 8.
constexpr std::array<encoding, 7> small_order_y = {{
    {0x00},  // y = 0: the two points of order 4
    y_one,   // the identity
    {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0,
     0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
    {0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f,
     0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a},
    y_minus_one,           // the point of order 2
    field_prime,           // y = 0 again, not canonical
    field_prime_plus_one,  // y = 1 again, not canonical
}};

encoding y_of(ed25519_bytes enc) noexcept {
  encoding y{};
  std::copy(enc.begin(), enc.end(), y.begin());
  y[last] &= static_cast<std::uint8_t>(~sign_bit);
  return y;
}

// Little-endian comparison a < b of two 32-byte numbers.
bool less_than(const encoding& a, const encoding& b) noexcept {
  for (std::size_t i = a.size(); i-- > 0;) {
    if (a[i] != b[i]) {
      return a[i] < b[i];
    }
  }
  return false;
}

}  // namespace

// A point has one valid encoding (RFC 8032 5.1.2), but Botan's decoder (ref10's
// ge_frombytes_negate_vartime) reduces y mod p and accepts bit 255 set when x = 0, so the same
// point also decodes from y + p and, for x = 0, from the "negative zero" encoding. Identities are
// the key's bytes (user_id = SHA-256(sign_pk), PROTOCOL.md section 2), so one point with two
// accepted encodings would be two users; honest key generation never produces the second one.
bool ed25519_is_canonical_point(ed25519_bytes enc) noexcept {
  const encoding y = y_of(enc);
  if (!less_than(y, field_prime)) {
    return false;
  }
  const bool x_is_zero = y == y_one || y == y_minus_one;  // x^2 = (y^2 - 1) / (d y^2 + 1)
  return !(x_is_zero && (enc[last] & sign_bit) != 0);
}

// A small-order A has no private key behind it and [h]A takes at most eight values, so a forger
// who picks R among them (with S = 0) verifies for a large share of messages; for the identity,
// R = identity and S = 0 verify for every message. A small-order R is never made by an honest
// signer (R = [r]B has order L) and is the handle of the mixed-order tricks in "Taming the many
// EdDSAs". libsodium refuses both; matching the list by y catches every encoding of them.
bool ed25519_has_small_order(ed25519_bytes enc) noexcept {
  const encoding y = y_of(enc);
  return std::any_of(small_order_y.begin(), small_order_y.end(), [&](const encoding& bad) { return y == bad; });
}

// Botan decodes A during verification and refuses a y with no x, so verification does not need
// this. ed25519_public_key_ok does: a key that is not a point can never verify anything, and the
// broker should say so when the key is presented rather than at the first signature.
bool ed25519_is_on_curve(ed25519_bytes enc) noexcept {
  try {
    static const Botan::BigInt p = (Botan::BigInt(1) << 255) - 19;
    static const Botan::BigInt d = ((p - 121665) * Botan::inverse_mod(Botan::BigInt(121666), p)) % p;
    static const Botan::BigInt legendre_exponent = (p - 1) >> 1;

    encoding be = y_of(enc);
    std::reverse(be.begin(), be.end());  // BigInt decodes big-endian
    const Botan::BigInt y = Botan::BigInt::decode(be.data(), be.size()) % p;
    const Botan::BigInt y2 = (y * y) % p;
    const Botan::BigInt u = (y2 + p - 1) % p;  // x^2 * v = u, with v = d y^2 + 1 never 0
    const Botan::BigInt v = (d * y2 + 1) % p;
    if (u.is_zero()) {
      return true;  // x = 0: the identity or the point of order 2
    }
    // x exists exactly when u / v, equivalently u * v, is a square mod p (Euler's criterion).
    return Botan::power_mod((u * v) % p, legendre_exponent, p) == 1;
  } catch (const std::exception&) {
    return false;
  }
}

// RFC 8032 5.1.7 requires 0 <= S < L. Botan 2.19 only refuses S >= 2^253 (the top three bits),
// and S + L is below 2^253 for all but a 2^-126 share of S, so anyone can turn a valid signature
// into a second, different valid one without the key; that breaks anything that treats a
// signature as unique (deduplication, replay caches, ids derived from signed bytes).
bool ed25519_is_reduced_scalar(ed25519_bytes s) noexcept {
  encoding v{};
  std::copy(s.begin(), s.end(), v.begin());
  return less_than(v, group_order);
}

ed25519_refusal ed25519_precheck(ed25519_bytes public_key, std::span<const std::uint8_t, 64> sig) noexcept {
  const ed25519_bytes r = sig.first<32>();
  const ed25519_bytes s = sig.last<32>();
  if (!ed25519_is_canonical_point(public_key)) {
    return ed25519_refusal::key_not_canonical;
  }
  if (ed25519_has_small_order(public_key)) {
    return ed25519_refusal::key_small_order;
  }
  // Botan compares R byte for byte with the canonical encoding of [S]B - [h]A, so a non-canonical
  // R already fails there; refusing it here keeps the whole rule in one place.
  if (!ed25519_is_canonical_point(r)) {
    return ed25519_refusal::r_not_canonical;
  }
  if (ed25519_has_small_order(r)) {
    return ed25519_refusal::r_small_order;
  }
  if (!ed25519_is_reduced_scalar(s)) {
    return ed25519_refusal::s_not_reduced;
  }
  return ed25519_refusal::none;
}

}  // namespace sealcast::crypto::detail
