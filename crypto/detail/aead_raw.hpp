#pragma once
// Private to crypto/*.cpp: AEAD by Botan cipher, shared by the message AEAD, HPKE's AES-128-GCM
// and the keystore. Callers have already checked key and nonce sizes.

#include "common/bytes.hpp"
#include "common/error.hpp"
#include "crypto/secret.hpp"

namespace sealcast::crypto::detail {

/// The AEAD ciphers Sealcast uses; ChaCha20-Poly1305 with a 24-byte nonce is XChaCha20-Poly1305.
enum class cipher { aes_128_gcm, aes_256_gcm, chacha20_poly1305 };

/// Encrypts pt; the result is ciphertext || 16-byte tag.
[[nodiscard]] bytes aead_seal(cipher c, byte_view key, byte_view nonce, byte_view aad,
                              byte_view pt);

/// Decrypts ciphertext || tag; decrypt_failed on a bad tag or a ciphertext shorter than the tag.
[[nodiscard]] result<secure_bytes> aead_open(cipher c, byte_view key, byte_view nonce,
                                             byte_view aad, byte_view ct);

}  // namespace sealcast::crypto::detail
