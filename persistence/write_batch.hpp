#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "persistence/column_family.hpp"
#include "persistence/records.hpp"

namespace sealcast::persistence {

/// What one recorded operation does.
enum class op_kind : std::uint8_t { put, del, delete_range };

/// One recorded operation: `value` is the value of a put and the (exclusive) end key of a
/// delete_range.
struct batch_op {
  column_family family = column_family::default_family;
  op_kind kind = op_kind::put;
  bytes key;
  bytes value;
};

/// A list of writes that commit together or not at all. A plain value: a group actor builds one
/// and hands it to the storage writer, which commits many in one store::write. Helpers keep
/// each index consistent with what it indexes (a message with its id, a member with the
/// user's group list), and the message helpers record how many stored group messages the batch
/// adds or removes, which store::write folds into the persisted message count.
class write_batch {
 public:
  /// Stores or replaces a user.
  void put_user(const user_record& r);
  /// Stores or replaces a group.
  void put_group(const group_record& r);
  /// Stores or replaces a member and the user's user_groups entry.
  void put_member(const member_record& r);
  /// Rewrites a member's row whose role is unchanged (a cursor moved): its user_groups entry,
  /// which holds only the role, is left as it is, so a cursor costs one entry, not two.
  void put_member_cursor(const member_record& r);
  /// Deletes a member and the user's user_groups entry.
  void delete_member(const id16& group, const id16& user);
  /// Stores or replaces an epoch.
  void put_epoch(const epoch_record& r);
  /// Stores one member's wrapped key of an epoch.
  void put_wrapped_key(const id16& group, std::uint64_t epoch, const id16& user, const wrapped_key& blob);
  /// Deletes every wrapped key of the epochs [from_epoch, end_epoch) of a group.
  void delete_wrapped_keys(const id16& group, std::uint64_t from_epoch, std::uint64_t end_epoch);
  /// Stores a new message (a seq not stored yet: it counts one more stored message) and its
  /// message_ids entry.
  void put_message(const message_record& r);
  /// Deletes a stored message (it counts one fewer) and its message_ids entry.
  void delete_message(const id16& group, std::uint64_t seq, const id16& message_id);
  /// Deletes the messages [from_seq, end_seq) of a group, whose ids are `ids` (every message
  /// stored in the range: the count drops by ids.size()), and their message_ids entries.
  void delete_messages(const id16& group, std::uint64_t from_seq, std::uint64_t end_seq, std::span<const id16> ids);
  /// Deletes a stored group message (it counts one fewer) and turns its message_ids entry into a
  /// tombstone pointing at the outcome row stored here, so its final status stays answerable
  /// until trimmed. Also deletes the delivery_failures rows of the recipients in `o.failed`: the
  /// outcome holds them from now on.
  void settle_message(const message_outcome& o);
  /// Records that a recipient's delivery of a stored message ran out of attempts.
  void put_delivery_failure(const id16& group, const delivery_failure& f);
  /// Deletes the delivery_failures rows of the seqs [from_seq, end_seq) of a group.
  void delete_delivery_failures(const id16& group, std::uint64_t from_seq, std::uint64_t end_seq);
  /// Stores or replaces a direct message and its message_ids entry.
  void put_direct(const direct_record& r);
  /// Deletes a direct message and its message_ids entry.
  void delete_direct(const id16& recipient, std::uint64_t seq, const id16& message_id);
  /// Appends (or replaces) an event.
  void put_event(const event_record& r);
  /// Deletes every event with seq < before_seq.
  void trim_events(std::uint64_t before_seq);
  /// Stores arbitrary bytes under a meta name.
  void put_meta(std::string_view name, byte_view value);
  /// Stores a u64be under a meta name (counters, next sequence numbers).
  void put_meta_u64(std::string_view name, std::uint64_t value);
  /// Deletes a meta name.
  void delete_meta(std::string_view name);

  /// Appends another batch's operations after this one's.
  void append(write_batch&& other);
  /// Low-level operations for what the typed helpers do not cover (keys from keys.hpp). They do
  /// not count messages: write the messages family through the helpers above.
  void put(column_family cf, bytes key, bytes value);
  void del(column_family cf, bytes key);
  /// Deletes keys in [begin, end).
  void delete_range(column_family cf, bytes begin, bytes end);

  /// The recorded operations in order.
  [[nodiscard]] std::span<const batch_op> ops() const noexcept { return ops_; }
  [[nodiscard]] bool empty() const noexcept { return ops_.empty(); }
  [[nodiscard]] std::size_t size() const noexcept { return ops_.size(); }
  /// Key and value bytes recorded so far: what the storage writer bounds a commit by.
  [[nodiscard]] std::size_t byte_size() const noexcept { return bytes_; }
  /// Stored group messages this batch adds (positive) or deletes (negative).
  [[nodiscard]] std::int64_t message_delta() const noexcept { return message_delta_; }
  /// Forgets every operation.
  void clear() noexcept;

 private:
  std::vector<batch_op> ops_;
  std::size_t bytes_ = 0;
  std::int64_t message_delta_ = 0;
};

}  // namespace sealcast::persistence
