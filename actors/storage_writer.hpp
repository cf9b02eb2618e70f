#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "common/error.hpp"
#include "persistence/store.hpp"

namespace sealcast::actors {

/// A test hook: batches that store a row in a given column family fail instead of being
/// committed, as if the disk had refused them (the other batches of the same commit go in). Set with the environment variable SEALCAST_TEST_FAIL_WRITES,
/// read once when the broker starts: `<kind>[,<count>]`, where kind is `all` or a column family
/// (`epochs`, `members`, `messages`, `groups`, ...; the singular works too) and count how many
/// matching batches fail (default: every one). Never set it in production.
struct write_fault {
  static constexpr const char* variable = "SEALCAST_TEST_FAIL_WRITES";

  std::optional<persistence::column_family> family;  ///< none: every batch
  std::uint64_t count = std::numeric_limits<std::uint64_t>::max();  ///< matching batches still to fail

  /// Parses `<kind>[,<count>]`.
  [[nodiscard]] static result<write_fault> parse(std::string_view spec);
  /// The hook the environment asks for, if any (a malformed value is logged and ignored).
  [[nodiscard]] static std::optional<write_fault> from_environment();
  /// Whether `batch` puts a row into the family (or the hook fails every batch).
  [[nodiscard]] bool matches(const persistence::write_batch& batch) const;
  /// `all` or the family's name.
  [[nodiscard]] std::string kind() const;
};

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

  /// Honours SEALCAST_TEST_FAIL_WRITES (write_fault).
  storage_writer(persistence::store& store, bool sync);
  /// With an explicit fault (tests), or none.
  storage_writer(persistence::store& store, bool sync, std::optional<write_fault> fault);
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
  std::optional<write_fault> fault_;  ///< only the writer thread touches it once running
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<item> queue_;
  bool stopping_ = false;
  counters counters_;
  std::thread thread_;
};

}  // namespace sealcast::actors
