#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/bytes.hpp"
#include "common/error.hpp"
#include "crypto/hpke.hpp"
#include "crypto/secret.hpp"

namespace sealcast::crypto {

/// Size of a wrapped group key: enc(32) || ciphertext(32) || tag(16).
inline constexpr std::size_t wrapped_key_size = 80;
/// Domain labels of the key commitment and of the wrap's HPKE info (docs/protocol.md section 6).
inline constexpr std::string_view key_id_label = "sealcast/v2/keyid";
inline constexpr std::string_view wrap_label = "sealcast/v2/wrap";

/// A fresh random K_e.
[[nodiscard]] group_key generate_group_key();

/// key_id = SHA-256("sealcast/v2/keyid" || group_id || u64be(epoch) || K)[0:16]: a commitment
/// to the key that members check after unwrapping.
[[nodiscard]] id16 key_id(const id16& group, std::uint64_t epoch, const group_key& key);

/// The wrap's HPKE info: "sealcast/v2/wrap" || group_id || u64be(epoch).
[[nodiscard]] bytes wrap_info(const id16& group, std::uint64_t epoch);

/// HPKE-wraps K to one member's kx_pk (aad = key_id bytes); returns the 80-byte blob.
/// bad_length for a kx_pk that is not 32 bytes, bad_key for a low-order one.
[[nodiscard]] result<bytes> wrap_group_key(byte_view member_kx_pk, const id16& group,
                                           std::uint64_t epoch, const group_key& key);

/// wrap_group_key with an ephemeral key pair generated ahead of time (hpke_ephemeral): one X25519
/// per member instead of two while a rotation waits. bad_key if the ephemeral was already used.
[[nodiscard]] result<bytes> wrap_group_key(hpke_ephemeral ephemeral, byte_view member_kx_pk,
                                           const id16& group, std::uint64_t epoch,
                                           const group_key& key);

/// wrap_group_key with a caller-chosen ephemeral private key (deterministic; tests only).
[[nodiscard]] result<bytes> wrap_group_key_with_ephemeral(byte_view ephemeral_sk,
                                                          byte_view member_kx_pk, const id16& group,
                                                          std::uint64_t epoch,
                                                          const group_key& key);

/// Opens a wrapped key with the member's kx_sk and checks it against key_id. bad_length for a
/// blob that is not 80 bytes, decrypt_failed when it does not open (wrong recipient, group,
/// epoch, key_id or any flipped bit), key_mismatch when the key does not match key_id.
[[nodiscard]] result<group_key> unwrap_group_key(const kx_secret& kx_sk, const id16& group,
                                                 std::uint64_t epoch, const id16& expected_key_id,
                                                 byte_view wrapped);

}  // namespace sealcast::crypto
