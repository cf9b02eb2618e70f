#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/error.hpp"
#include "persistence/records.hpp"
#include "persistence/write_batch.hpp"

namespace sealcast::persistence {

/// How to open the database (from [broker] data_dir and [storage]).
struct store_options {
  std::string path;                  ///< the RocksDB directory
  bool sync = true;                  ///< storage.sync: default for write() without an explicit flag
  std::uint32_t write_buffer_mb = 64;  ///< storage.write_buffer_mb: memtable budget of the whole DB
  bool create_if_missing = true;
};

/// Counters of committed writes, for stats and metrics.
struct store_stats {
  std::uint64_t writes = 0;   ///< RocksDB writes (one per store::write call that wrote anything)
  std::uint64_t syncs = 0;    ///< of which synced the WAL
  std::uint64_t batches = 0;  ///< write_batch values committed: batches / syncs = group-commit factor
  std::uint64_t bytes = 0;    ///< bytes of the committed RocksDB write batches
};

/// The schema version this build writes to meta and accepts. 2: protocol v2 (epochs store their
/// changes, custody, policy and issuer key; groups their pending proposals; messages their
/// ratchet index). 3: meta keeps the count of stored group messages (message_count); a version
/// 2 database is upgraded in place when opened, by counting its messages once.
inline constexpr std::uint64_t schema_version = 3;
/// The oldest schema version that open() upgrades instead of refusing.
inline constexpr std::uint64_t oldest_upgradable_schema = 2;

/// Meta names used by the broker.
namespace meta_names {
inline constexpr std::string_view schema_version = "schema_version";
inline constexpr std::string_view broker_key = "broker_key";
inline constexpr std::string_view next_event_seq = "next_event_seq";
inline constexpr std::string_view next_direct_seq = "next_direct_seq";
/// u64be: how many rows the messages family holds, kept by store::write (schema 3).
inline constexpr std::string_view message_count = "message_count";
}  // namespace meta_names

/// "As many as there are".
inline constexpr std::size_t no_limit = std::numeric_limits<std::size_t>::max();

/// The broker's database: one RocksDB instance with the column families of column_family.hpp.
/// Reads are safe from any thread concurrently with writes; get_* answers errc::not_found for a
/// missing row, while scans answer an empty list. Calls are blocking: keep them off I/O threads.
class store {
 public:
  /// Opens (or creates) the database. Refuses a corrupt or newer-schema database with
  /// errc::corruption / io_error / bad_format and a message naming the path and the reason.
  [[nodiscard]] static result<std::unique_ptr<store>> open(const store_options& options);

  ~store();
  store(const store&) = delete;
  store& operator=(const store&) = delete;

  /// Commits every batch as one atomic RocksDB write, synced when `sync` (group commit). When
  /// the batches add or delete stored messages, the same write stores the new message count
  /// (their deltas summed; writes that change it are serialized, the others are not).
  [[nodiscard]] status write(std::span<const write_batch> batches, bool sync);
  /// Commits one batch, synced when `sync`.
  [[nodiscard]] status write(const write_batch& batch, bool sync);
  /// Commits one batch, synced per store_options::sync.
  [[nodiscard]] status write(const write_batch& batch);
  /// Counters since open.
  [[nodiscard]] store_stats stats() const noexcept;
  /// The options the store was opened with.
  [[nodiscard]] const store_options& options() const noexcept;

  /// Syncs the WAL and flushes memtables to table files.
  [[nodiscard]] status flush();
  /// Closes the database; later calls fail with io_error. No other call may be in flight. The
  /// destructor closes too.
  [[nodiscard]] status close();
  /// Total size of the files in the database directory (storage.bytes_on_disk).
  [[nodiscard]] result<std::uint64_t> bytes_on_disk() const;

  // Users.
  /// One user by id.
  [[nodiscard]] result<user_record> get_user(const id16& user) const;
  /// Users in id order, starting after `after` (from the first when empty), at most `limit`.
  [[nodiscard]] result<std::vector<user_record>> scan_users(std::optional<id16> after, std::size_t limit) const;

  // Groups and membership.
  /// One group by id.
  [[nodiscard]] result<group_record> get_group(const id16& group) const;
  /// Groups in id order, starting after `after`, at most `limit`: one page.
  [[nodiscard]] result<std::vector<group_record>> scan_groups(std::optional<id16> after, std::size_t limit) const;
  /// One member of a group.
  [[nodiscard]] result<member_record> get_member(const id16& group, const id16& user) const;
  /// How many members a group has, without reading their rows.
  [[nodiscard]] result<std::uint64_t> member_count(const id16& group) const;
  /// Every member of a group in user id order.
  [[nodiscard]] result<std::vector<member_record>> members_of(const id16& group) const;
  /// Every group of a user in group id order, with the user's role.
  [[nodiscard]] result<std::vector<user_group_entry>> user_groups(const id16& user) const;

  // Epochs and keys.
  /// One epoch of a group.
  [[nodiscard]] result<epoch_record> get_epoch(const id16& group, std::uint64_t epoch) const;
  /// The epochs of a group from `from_epoch` on, in order.
  [[nodiscard]] result<std::vector<epoch_record>> epochs_of(const id16& group, std::uint64_t from_epoch = 0) const;
  /// One member's wrapped key of an epoch.
  [[nodiscard]] result<wrapped_key> get_wrapped_key(const id16& group, std::uint64_t epoch, const id16& user) const;
  /// Every wrapped key of one epoch, in user id order.
  [[nodiscard]] result<std::vector<wrapped_key_entry>> wrapped_keys_of_epoch(const id16& group,
                                                                             std::uint64_t epoch) const;
  /// A user's wrapped keys of a group from `from_epoch` on, in epoch order.
  [[nodiscard]] result<std::vector<wrapped_key_entry>> wrapped_keys_of_user(const id16& group, const id16& user,
                                                                            std::uint64_t from_epoch) const;

  // Group messages.
  /// One message of a group.
  [[nodiscard]] result<message_record> get_message(const id16& group, std::uint64_t seq) const;
  /// Messages of a group with seq >= from_seq, in seq order, at most `limit`.
  [[nodiscard]] result<std::vector<message_record>> messages_of(const id16& group, std::uint64_t from_seq,
                                                                std::size_t limit) const;
  /// Where a message id (group message or direct) points.
  [[nodiscard]] result<message_locator> find_message(const id16& message_id) const;
  /// Deletes the messages [from_seq, end_seq) of a group and their message_ids entries, in one
  /// write. Answers how many messages there were.
  [[nodiscard]] result<std::size_t> delete_messages(const id16& group, std::uint64_t from_seq,
                                                    std::uint64_t end_seq, bool sync);
  /// Adds the deletion of messages [from_seq, end_seq) and their ids to `batch` (reading the
  /// range for the ids), so the reaper can commit it with other writes. Answers the count.
  /// The count is what the range holds now: no other batch of the same commit may delete one of
  /// these messages, or the stored message count would drop twice for it.
  [[nodiscard]] result<std::size_t> stage_message_deletion(write_batch& batch, const id16& group,
                                                           std::uint64_t from_seq, std::uint64_t end_seq) const;

  /// The outcome of a settled group message (not_found when the id is unknown, still stored,
  /// or its outcome was trimmed).
  [[nodiscard]] result<message_outcome> get_message_outcome(const id16& message_id) const;
  /// How many group messages are stored (all groups): seeds the pending-messages gauge at
  /// start-up. Reads the count kept in meta (message_count): O(1) whatever the backlog.
  [[nodiscard]] result<std::uint64_t> count_messages() const;
  /// The same number by a key-only scan of the whole messages family: O(stored messages). What
  /// open() runs once to upgrade a database without the count; tests check the count with it.
  [[nodiscard]] result<std::uint64_t> scan_message_count() const;
  /// How many outcome rows are stored: seeds the count bound of the outcome trim.
  [[nodiscard]] result<std::uint64_t> count_outcomes() const;
  /// Adds to `batch` the deletion of outcomes settled before `before_ms` and of their
  /// message_ids tombstones, at most `limit` of them (the oldest). Answers the count.
  [[nodiscard]] result<std::size_t> stage_outcome_trim(write_batch& batch, std::uint64_t before_ms,
                                                       std::size_t limit) const;

  /// The delivery failures recorded for a group's stored messages, in seq then user order.
  [[nodiscard]] result<std::vector<delivery_failure>> delivery_failures_of(const id16& group) const;

  // Direct messages.
  /// One direct message of a recipient.
  [[nodiscard]] result<direct_record> get_direct(const id16& recipient, std::uint64_t seq) const;
  /// A recipient's directs with seq >= from_seq, in seq order, at most `limit`.
  [[nodiscard]] result<std::vector<direct_record>> directs_of(const id16& recipient, std::uint64_t from_seq,
                                                              std::size_t limit) const;
  /// Every recipient's directs from (recipient, seq) on, in key order (recipient, then seq), at
  /// most `limit`: the expiry sweep pages through them.
  [[nodiscard]] result<std::vector<direct_record>> directs_from(const id16& recipient, std::uint64_t seq,
                                                                std::size_t limit) const;
  /// Deletes one direct message and its message_ids entry (not_found if absent).
  [[nodiscard]] status delete_direct(const id16& recipient, std::uint64_t seq, bool sync);

  // Events.
  /// Events with seq >= from_seq, in order, at most `limit`.
  [[nodiscard]] result<std::vector<event_record>> events_from(std::uint64_t from_seq, std::size_t limit) const;
  /// The lowest stored event seq (not_found when there are none).
  [[nodiscard]] result<std::uint64_t> first_event_seq() const;
  /// The highest stored event seq (not_found when there are none).
  [[nodiscard]] result<std::uint64_t> last_event_seq() const;
  /// Deletes every event with seq < before_seq.
  [[nodiscard]] status trim_events(std::uint64_t before_seq, bool sync);

  // Meta.
  /// The bytes stored under a meta name.
  [[nodiscard]] result<bytes> get_meta(std::string_view name) const;
  /// A u64be stored under a meta name (bad_format if it is not 8 bytes).
  [[nodiscard]] result<std::uint64_t> get_meta_u64(std::string_view name) const;
  /// Stores bytes under a meta name, synced per store_options::sync.
  [[nodiscard]] status put_meta(std::string_view name, byte_view value);

  struct impl;  ///< RocksDB lives here, out of the public header.

 private:
  explicit store(std::unique_ptr<impl> p);
  /// Reads the message count, or counts the messages once and stores the count (a new database,
  /// or one of an older schema: `found_version`).
  [[nodiscard]] status load_message_count(std::uint64_t found_version);
  std::unique_ptr<impl> impl_;
};

}  // namespace sealcast::persistence
