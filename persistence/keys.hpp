#pragma once

#include <cstdint>
#include <string_view>

#include "common/bytes.hpp"
#include "common/error.hpp"

/// Key encodings of every column family. All parts are fixed width and integers big-endian, so
/// RocksDB's bytewise order is the numeric order and a prefix selects one owner's rows.
namespace sealcast::persistence::keys {

/// members: group || user.
struct member_key {
  id16 group;
  id16 user;
  friend bool operator==(const member_key&, const member_key&) = default;
};
/// user_groups: user || group.
struct user_group_key {
  id16 user;
  id16 group;
  friend bool operator==(const user_group_key&, const user_group_key&) = default;
};
/// epochs: group || u64be(epoch).
struct epoch_key {
  id16 group;
  std::uint64_t epoch = 0;
  friend bool operator==(const epoch_key&, const epoch_key&) = default;
};
/// wrapped_keys: group || u64be(epoch) || user.
struct wrapped_key_key {
  id16 group;
  std::uint64_t epoch = 0;
  id16 user;
  friend bool operator==(const wrapped_key_key&, const wrapped_key_key&) = default;
};
/// messages: group || u64be(seq).
struct message_key {
  id16 group;
  std::uint64_t seq = 0;
  friend bool operator==(const message_key&, const message_key&) = default;
};
/// directs: recipient || u64be(seq).
struct direct_key {
  id16 user;
  std::uint64_t seq = 0;
  friend bool operator==(const direct_key&, const direct_key&) = default;
};

/// message_outcomes: u64be(settled_ms) || message id, so that trimming by age is a range.
struct outcome_key {
  std::uint64_t settled_ms = 0;
  id16 id;
  friend bool operator==(const outcome_key&, const outcome_key&) = default;
};

/// delivery_failures: group || u64be(seq) || user, so that a message's rows are one prefix.
struct failure_key {
  id16 group;
  std::uint64_t seq = 0;
  id16 user;
  friend bool operator==(const failure_key&, const failure_key&) = default;
};

/// users, groups, message_ids: the 16 id bytes.
[[nodiscard]] bytes id_key(const id16& id);
/// events: u64be(seq).
[[nodiscard]] bytes event_key(std::uint64_t seq);
/// meta: the name's ASCII bytes.
[[nodiscard]] bytes meta_key(std::string_view name);

[[nodiscard]] bytes encode(const outcome_key& k);
[[nodiscard]] result<outcome_key> decode_outcome_key(byte_view key);
[[nodiscard]] bytes encode(const member_key& k);
[[nodiscard]] bytes encode(const user_group_key& k);
[[nodiscard]] bytes encode(const epoch_key& k);
[[nodiscard]] bytes encode(const wrapped_key_key& k);
[[nodiscard]] bytes encode(const message_key& k);
[[nodiscard]] bytes encode(const direct_key& k);
[[nodiscard]] bytes encode(const failure_key& k);

/// The prefix of every row owned by an id (a group's members, a user's directs...).
[[nodiscard]] bytes prefix(const id16& owner);
/// The prefix of every row of (owner, n): an epoch's wrapped keys.
[[nodiscard]] bytes prefix(const id16& owner, std::uint64_t n);

// Decoders reject any key of the wrong length with errc::bad_format.

[[nodiscard]] result<id16> decode_id_key(byte_view key);
[[nodiscard]] result<std::uint64_t> decode_event_key(byte_view key);
[[nodiscard]] result<member_key> decode_member_key(byte_view key);
[[nodiscard]] result<user_group_key> decode_user_group_key(byte_view key);
[[nodiscard]] result<epoch_key> decode_epoch_key(byte_view key);
[[nodiscard]] result<wrapped_key_key> decode_wrapped_key_key(byte_view key);
[[nodiscard]] result<message_key> decode_message_key(byte_view key);
[[nodiscard]] result<direct_key> decode_direct_key(byte_view key);
[[nodiscard]] result<failure_key> decode_failure_key(byte_view key);

}  // namespace sealcast::persistence::keys
