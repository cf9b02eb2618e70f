#pragma once

// The per-group ordered log of the cluster: one replicated JetStream file stream holds the
// records of many groups, one subject per group (`<prefix>.<partition>.<group-hex>`). The owner
// of a group assigns its seq and appends with `Nats-Msg-Id: <group-hex>.<seq>`; the stream's
// deduplication turns that id into a fence: within the stream's Duplicates window a second
// record for the same (group, seq) is refused on every replica, whoever sends it.
//
// What an ack means (nats-server 2.9.10): the record is in the Raft log of a quorum of the
// stream's replicas (2 of 3) and applied on the leader. It survives the loss of any one
// nats-server process or node. It is not yet on disk: the file store flushes to the OS at once
// but syncs every 60 s and 2.9.10 cannot be told otherwise, so a power loss of a quorum of
// nodes at the same time can lose acknowledged records.
//
// Records are opaque bytes plus headers: this file knows nothing of what the broker stores.

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cluster/nats.hpp"
#include "common/bytes.hpp"
#include "common/error.hpp"

namespace sealcast::cluster {

/// One stream of the log and what it covers.
struct log_options {
  std::string stream = "SC_LOG";
  std::string subject_prefix = "sc.m";    ///< subjects are <prefix>.<partition>.<group-hex>
  std::vector<std::uint32_t> partitions;  ///< partitions this stream holds; empty: all
  int replicas = 3;
  std::chrono::seconds max_age{7 * 24 * 3600};  ///< the message TTL
  /// The fence's reach: a late write of an already used (group, seq) is refused while the first
  /// is younger than this. It must exceed the longest a write can stay in flight: a lease term
  /// plus a publish timeout plus a retry.
  std::chrono::seconds duplicates{120};
};

/// A header of a record (name, value); names starting with "Nats-" belong to JetStream.
using record_header = std::pair<std::string, std::string>;

/// One stored record.
struct record {
  std::uint64_t stream_seq = 0;  ///< position in the stream (all groups of the stream)
  std::string subject;
  std::string msg_id;                  ///< Nats-Msg-Id: <group-hex>.<seq>
  std::vector<record_header> headers;  ///< all headers, JetStream's included
  bytes data;
  std::int64_t time_ns = 0;  ///< when the stream leader stored it (Unix ns)

  /// The group seq from the Msg-Id (0 when it has none).
  [[nodiscard]] std::uint64_t group_seq() const noexcept;
  /// The value of header `name`, or "" when absent.
  [[nodiscard]] std::string_view header(std::string_view name) const noexcept;
};

/// What an append did.
enum class append_outcome : std::uint8_t {
  stored,     ///< a new record at stream_seq
  duplicate,  ///< the Msg-Id was already in the stream: nothing stored; stream_seq is the
              ///< existing record's, which may be ours (a retry) or another owner's
};

/// The server's answer to an append.
struct append_ack {
  append_outcome outcome = append_outcome::stored;
  std::uint64_t stream_seq = 0;
};

/// Optional parts of an append.
struct append_options {
  std::vector<record_header> headers;
  /// When set, the stream refuses the append (errc::conflict) unless the group's newest record
  /// is at this stream sequence (0: the group has none). 2.9.10 checks this on the leader only
  /// (nats-server#4320) for values > 0, so it is a hint, not the fence.
  std::optional<std::uint64_t> expected_last_stream_seq;
  /// Overrides the client's request timeout for this append.
  std::optional<std::chrono::milliseconds> timeout;
};

/// Appends to and reads from one log stream. Thread-safe; borrows the client's connection,
/// which must outlive it.
class group_log {
 public:
  /// Creates the stream, or checks that the existing one has the same subjects, replicas and
  /// AllowDirect (its MaxAge and Duplicates window are updated to `o`'s).
  [[nodiscard]] static result<group_log> open(const nats_client& client, log_options o);

  /// The subject of a group's records.
  [[nodiscard]] std::string subject(std::uint32_t partition, const id16& group) const;
  /// The fence: "<group-hex>.<seq>".
  [[nodiscard]] static std::string msg_id(const id16& group, std::uint64_t seq);

  /// Appends one record for (group, seq) and waits for the quorum ack. A duplicate is a
  /// success of its own kind (see append_outcome). errc::unavailable on a timeout or while the
  /// stream has no leader: the record may or may not be stored, so retry with the same seq
  /// (the Msg-Id makes the retry safe) or read last() first. errc::conflict when
  /// expected_last_stream_seq did not match.
  [[nodiscard]] result<append_ack> append(std::uint32_t partition, const id16& group, std::uint64_t seq, byte_view data,
                                          const append_options& opt = {}) const;

  /// The group's newest record, read from the stream leader (so it includes every record the
  /// leader has applied), or nullopt when the group has none.
  [[nodiscard]] result<std::optional<record>> last(std::uint32_t partition, const id16& group) const;

  /// The record at a stream sequence, from the leader; not_found if it is absent or expired.
  [[nodiscard]] result<record> get(std::uint64_t stream_seq) const;

  /// Up to `max` records of one group with stream_seq >= from_stream_seq, in stream order.
  /// Served by any replica (direct get), so a replica that lags may end the read early, never
  /// with a gap or out of order. Pass `through` (a stream sequence the caller knows is acked)
  /// to have the rest up to it read from the leader when that happens.
  [[nodiscard]] result<std::vector<record>> read(std::uint32_t partition, const id16& group,
                                                 std::uint64_t from_stream_seq, std::size_t max,
                                                 std::uint64_t through = 0) const;

  /// The stream's leader (a nats-server name), "" when it has none right now.
  [[nodiscard]] result<std::string> leader() const;

  [[nodiscard]] const log_options& options() const noexcept { return o_; }

 private:
  group_log(jsCtx* js, log_options o);

  jsCtx* js_;  // owned by the nats_client
  log_options o_;
};

/// Turns a message returned by a get into a record (copies everything out of it).
[[nodiscard]] record to_record(natsMsg* msg);

}  // namespace sealcast::cluster
