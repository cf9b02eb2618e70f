#pragma once
// Private to crypto/*.cpp (and its tests): the checks that make Ed25519 verification strict, as
// libsodium's crypto_sign_verify_detached applies them, on top of Botan's verifier. Each is a
// pure function of the encoded bytes; ed25519_strict.cpp says why each one exists.

#include <cstddef>
#include <cstdint>
#include <span>

namespace sealcast::crypto::detail {

/// A 32-byte encoded point (y with the sign of x in bit 255) or a little-endian scalar.
using ed25519_bytes = std::span<const std::uint8_t, 32>;

/// True when the encoding is the one RFC 8032 5.1.2 produces: y < p, and bit 255 clear when
/// x = 0. Says nothing about whether y is on the curve.
[[nodiscard]] bool ed25519_is_canonical_point(ed25519_bytes enc) noexcept;

/// True for every encoding (canonical or not, 14 in all) of the eight points of order 1, 2, 4
/// or 8.
[[nodiscard]] bool ed25519_has_small_order(ed25519_bytes enc) noexcept;

/// True when some x puts (x, y) on the curve. Costs a modular exponentiation: for key
/// admission, not for every verification.
[[nodiscard]] bool ed25519_is_on_curve(ed25519_bytes enc) noexcept;

/// True when the little-endian scalar is below the group order L.
[[nodiscard]] bool ed25519_is_reduced_scalar(ed25519_bytes s) noexcept;

/// Why the strict rule refuses a (public key, signature) pair before any curve arithmetic.
enum class ed25519_refusal {
  none,
  key_not_canonical,
  key_small_order,
  r_not_canonical,
  r_small_order,
  s_not_reduced,
};

/// The byte-level half of strict verification, applied to the public key A and to the
/// signature R || S. `none` means the pair must still pass the cofactorless equation.
[[nodiscard]] ed25519_refusal ed25519_precheck(ed25519_bytes public_key,
                                               std::span<const std::uint8_t, 64> sig) noexcept;

}  // namespace sealcast::crypto::detail
