#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>

#include "client/sealcast_client.hpp"
#include "crypto/message.hpp"
#include "crypto/ratchet.hpp"
#include "crypto/secret.hpp"

// The message keys of one installed epoch (docs/protocol.md section 7): this client's sending
// chain and a receiving chain per other member, all seeded from K_e when the epoch is installed,
// after which K_e is dropped. Sealing and opening are pure functions over it so that tests can
// replay and reorder indexes without a broker.

namespace sealcast::client::detail {

/// One installed epoch.
struct epoch_keys {
  id16 key_id;
  aead_alg alg = aead_alg::aes_256_gcm;
  id16 issuer;  ///< the broker (broker custody) or the committer (client custody)
  crypto::sender_chain own;
  std::map<id16, crypto::receiver_chain> peers;  ///< every other member of the epoch's set
};

/// Derives chain_0 of every member of `roster` (this user's own as the sending chain) from K_e.
[[nodiscard]] epoch_keys make_epoch_keys(const crypto::group_key& key, const id16& key_id, aead_alg alg,
                                         const id16& issuer, std::span<const id16> roster, const id16& me);

/// A sealed message and the index it took.
struct sealed_at {
  std::uint32_t index = 0;
  crypto::sealed_message msg;
};

/// Takes the next index of the sending chain, encrypts under its key and signs (section 7.2).
/// ctx.index is set here.
[[nodiscard]] result<sealed_at> seal_next(epoch_keys& keys, const crypto::signing_key& signer,
                                          crypto::message_context ctx, byte_view plaintext);

/// A received message opened, or why not.
struct open_result {
  std::optional<crypto::secure_bytes> body;
  warning_kind kind = warning_kind::decrypt_failed;
  std::string message;
};

/// Section 7.3 in order: the signature under sender_sign_pk, the sender in the epoch's set,
/// ctx.index fresh for the sender (replay: used before, or its skipped key dropped; too far
/// ahead), then the AEAD. Nothing is spent unless the signature verifies and the sender belongs.
[[nodiscard]] open_result open_message(epoch_keys& keys, byte_view sender_sign_pk, const crypto::message_context& ctx,
                                       const crypto::sealed_message& msg);

}  // namespace sealcast::client::detail
