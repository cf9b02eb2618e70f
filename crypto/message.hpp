#pragma once

#include <cstdint>
#include <string_view>

#include "common/bytes.hpp"
#include "common/error.hpp"
#include "crypto/aead.hpp"
#include "crypto/secret.hpp"
#include "crypto/sign.hpp"

namespace sealcast::crypto {

/// Domain labels of group messages (docs/protocol.md section 7.2).
inline constexpr std::string_view msg_aad_label = "sealcast/v2/msg";
inline constexpr std::string_view msg_sig_label = "sealcast/v2/sig";

/// Where a group message belongs: everything its aad and signature bind.
struct message_context {
  id16 group;
  std::uint64_t epoch = 0;
  id16 sender;
  std::uint32_t index = 0;  ///< the sender's ratchet index (section 7.1)
  aead_alg alg = aead_alg::aes_256_gcm;
};

/// A group message as it travels in publish and message frames.
struct sealed_message {
  bytes nonce;
  bytes ct;  ///< ciphertext || 16-byte tag
  bytes sig;
};

/// aad = "sealcast/v2/msg" || group_id || u64be(epoch) || sender_id || u32be(index).
[[nodiscard]] bytes message_aad(const message_context& ctx);

/// The signed bytes: "sealcast/v2/sig" || group_id || u64be(epoch) || sender_id || u32be(index)
/// || alg_id || nonce || ct.
[[nodiscard]] bytes message_sig_input(const message_context& ctx, byte_view nonce, byte_view ct);

/// Encrypts under the message key of ctx.index (from the sender's ratchet) with a fresh random
/// nonce, and signs. ctx.sender must be the signer's user id (bad_key otherwise).
[[nodiscard]] result<sealed_message> encrypt_message(const signing_key& signer, const aead_key& msg_key,
                                                     const message_context& ctx, byte_view plaintext);

/// encrypt_message with a caller-chosen nonce (deterministic; tests and vectors only). bad_length
/// for a nonce of the wrong size.
[[nodiscard]] result<sealed_message> encrypt_message_with_nonce(const signing_key& signer, const aead_key& msg_key,
                                                                const message_context& ctx, byte_view nonce,
                                                                byte_view plaintext);

/// ok when sig is the sender's signature of the message in its context (strict, section 2.1);
/// bad_key when sender_sign_pk is not ctx.sender's key, bad_signature otherwise.
[[nodiscard]] status verify_message_sig(byte_view sender_sign_pk, const message_context& ctx,
                                        const sealed_message& msg);

/// The AEAD half of receiving: decrypt_failed when the ciphertext does not authenticate under
/// msg_key and ctx, bad_length for a nonce of the wrong size. It does not check the signature:
/// the caller runs verify_message_sig first, before it spends a ratchet index (section 7.3).
[[nodiscard]] result<secure_bytes> decrypt_message(const aead_key& msg_key, const message_context& ctx,
                                                   const sealed_message& msg);

}  // namespace sealcast::crypto
