#pragma once

#include <string_view>

#include "common/bytes.hpp"
#include "common/error.hpp"
#include "crypto/identity.hpp"
#include "crypto/secret.hpp"

namespace sealcast::crypto {

/// Domain label of direct messages (docs/protocol.md section 8), both HPKE info and signature.
inline constexpr std::string_view direct_label = "sealcast/v2/direct";

/// A direct message as it travels in direct frames.
struct sealed_direct {
  bytes sealed;  ///< HPKE enc || ciphertext || tag
  bytes sig;
};

/// HPKE info: "sealcast/v2/direct" || sender_id || recipient_id.
[[nodiscard]] bytes direct_info(const id16& sender, const id16& recipient);

/// The signed bytes: "sealcast/v2/direct" || recipient_id || sealed.
[[nodiscard]] bytes direct_sig_input(const id16& recipient, byte_view sealed);

/// Seals pt to the recipient's kx_pk (fresh ephemeral key) and signs it. bad_length or bad_key
/// for an unusable kx_pk.
[[nodiscard]] result<sealed_direct> seal_direct(const identity& sender, const id16& recipient,
                                                byte_view recipient_kx_pk, byte_view plaintext);

/// seal_direct with a caller-chosen ephemeral private key (deterministic; tests only).
[[nodiscard]] result<sealed_direct> seal_direct_with_ephemeral(const identity& sender,
                                                               const id16& recipient,
                                                               byte_view recipient_kx_pk,
                                                               byte_view ephemeral_sk,
                                                               byte_view plaintext);

/// ok when sig is the sender's signature over the recipient and sealed bytes; bad_signature
/// otherwise. The broker may check this before storing.
[[nodiscard]] status verify_direct(byte_view sender_sign_pk, const id16& recipient,
                                   const sealed_direct& msg);

/// Verifies (bad_key when sender_sign_pk is not the sender's, bad_signature), then opens with
/// the recipient's kx_sk (decrypt_failed when it does not authenticate).
[[nodiscard]] result<secure_bytes> open_direct(const identity& recipient, const id16& sender,
                                               byte_view sender_sign_pk, const sealed_direct& msg);

}  // namespace sealcast::crypto
