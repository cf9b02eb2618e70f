#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "common/types.hpp"

namespace sealcast::persistence {

/// A 32-byte public key (Ed25519 or X25519).
using sealcast::key32;
/// A 32-byte SHA-256 output.
using sealcast::hash32;
/// A 64-byte Ed25519 signature.
using sealcast::sig64;
/// An HPKE-wrapped group key: enc(32) || ciphertext(48) (PROTOCOL.md section 6).
using sealcast::wrapped_key;

// Persisted enums: the values are on disk (and match PROTOCOL.md where it defines them), so they
// are explicit and never change.

/// A member's role; the values are the manifest's role byte.
using sealcast::member_role;
/// Who may join a group.
using sealcast::group_policy;
/// Who holds a group's keys.
using sealcast::key_custody;
/// What a message id points at: a stored group message, a stored direct, or the outcome row of
/// a group message that was deleted (delivered or expired).
enum class message_kind : std::uint8_t { group = 1, direct = 2, settled = 3 };
/// The final status of a settled group message, from its recipients' outcomes: delivered (every
/// recipient acknowledged it, or it had none), partial (some did, others failed or expired),
/// failed (none did; at least one ran out of delivery attempts), expired (none did; the TTL
/// passed first for all of them).
enum class message_outcome_status : std::uint8_t { delivered = 1, expired = 2, failed = 3, partial = 4 };

/// A known user (users family, keyed by id).
struct user_record {
  id16 id;
  key32 sign_pk{};
  key32 kx_pk{};
  sig64 kx_sig{};
  std::string name;
  std::uint64_t first_seen_ms = 0;
  std::uint64_t last_seen_ms = 0;

  friend bool operator==(const user_record&, const user_record&) = default;
};

/// One membership change of an epoch, or a client-custody proposal waiting for its commit
/// (PROTOCOL.md section 6.1 to 6.3). Raw bytes rather than enums: action is a change_action and
/// role a member_role value, or 0 for none (remove, leave), exactly as in the signed change line.
struct change_record {
  std::uint8_t action = 0;  ///< change_action value
  id16 user;
  key32 kx_pk{};          ///< add and join; zeros otherwise
  std::uint8_t role = 0;  ///< member_role value for add, join and role; 0 = none
  bool has_by = false;    ///< whether `by` names who asked (the broker's own rotations have none)
  id16 by;
  bool has_proposal = false;  ///< client custody: by_pk and sig carry the proposal
  key32 by_pk{};
  sig64 sig{};

  friend bool operator==(const change_record&, const change_record&) = default;
};

/// A group and the state its actor restarts from (groups family, keyed by id).
struct group_record {
  id16 id;
  std::string name;
  group_policy policy = group_policy::invite;
  key_custody custody = key_custody::broker;
  std::uint32_t max_members = 0;
  id16 owner;
  std::uint64_t epoch = 0;     ///< current epoch (0 in client custody before the first rekey)
  std::uint64_t next_seq = 1;  ///< the seq the next publish gets
  std::uint64_t created_ms = 0;
  std::uint64_t epoch_created_ms = 0;
  std::uint64_t epoch_message_count = 0;
  std::uint64_t pending_epoch = 0;  ///< epoch of an outstanding rekey; 0 when none
  std::string rekey_reason;
  bool rekey_after_removal = false;  ///< the pending rekey blocks publishing (removal or leave)
  std::uint64_t rekey_requested_ms = 0;  ///< so a restarted broker knows the deadline
  std::vector<change_record> pending_changes;  ///< client custody: accepted proposals, in arrival order

  friend bool operator==(const group_record&, const group_record&) = default;
};

/// One member of a group (members family, keyed by group then user).
struct member_record {
  id16 group;
  id16 user;
  member_role role = member_role::member;
  std::uint64_t joined_ms = 0;
  std::uint64_t acked_seq = 0;   ///< cumulative ack: everything up to here is delivered
  std::uint64_t joined_seq = 0;  ///< first seq the member is a recipient of

  friend bool operator==(const member_record&, const member_record&) = default;
};

/// One of a user's groups (user_groups index, keyed by user then group).
struct user_group_entry {
  id16 group;
  member_role role = member_role::member;

  friend bool operator==(const user_group_entry&, const user_group_entry&) = default;
};

/// One member of an epoch's member set.
struct manifest_member {
  id16 user;
  key32 kx_pk{};
  member_role role = member_role::member;

  friend bool operator==(const manifest_member&, const manifest_member&) = default;
};

/// One epoch of a group, with what is needed to rebuild its manifest and its key frames
/// (epochs family).
struct epoch_record {
  id16 group;
  std::uint64_t epoch = 0;
  id16 key_id;
  std::uint8_t alg = 0;  ///< alg_id of PROTOCOL.md section 6
  hash32 prev_hash{};
  hash32 manifest_hash{};
  std::vector<manifest_member> members;  ///< the epoch's full member set
  id16 issuer;
  sig64 signature{};
  key_custody custody = key_custody::broker;
  group_policy policy = group_policy::invite;
  bool has_issuer_pk = false;  ///< client custody: the committer's key is stored for key frames
  key32 issuer_pk{};
  std::vector<change_record> changes;  ///< this epoch's changes against the previous one, in order
  std::uint64_t created_ms = 0;
  std::uint64_t expires_ms = 0;
  std::uint64_t message_count = 0;
  bool removal = false;  ///< started by a removal or leave: no grace for the previous epoch

  friend bool operator==(const epoch_record&, const epoch_record&) = default;
};

/// One wrapped key with where it belongs (wrapped_keys family).
struct wrapped_key_entry {
  std::uint64_t epoch = 0;
  id16 user;
  wrapped_key blob{};

  friend bool operator==(const wrapped_key_entry&, const wrapped_key_entry&) = default;
};

/// A stored group message (messages family, keyed by group then seq).
struct message_record {
  id16 group;
  std::uint64_t seq = 0;
  id16 id;
  id16 sender;
  std::uint64_t epoch = 0;
  std::uint32_t index = 0;  ///< the sender's ratchet index (PROTOCOL.md section 7.1)
  std::uint8_t alg = 0;
  bytes nonce;
  bytes ct;
  sig64 sig{};
  std::uint64_t ts_ms = 0;
  std::uint32_t recipient_count = 0;
  std::uint32_t delivery_attempts = 0;

  friend bool operator==(const message_record&, const message_record&) = default;
};

/// Where a message id points (message_ids family): a group's seq or a user's direct seq.
struct message_locator {
  message_kind kind = message_kind::group;
  id16 owner;  ///< the group id, or the recipient's user id for a direct
  std::uint64_t seq = 0;
  std::uint64_t settled_ms = 0;  ///< kind settled only: when, which keys its message_outcomes row

  friend bool operator==(const message_locator&, const message_locator&) = default;
};

/// What is left of a deleted group message (message_outcomes family, keyed by settled_ms then
/// id): enough to answer "what happened to message X" without its ciphertext. The row and the
/// message_ids tombstone pointing at it are trimmed together after events.retention.
struct message_outcome {
  std::uint64_t settled_ms = 0;
  id16 id;
  id16 group;
  std::uint64_t seq = 0;
  id16 sender;
  std::uint64_t epoch = 0;
  std::uint64_t ts_ms = 0;
  message_outcome_status status = message_outcome_status::delivered;
  std::uint32_t recipient_count = 0;
  std::uint32_t delivery_attempts = 0;
  std::uint32_t remaining_recipients = 0;  ///< recipients that never acknowledged it
  /// Whether the lists below were recorded: false for a row written before they existed.
  bool per_recipient = true;
  // The recipients (members when it settled) by outcome, each in user id order and at most
  // max_members long. A recipient removed from the group before it acknowledged is in none.
  std::vector<id16> delivered;  ///< acknowledged it
  std::vector<id16> failed;     ///< ran out of delivery attempts
  std::vector<id16> expired;    ///< had not acknowledged it when the TTL passed

  friend bool operator==(const message_outcome&, const message_outcome&) = default;
};

/// A recipient whose delivery of a stored group message ran out of attempts (delivery_failures
/// family, keyed by group, seq and user). Kept until the message settles, so that its outcome
/// says `failed` for that recipient also after a restart.
struct delivery_failure {
  std::uint64_t seq = 0;
  id16 user;
  std::uint64_t failed_ms = 0;
  std::uint32_t attempts = 0;

  friend bool operator==(const delivery_failure&, const delivery_failure&) = default;
};

/// A stored direct message (directs family, keyed by recipient then seq).
struct direct_record {
  id16 recipient;
  std::uint64_t seq = 0;
  id16 id;
  id16 sender;
  bytes sealed;
  sig64 sig{};
  std::uint64_t ts_ms = 0;
  std::uint32_t attempts = 0;

  friend bool operator==(const direct_record&, const direct_record&) = default;
};

/// A persisted event (events family, keyed by event seq).
struct event_record {
  std::uint64_t seq = 0;
  std::string type;
  std::uint64_t ts_ms = 0;
  std::optional<id16> group;
  std::optional<id16> user;
  std::optional<id16> message;
  std::string data;  ///< a JSON object as text

  friend bool operator==(const event_record&, const event_record&) = default;
};

}  // namespace sealcast::persistence
