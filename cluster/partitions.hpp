#pragma once

// Partition ownership: which node is the one writer for the groups of each partition.
//
// The group space is cut into P partitions, `partition_of(group, P)`. Each partition has a
// desired owner, chosen by rendezvous hashing over the live nodes (`desired_owner`), so a node
// that joins or leaves moves only the partitions it wins or held. A node owns a partition only
// while it holds the partition's lease (cluster/lease.hpp, key `p.<partition>`): it acquires the
// free leases of the partitions it should own, renews its leases well before their deadline,
// releases a partition whose desired owner became another node, and takes over a partition
// whose lease expired because its holder died. Every node computes the same hashes, so the
// functions below are part of the cluster's contract (docs/cluster.md, "Partitions").
//
// A lease whose local deadline passed (the process was paused, NATS did not answer) is lost at
// once: `owns()` and `snapshot()` stop reporting it before the manager's thread even wakes, and
// the thread reports it lost before it sends any renew. Gaining it back later is a new acquire,
// with a new, higher revision.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cluster/lease.hpp"
#include "common/bytes.hpp"

namespace sealcast::cluster {

/// FNV-1a, 64 bit, over `data`, continuing from `h` (the FNV offset basis by default).
[[nodiscard]] std::uint64_t fnv1a64(byte_view data, std::uint64_t h = 0xcbf29ce484222325ULL) noexcept;
/// MurmurHash3's 64-bit finalizer: spreads every input bit over the output.
[[nodiscard]] std::uint64_t mix64(std::uint64_t k) noexcept;

/// The partition of a group: mix64(fnv1a64(the 16 id bytes)) mod `partitions`.
[[nodiscard]] std::uint32_t partition_of(const id16& group, std::uint32_t partitions) noexcept;
/// A node's rendezvous score for a partition: mix64(fnv1a64(node name bytes, then the
/// partition as 4 bytes big-endian)).
[[nodiscard]] std::uint64_t rendezvous_score(std::string_view node, std::uint32_t partition) noexcept;
/// The node with the highest score for `partition` (ties: the greater name); "" when `nodes` is
/// empty.
[[nodiscard]] std::string desired_owner(std::span<const std::string> nodes, std::uint32_t partition);
/// The lease key of a partition: "p.<partition>".
[[nodiscard]] std::string lease_key(std::uint32_t partition);

/// Who owns one partition, as this node knows it.
struct partition_owner {
  std::string node;                                     ///< the lease holder; "" when free or not known right now
  std::uint64_t revision = 0;                           ///< the holder's lease revision (the fencing token)
  bool mine = false;                                    ///< this node holds a valid lease
  std::chrono::steady_clock::time_point valid_until{};  ///< mine only: act until then
};

/// Every partition's owner at one instant; index = partition.
struct partition_snapshot {
  std::vector<partition_owner> owners;
  std::chrono::steady_clock::time_point refreshed{};  ///< when the others' leases were last read

  /// How many partitions this node owns.
  [[nodiscard]] std::size_t owned() const noexcept;
};

/// A partition this node gained or lost.
struct partition_change {
  std::uint32_t partition = 0;
  bool gained = false;
  std::uint64_t revision = 0;  ///< gained: the new lease's revision; lost: the last one held
  std::string reason;          ///< lost: why ("moved to n2", "deadline passed", ...)
};

/// Called on the manager's thread (or the thread calling stop()) for every change, in order.
/// Must not block for long: the next renewals wait for it.
using partition_hook = std::function<void(const partition_change&)>;

/// The live nodes' names, this node included; called once per round.
using live_nodes_fn = std::function<std::vector<std::string>()>;

/// What a partition manager needs to know.
struct partition_options {
  std::string node;                      ///< this node's name (the lease holder string)
  std::uint32_t count = 64;              ///< P
  std::chrono::milliseconds tick{1000};  ///< one round per tick
};

/// Acquires, renews, releases and takes over partition leases on its own thread.
/// Thread-safe: snapshot(), owns() and grant() may be called from any thread.
class partition_manager {
 public:
  /// `leases` must outlive the manager.
  partition_manager(const lease_table& leases, partition_options o, live_nodes_fn live, partition_hook hook);
  ~partition_manager();
  partition_manager(const partition_manager&) = delete;
  partition_manager& operator=(const partition_manager&) = delete;

  /// Runs one round now, then one per tick on its own thread.
  void start();
  /// Ends the thread, then releases every lease held (others take over at once) and reports
  /// each as lost. Idempotent.
  void stop();

  /// One round: drop leases past their deadline, release or renew the held ones, read the
  /// others' leases, acquire the free partitions this node should own. The thread calls it;
  /// tests may call it directly on a manager that was not started.
  void step();

  [[nodiscard]] partition_snapshot snapshot() const;
  /// This node's valid lease on `partition`, or nullopt.
  [[nodiscard]] std::optional<lease_grant> grant(std::uint32_t partition) const;
  /// True while this node holds a valid lease on `partition`.
  [[nodiscard]] bool owns(std::uint32_t partition) const { return grant(partition).has_value(); }
  [[nodiscard]] const partition_options& options() const noexcept { return o_; }

 private:
  void run();
  // Reports and forgets every held lease past its deadline at `now`; releases them best-effort.
  void drop_expired();
  // Renews or releases the held leases; false when the cluster stopped answering.
  bool maintain_held(const std::vector<std::string>& live);
  // Reads every partition's holder; false when the cluster stopped answering.
  bool refresh_table();
  void acquire_free(const std::vector<std::string>& live);
  void lose(std::uint32_t p, const lease_grant& g, std::string reason, bool release);
  void notify(const partition_change& c);

  const lease_table& leases_;
  partition_options o_;
  live_nodes_fn live_;
  partition_hook hook_;

  mutable std::mutex mu_;  // guards held_, table_, refreshed_
  std::map<std::uint32_t, lease_grant> held_;
  std::vector<std::optional<lease_holder>> table_;  // as last read; index = partition
  std::chrono::steady_clock::time_point refreshed_{};

  std::mutex run_mu_;  // guards stopping_
  std::condition_variable wake_;
  bool stopping_ = false;
  bool stopped_ = false;
  std::thread thread_;
};

}  // namespace sealcast::cluster
