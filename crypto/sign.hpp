#pragma once

#include <cstddef>
#include <memory>

#include "common/bytes.hpp"
#include "common/error.hpp"
#include "crypto/secret.hpp"

namespace sealcast::crypto {

/// Sizes of Ed25519 public keys, seeds and signatures (RFC 8032).
inline constexpr std::size_t ed25519_public_size = 32;
inline constexpr std::size_t ed25519_seed_size = 32;
inline constexpr std::size_t ed25519_signature_size = 64;

/// An Ed25519 private key, expanded once from its 32-byte seed and reused for every signature.
/// Copies share the expanded key; signing is const and safe from several threads.
class signing_key {
 public:
  /// A fresh key from the system RNG.
  [[nodiscard]] static signing_key generate();
  /// The key of a 32-byte RFC 8032 seed; bad_length otherwise.
  [[nodiscard]] static result<signing_key> from_seed(byte_view seed);
  /// The key of a seed already held as a secret.
  [[nodiscard]] static signing_key from_seed(const sign_seed& seed);

  /// The 32-byte public key.
  [[nodiscard]] const bytes& public_key() const noexcept;
  /// The 32-byte seed, for keystores.
  [[nodiscard]] const sign_seed& seed() const noexcept;
  /// A 64-byte Ed25519 signature of msg (deterministic, RFC 8032 section 5.1.6).
  [[nodiscard]] bytes sign(byte_view msg) const;

 private:
  struct impl;
  explicit signing_key(std::shared_ptr<const impl> p) noexcept;
  std::shared_ptr<const impl> impl_;
};

/// Strict Ed25519 verification, the one rule broker and clients share (libsodium's
/// crypto_sign_verify_detached): refuses a public key or R that is a small-order point or not
/// canonically encoded, refuses S >= L, then checks [S]B = R + [h]A without the cofactor. False,
/// never an exception, for a bad signature or any input of the wrong length.
[[nodiscard]] bool ed25519_verify(byte_view public_key, byte_view msg, byte_view sig) noexcept;

/// True when public_key could pass ed25519_verify: 32 bytes, a curve point, canonically
/// encoded and not of small order. For refusing a key when it is presented (hello).
[[nodiscard]] bool ed25519_public_key_ok(byte_view public_key) noexcept;

}  // namespace sealcast::crypto
