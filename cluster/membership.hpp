#pragma once

// Cluster membership: which sealcastd nodes are alive, and how to reach them.
//
// Each node writes a heartbeat, its node_info as JSON, under its name in a KV bucket (memory
// storage, R3) whose TTL is `ttl_beats` heartbeats. The bucket's MaxAge removes a node that
// stopped beating; a node that stops cleanly deletes its key. Every heartbeat a node also
// reads the bucket: the keys present (one stream-info request) and each one's value. A node is
// live while its key exists: the nats-servers' expiry decides, the same for every observer.
//
// Membership only steers where partitions should go (partitions.hpp); it never grants
// ownership. Two nodes that see different live sets for a moment disagree on desired owners,
// not on who holds a lease.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cluster/nats.hpp"
#include "common/error.hpp"

namespace sealcast::cluster {

/// One node as its heartbeat describes it.
struct node_info {
  std::string name;
  std::string client_url;         ///< where clients connect (cluster.advertise)
  std::string admin_url;          ///< the node's admin API
  std::int64_t started_ms = 0;    ///< Unix ms when the node started
  std::int64_t pid = 0;           ///< the sealcastd process on its host
  std::uint64_t connections = 0;  ///< open client connections at the heartbeat
  std::int64_t beat_ms = 0;       ///< Unix ms of the heartbeat (the writer's clock)

  friend bool operator==(const node_info&, const node_info&) = default;
};

/// The heartbeat value: node_info as a JSON object, and back.
[[nodiscard]] std::string encode_node(const node_info& n);
[[nodiscard]] result<node_info> decode_node(std::string_view json);

/// The bucket and timing of membership.
struct membership_options {
  std::string bucket = "sc_nodes";
  std::chrono::milliseconds heartbeat{1000};
  int ttl_beats = 3;  ///< a node is gone after this many heartbeats without one
  int replicas = 3;
};

/// Writes this node's heartbeat and reads everyone's, on its own thread. Thread-safe.
class membership {
 public:
  /// Opens the bucket, creating it if needed. A bucket that exists with another TTL (another
  /// heartbeat_ms on some node) is refused with errc::config_error. Borrows `client`, which must
  /// outlive the membership. `connections` is read at every heartbeat.
  [[nodiscard]] static result<std::unique_ptr<membership>> open(const nats_client& client, membership_options o,
                                                                node_info self,
                                                                std::function<std::uint64_t()> connections);
  ~membership();
  membership(const membership&) = delete;
  membership& operator=(const membership&) = delete;

  /// One heartbeat, then one per period on its own thread. Fails when the first heartbeat does.
  [[nodiscard]] status start();
  /// Ends the thread and deletes this node's key so that the others see it leave at once.
  /// Idempotent.
  void stop();

  /// Writes the heartbeat and reads the bucket once (the thread does this every period).
  [[nodiscard]] status beat();

  /// The live nodes, sorted by name, this node included while it runs.
  [[nodiscard]] std::vector<node_info> nodes() const;
  /// Their names only.
  [[nodiscard]] std::vector<std::string> names() const;
  /// This node's own record as of its last heartbeat.
  [[nodiscard]] node_info self() const;
  [[nodiscard]] const membership_options& options() const noexcept { return o_; }

 private:
  membership(const nats_client& client, nats_ptr<kvStore> kv, membership_options o, node_info self,
             std::function<std::uint64_t()> connections);
  void run();
  [[nodiscard]] result<std::vector<node_info>> read_all() const;

  const nats_client& client_;
  nats_ptr<kvStore> kv_;
  membership_options o_;
  std::function<std::uint64_t()> connections_;

  mutable std::mutex mu_;  // guards self_, nodes_, left_
  node_info self_;
  std::vector<node_info> nodes_;
  bool left_ = false;

  std::mutex run_mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace sealcast::cluster
