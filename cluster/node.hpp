#pragma once

// One sealcastd node's part in the cluster: its NATS connection, its heartbeat (membership.hpp)
// and its partition leases (partitions.hpp), started and stopped together. sealcastd builds one
// when [cluster] is configured; nothing of the message path is here yet.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cluster/lease.hpp"
#include "cluster/membership.hpp"
#include "cluster/nats.hpp"
#include "cluster/partitions.hpp"
#include "config/config.hpp"

namespace sealcast::cluster {

/// Everything the admin view shows, copied at one instant.
struct cluster_view {
  node_info self;
  std::vector<node_info> nodes;  ///< live, sorted by name
  partition_snapshot partitions;
  std::string nats_server;  ///< the nats-server connected to; "" while reconnecting
};

/// A node of the cluster. Thread-safe once started.
class node {
 public:
  /// Connects to NATS and opens the lease bucket, retrying until `timeout` (servers that are
  /// still starting, a JetStream meta leader not elected yet). errc::unavailable when it could
  /// not; errc::config_error when the cluster's buckets disagree with this configuration.
  [[nodiscard]] static result<std::unique_ptr<node>> connect(const cluster_config& cfg,
                                                             std::chrono::milliseconds timeout);
  ~node();
  node(const node&) = delete;
  node& operator=(const node&) = delete;

  /// Joins: the first heartbeat (so the other nodes and this one see each other), then the
  /// partition manager's first round and its thread. `hook` sees every partition change.
  [[nodiscard]] status start(node_info self, std::function<std::uint64_t()> connections, partition_hook hook);
  /// Leaves: deletes the heartbeat, then releases every lease (others take over at once).
  /// Idempotent.
  void stop();

  [[nodiscard]] cluster_view view() const;
  [[nodiscard]] const cluster_config& config() const noexcept { return cfg_; }
  /// Null before start().
  [[nodiscard]] const partition_manager* partitions() const noexcept { return partitions_.get(); }
  [[nodiscard]] const membership* members() const noexcept { return members_.get(); }

 private:
  node(cluster_config cfg, nats_client client, lease_table leases);

  cluster_config cfg_;
  nats_client client_;
  lease_table leases_;
  std::unique_ptr<membership> members_;
  std::unique_ptr<partition_manager> partitions_;
};

}  // namespace sealcast::cluster
