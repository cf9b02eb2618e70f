#pragma once

#include <optional>
#include <string>

#include "client/sealcast_client.hpp"
#include "crypto/hash.hpp"
#include "crypto/identity.hpp"
#include "crypto/manifest.hpp"
#include "crypto/secret.hpp"
#include "protocol/server_frames.hpp"

// The checks a client runs on a key frame before it installs the key (PROTOCOL.md section 6),
// as one pure function so that tests can feed it forged frames.

namespace sealcast::client::detail {

/// What the key check knows besides the frame.
struct key_check_context {
  const crypto::identity* me = nullptr;
  id16 broker_id;
  bytes broker_pk;  ///< from the challenge
  /// SHA-256 of epoch-1's manifest when this client holds it; the chain is checked against it.
  std::optional<crypto::digest32> prev_hash;
  /// The issuer's Ed25519 key in client custody (self-certified against the issuer id by the
  /// caller); absent: the manifest cannot be verified and the key is refused.
  std::optional<bytes> issuer_sign_pk;
};

/// A key that passed every check.
struct checked_key {
  crypto::group_key key;
  crypto::digest32 manifest_hash{};
};

/// Either a checked key or why it was refused.
struct key_check_result {
  std::optional<checked_key> ok;
  warning_kind kind = warning_kind::bad_manifest;
  std::string message;
};

/// The manifest a key frame describes, in crypto's terms.
[[nodiscard]] crypto::manifest manifest_of(const protocol::server::key& k);

/// Checks a key frame: in broker custody the issuer is the broker and the manifest verifies
/// under broker_pk; in client custody the issuer is an owner or admin listed in the manifest and
/// it verifies under issuer_sign_pk. Then: epoch 1 chains to zeros and any later epoch to
/// prev_hash when known (chain_break otherwise), the manifest lists this user with its kx_pk,
/// and the wrapped key opens and matches key_id (bad_key).
[[nodiscard]] key_check_result check_key_frame(const protocol::server::key& k, const key_check_context& ctx);

}  // namespace sealcast::client::detail
