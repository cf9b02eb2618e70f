#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "common/error.hpp"
#include "persistence/store.hpp"

namespace sealcast::actors {

/// Group commit: every actor hands its write batches here; a dedicated thread takes everything
/// queued, commits it as one (optionally synced) RocksDB write, then runs each batch's
/// completion. CAF workers and io threads never wait on an fsync.
///
/// A plain thread with a queue rather than a CAF actor: draining a whole mailbox at once is what
/// makes group commit work, and CAF 0.17's behaviour-based actors hand messages over one by one.
class storage_writer {
 public:
  /// Called on the writer thread once the batch is durable (or failed); must not block.
  using completion = std::function<void(const status&)>;

  /// Counters for stats: how many batches shared how many writes.
  struct counters {
    std::uint64_t batches = 0;  ///< batches committed
    std::uint64_t writes = 0;   ///< RocksDB writes (each synced when sync is on)
    std::uint64_t max_batches_per_write = 0;
  };

  storage_writer(persistence::store& store, bool sync);
  ~storage_writer();
  storage_writer(const storage_writer&) = delete;
  storage_writer& operator=(const storage_writer&) = delete;

  /// Builds a batch from the store on the writer thread, then commits it like submit().
  using stage_fn = std::function<persistence::write_batch(persistence::store&)>;

  /// Queues a batch; `done` runs on the writer thread after the commit.
  void submit(persistence::write_batch batch, completion done);
  /// Queues work that reads the store to decide what to write (trims, cleanups), so that no
  /// actor blocks on the scan; it runs in queue order with the other batches.
  void submit_staged(stage_fn stage, completion done);

  /// Commits what is queued, then stops the thread. Later submits fail with io_error.
  void stop();

  [[nodiscard]] counters stats() const;

 private:
  struct item {
    persistence::write_batch batch;
    completion done;
    stage_fn stage;  ///< when set, builds `batch` first
  };

  void run();

  persistence::store& store_;
  const bool sync_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<item> queue_;
  bool stopping_ = false;
  counters counters_;
  std::thread thread_;
};

}  // namespace sealcast::actors
