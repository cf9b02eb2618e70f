#pragma once

// Partition leases in a JetStream key-value bucket: at most one node writes for a partition at a
// time, and a node that lost its lease learns it before it can do harm.
//
// How it works. A lease is one key of an R3 bucket whose TTL (the stream's MaxAge) is the lease
// term. Acquire publishes the key with "expected last subject sequence 0", so it succeeds only
// when nobody holds it; renew publishes it again expecting the revision we hold; release deletes
// exactly the message at our revision. The KV revision (the stream sequence of our entry) is
// the fencing token: it grows with every acquire and renew, across holders.
//
// Guarantees, and their limits (nats-server 2.9.10, read from its source):
//  - Acquire is decided on every replica when the entry is applied (the "expected 0" check is not
//    pre-checked on the leader), so two racing acquires cannot both win.
//  - Renew expects a revision > 0, which 2.9.10 checks only on the stream leader before proposing
//    (nats-server#4320, fixed in 2.9.21): two renews in flight with the same revision could both
//    pass. A single holder renews one at a time, and a stale revision (someone else's entry is
//    newer) is refused, but right after a leader change the new leader may not have applied the
//    newest entry yet. This is why the log is fenced on its own (group_log's Nats-Msg-Id) and the
//    lease is never the only fence.
//  - Expiry is each replica's MaxAge timer against the entry's timestamp, which the stream
//    leader stamped from its wall clock when it proposed the entry, after we sent it. So the
//    entry cannot expire before send time + TTL, give or take the clock skew between
//    nats-servers. The holder's local deadline is send time + TTL - margin on the steady clock:
//    the margin must cover that skew, the expiry timer's slack and the time between checking the
//    deadline and the write reaching the server. A holder that was paused (SIGSTOP, a long GC of
//    the machine) finds its deadline passed when it resumes and must not write.
//  - A write that was already handed to cnats before the deadline can still reach the server
//    after it (the process was paused with the bytes in cnats' buffer). Time does not fence that
//    write; the log's deduplication does, within its Duplicates window.
//  - Release deletes the message at our revision only, so a late release can never remove a
//    newer holder's entry. A delete marker (kvStore_Delete) is not used: it would make the next
//    acquire fall back to "expected revision N", the leader-only check above.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cluster/nats.hpp"
#include "common/error.hpp"

namespace sealcast::cluster {

/// The bucket and timing of a set of leases.
struct lease_options {
  std::string bucket = "sc_leases";        ///< KV bucket; its stream is KV_<bucket>
  std::chrono::milliseconds ttl{10000};    ///< lease term: the bucket's TTL
  std::chrono::milliseconds margin{2000};  ///< how long before the term the holder stops writing
  int replicas = 3;
};

/// A lease this node holds. `revision` is the fencing token; `valid_until` is the local
/// deadline after which the holder must not write (steady clock).
struct lease_grant {
  std::string key;
  std::string holder;
  std::uint64_t revision = 0;
  std::chrono::steady_clock::time_point valid_until{};

  /// True while the holder may still act on the lease.
  [[nodiscard]] bool valid(
      std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now()) const noexcept {
    return now < valid_until;
  }
};

/// Who holds a key according to the bucket (a read, not a promise: it can change right after).
struct lease_holder {
  std::string holder;
  std::uint64_t revision = 0;
};

/// The leases of one bucket, shared by all partitions. Thread-safe; borrows the client's
/// connection, which must outlive it.
class lease_table {
 public:
  /// Opens the bucket, creating it with `o.ttl` and `o.replicas` if it does not exist yet. A
  /// bucket that exists with another TTL is refused (config_error): the margin would be wrong.
  [[nodiscard]] static result<lease_table> open(const nats_client& client, lease_options o);

  /// Takes `key` for `holder` if nobody holds it. errc::exists when somebody does;
  /// errc::unavailable when the cluster did not answer (the acquire may still have happened:
  /// holder() tells, and the entry expires after the TTL if so).
  [[nodiscard]] result<lease_grant> acquire(std::string_view key, std::string_view holder) const;

  /// Extends a lease we hold. errc::conflict when another holder took it (the revision moved):
  /// stop writing at once. On errc::unavailable the old grant stays valid until its deadline.
  [[nodiscard]] result<lease_grant> renew(const lease_grant& grant) const;

  /// Gives the lease up so another node can take it without waiting for the TTL. Releasing a
  /// lease that already expired or moved on is not an error (not_found is folded into ok).
  [[nodiscard]] status release(const lease_grant& grant) const;

  /// The current holder of `key`, or nullopt when it is free.
  [[nodiscard]] result<std::optional<lease_holder>> holder(std::string_view key) const;

  [[nodiscard]] const lease_options& options() const noexcept { return o_; }

 private:
  lease_table(jsCtx* js, lease_options o);

  // Publishes holder on key expecting `last` (0: no entry); returns the new revision.
  [[nodiscard]] result<std::uint64_t> put(std::string_view key, std::string_view holder, std::uint64_t last) const;
  // The bucket's newest message on key, read from the stream leader; nullptr when there is none.
  [[nodiscard]] result<nats_ptr<natsMsg>> last_entry(std::string_view key) const;

  jsCtx* js_;  // owned by the nats_client
  lease_options o_;
  std::string stream_;          // KV_<bucket>
  std::string subject_prefix_;  // $KV.<bucket>.
};

}  // namespace sealcast::cluster
