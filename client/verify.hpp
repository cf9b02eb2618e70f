#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "client/sealcast_client.hpp"
#include "crypto/group_context.hpp"
#include "crypto/hash.hpp"
#include "crypto/identity.hpp"
#include "crypto/secret.hpp"
#include "protocol/results.hpp"
#include "protocol/server_frames.hpp"

// What a member checks before it believes an epoch (docs/protocol.md section 6.6), as pure
// functions over a per-group chain_state so that tests can feed them forged frames without a
// broker. Key frames and `manifests` entries go through the same check_epoch(); only key frames
// carry a wrapped key (step 6). The membership rule itself is crypto::apply_commit.

namespace sealcast::client::detail {

/// How many verified epochs a group's history keeps (manifest and members hash, membership):
/// enough to check a late key frame of any epoch whose ratchet is still kept (max_epochs_kept).
inline constexpr std::size_t max_history_kept = 33;

/// What this client verified of one epoch.
struct verified_epoch {
  crypto::digest32 manifest_hash{};
  crypto::digest32 members_hash{};
  bool member = false;  ///< this user is in the epoch's set with its own kx_pk
  /// The epoch's members, kept only while this user belongs to an epoch verified from `manifests`
  /// whose key has not arrived yet: the ratchet needs every sender's id when it does.
  std::vector<id16> roster;

  friend bool operator==(const verified_epoch&, const verified_epoch&) = default;
};

/// One group's verified chain: the pinned context and the latest verified epoch v.
/// How many epochs one catch-up may replay, and how many changes one epoch may carry: a hostile
/// broker's frame beyond these is refused instead of costing unbounded memory or CPU.
inline constexpr std::uint64_t max_catch_up_epochs = 65536;
inline constexpr std::size_t max_changes_per_epoch = 65536;

struct chain_state {
  bool pinned = false;  ///< custody and policy are known (first verified manifest, or our own create)
  key_custody custody = key_custody::broker;
  group_policy policy = group_policy::invite;
  /// Who created the group, when this client did: the genesis must add it as owner (a broker
  /// cannot hand the creator a group some other identity owns).
  std::optional<id16> creator;
  std::uint64_t epoch = 0;     ///< v, the latest verified epoch; 0 when none
  crypto::member_set members;  ///< epoch v's set
  /// The newest verified epochs (v included), at most max_history_kept.
  std::map<std::uint64_t, verified_epoch> history;

  /// Epoch v's manifest hash (zeros when v = 0: the prev_hash of epoch 1).
  [[nodiscard]] crypto::digest32 manifest_hash() const;

  friend bool operator==(const chain_state&, const chain_state&) = default;
};

/// An epoch as the broker presents it: a key frame, or a `manifests` entry (no wrapped key).
struct epoch_frame {
  id16 group;
  std::uint64_t epoch = 0;
  id16 key_id;
  aead_alg alg = aead_alg::aes_256_gcm;
  key_custody custody = key_custody::broker;
  group_policy policy = group_policy::invite;
  id16 issuer;
  std::optional<key32> issuer_pk;
  sig64 sig{};
  std::vector<crypto::change> changes;
  std::optional<wrapped_key> wrapped;  ///< key frames only
};

/// A wire change in crypto's terms (sign_pk and kx_sig, which only a rekey_request carries, are
/// left out: they are no part of the change line).
[[nodiscard]] crypto::change to_crypto(const protocol::change& c);
/// The epoch a key frame presents.
[[nodiscard]] epoch_frame frame_of(const protocol::server::key& k);
/// The epoch a `manifests` entry presents.
[[nodiscard]] epoch_frame frame_of(const id16& group, const protocol::manifest_entry& m);

/// What the checks know besides the frame.
struct check_context {
  const crypto::identity* me = nullptr;
  id16 broker_id;
  bytes broker_pk;  ///< from the challenge
};

/// An epoch that passed every check.
struct verified_step {
  std::uint64_t epoch = 0;
  id16 key_id;
  aead_alg alg = aead_alg::aes_256_gcm;
  key_custody custody = key_custody::broker;
  group_policy policy = group_policy::invite;
  id16 issuer;
  crypto::member_set members;  ///< the epoch's set (empty for an epoch checked against its record)
  crypto::digest32 manifest_hash{};
  crypto::digest32 members_hash{};
  bool member = false;                   ///< this user is in the set with its own kx_pk
  std::vector<id16> roster;              ///< the set's user ids
  std::vector<crypto::change> changes;   ///< the verified changes, in order
  std::optional<crypto::group_key> key;  ///< K_e, when the frame carried a wrapped key
  /// e <= v: the frame matched the recorded manifest hash; advance() leaves the chain as it is.
  bool recorded = false;
};

/// Either a verified epoch or why it was refused (kind: bad_signature, bad_manifest,
/// chain_break or bad_key).
struct epoch_check {
  std::optional<verified_step> ok;
  warning_kind kind = warning_kind::bad_manifest;
  std::string message;
};

/// Section 6.6 for one epoch e against chain `st`:
/// - e = v + 1 (or e = 1 when nothing is known): steps 2 to 5, the pinned custody and policy,
///   the issuer (the broker in broker custody; in client custody never the broker, issuer_pk
///   certifies issuer), crypto::apply_commit of the changes to v's set, and the manifest rebuilt
///   from it, prev_hash = v's manifest hash, verifying under the issuer's key;
/// - e <= v: the manifest rebuilt from the frame and the recorded members hash must hash to the
///   recorded manifest hash (chain_break otherwise);
/// - e > v + 1: chain_break (the caller replays the missing epochs first).
/// With a wrapped key, step 6: the set lists this user with its kx_pk, the key opens and matches
/// key_id. A manifest that does not verify under the rebuilt context is bad_signature: frames
/// carry no prev_hash, so a forked chain and a tampered delta look the same.
[[nodiscard]] epoch_check check_epoch(const chain_state& st, const epoch_frame& f, const check_context& ctx);

/// Records a verified epoch as the new v (nothing for a `recorded` step). The key is not kept.
void advance(chain_state& st, const verified_step& step);

}  // namespace sealcast::client::detail
