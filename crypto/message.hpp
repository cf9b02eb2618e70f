#pragma once

#include <cstdint>
#include <string_view>

#include "common/bytes.hpp"
#include "common/error.hpp"
#include "crypto/aead.hpp"
#include "crypto/secret.hpp"
#include "crypto/sign.hpp"

namespace sealcast::crypto {

/// Domain labels of group messages (PROTOCOL.md section 7).
inline constexpr std::string_view msg_key_label = "sealcast/v1/msgkey";
inline constexpr std::string_view msg_aad_label = "sealcast/v1/msg";
inline constexpr std::string_view msg_sig_label = "sealcast/v1/sig";

/// Where a group message belongs: everything its key, aad and signature bind.
struct message_context {
  id16 group;
  std::uint64_t epoch = 0;
  id16 sender;
  aead_alg alg = aead_alg::aes_256_gcm;
};

/// A group message as it travels in publish and message frames.
struct sealed_message {
  bytes nonce;
  bytes ct;  ///< ciphertext || 16-byte tag
  bytes sig;
};

/// msg_key = HKDF-SHA256(ikm=K, salt=empty, info="sealcast/v1/msgkey" || sender_id, L=32).
[[nodiscard]] aead_key message_key(const group_key& key, const id16& sender);

/// aad = "sealcast/v1/msg" || group_id || u64be(epoch) || sender_id.
[[nodiscard]] bytes message_aad(const id16& group, std::uint64_t epoch, const id16& sender);

/// The signed bytes: "sealcast/v1/sig" || group_id || u64be(epoch) || alg_id || nonce || ct.
[[nodiscard]] bytes message_sig_input(const id16& group, std::uint64_t epoch, aead_alg alg,
                                      byte_view nonce, byte_view ct);

/// Encrypts and signs with a fresh random nonce. ctx.sender must be the signer's user id
/// (bad_key otherwise).
[[nodiscard]] result<sealed_message> encrypt_message(const signing_key& signer,
                                                     const group_key& key,
                                                     const message_context& ctx,
                                                     byte_view plaintext);

/// encrypt_message with a caller-chosen nonce (deterministic; tests only: a repeated nonce
/// under one key breaks the AEAD). bad_length for a nonce of the wrong size.
[[nodiscard]] result<sealed_message> encrypt_message_with_nonce(const signing_key& signer,
                                                                const group_key& key,
                                                                const message_context& ctx,
                                                                byte_view nonce,
                                                                byte_view plaintext);

/// ok when sig is the sender's signature of the message; bad_signature otherwise, bad_key when
/// sender_sign_pk is not ctx.sender's key.
[[nodiscard]] status verify_message_sig(byte_view sender_sign_pk, const message_context& ctx,
                                        const sealed_message& msg);

/// Verifies the signature first (verify_message_sig), then decrypts: decrypt_failed when the
/// ciphertext does not authenticate, bad_length for a nonce of the wrong size.
[[nodiscard]] result<secure_bytes> decrypt_message(byte_view sender_sign_pk, const group_key& key,
                                                   const message_context& ctx,
                                                   const sealed_message& msg);

}  // namespace sealcast::crypto
