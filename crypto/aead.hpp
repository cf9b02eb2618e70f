#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/bytes.hpp"
#include "common/error.hpp"
#include "crypto/secret.hpp"

#include "common/types.hpp"

namespace sealcast::crypto {

/// Message AEAD algorithms (common/types.hpp): alg_id on the wire and on disk.
using sealcast::aead_alg;

/// Key size of every message AEAD.
inline constexpr std::size_t aead_key_size = 32;
/// Tag size of every message AEAD; the tag is appended to the ciphertext.
inline constexpr std::size_t aead_tag_size = 16;

/// The wire name: "aes-256-gcm", "chacha20-poly1305" or "xchacha20-poly1305".
[[nodiscard]] std::string_view to_string(aead_alg alg) noexcept;
/// Parses a wire name; bad_request for anything else.
[[nodiscard]] result<aead_alg> parse_aead_alg(std::string_view name);
/// Parses an alg_id byte; bad_format for an unknown value.
[[nodiscard]] result<aead_alg> aead_alg_from_id(std::uint8_t id);
/// The alg_id byte.
[[nodiscard]] constexpr std::uint8_t alg_id(aead_alg alg) noexcept {
  return static_cast<std::uint8_t>(alg);
}
/// Nonce size: 12 for aes-256-gcm and chacha20-poly1305, 24 for xchacha20-poly1305.
[[nodiscard]] std::size_t nonce_size(aead_alg alg) noexcept;

/// Encrypts pt; returns ciphertext || 16-byte tag. bad_length for a wrong key or nonce size.
[[nodiscard]] result<bytes> aead_seal(aead_alg alg, byte_view key, byte_view nonce, byte_view aad,
                                      byte_view pt);

/// Decrypts ciphertext || tag. bad_length for a wrong key or nonce size, decrypt_failed when the
/// ciphertext does not authenticate (wrong key, nonce, aad, or any flipped bit).
[[nodiscard]] result<secure_bytes> aead_open(aead_alg alg, byte_view key, byte_view nonce,
                                             byte_view aad, byte_view ct);

}  // namespace sealcast::crypto
