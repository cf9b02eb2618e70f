#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "bench/bench_client.hpp"
#include "crypto/group_context.hpp"

// The owner's side of a client-custody group (docs/protocol.md 6.3 and 6.4), for the rotate
// scenario: it signs the owner's proposals against the epoch it last committed, and answers each
// rekey_request as an honest admin's client does: checks prev_hash, applies the changes to its
// member set with crypto::apply_commit (every proposal verified), wraps a fresh K to the new set,
// signs the v2 manifest and sends the count of changes. Being the group's only committer, it
// learns each epoch's set from its own commits. Used on the owner's strand only.

namespace sealcast::bench {

/// Proposes and commits for one client-custody group owned by one bench client.
class committer {
 public:
  committer(bench_client& owner, group_policy policy) : owner_(owner), policy_(policy) {}

  /// The group, once create_group answered; a rekey_request that came before the answer was
  /// read is taken up now. Call on the owner's strand.
  void set_group(const id16& group);
  /// Commit only a rekey_request with at least `n` pending changes (while adds are being
  /// proposed one by one, the requests in between are left to the last one).
  void expect_changes(std::size_t n) { expected_ = n; }

  /// add_member of `user` (whose registered kx_pk is `kx_pk`) with the owner's proposal.
  [[nodiscard]] protocol::client::add_member propose_add(const id16& user, const key32& kx_pk,
                                                         member_role role = member_role::member) const;
  /// remove_member of `user` with the owner's proposal.
  [[nodiscard]] protocol::client::remove_member propose_remove(const id16& user) const;

  /// A rekey_request reached the owner: commit it when it has the expected changes (or keep it
  /// until the commit in flight is answered).
  void on_rekey_request(const protocol::server::rekey_request& rq);

  // Readable from any strand (the scenario waits on them).
  /// The epoch last committed (0 before the genesis).
  [[nodiscard]] std::uint64_t epoch() const noexcept { return epoch_.load(); }
  /// Commits the broker accepted, and requests refused (by this committer or with bad_rekey).
  [[nodiscard]] std::uint64_t commits() const noexcept { return commits_.load(); }
  [[nodiscard]] std::uint64_t failures() const noexcept { return failures_.load(); }
  /// What failed last, for the error report.
  [[nodiscard]] std::string last_error() const {
    std::lock_guard lock(error_mutex_);
    return last_error_;
  }

 private:
  void commit(const protocol::server::rekey_request& rq);
  void fail(std::string why);

  bench_client& owner_;
  group_policy policy_;
  id16 group_;
  std::size_t expected_ = 1;
  std::atomic<std::uint64_t> epoch_{0};
  crypto::member_set members_;
  crypto::digest32 manifest_hash_{};
  bool in_flight_ = false;
  std::optional<protocol::server::rekey_request> waiting_;  ///< arrived while a commit was in flight
  std::optional<protocol::server::rekey_request> early_;    ///< arrived before set_group()
  std::atomic<std::uint64_t> commits_{0};
  std::atomic<std::uint64_t> failures_{0};
  mutable std::mutex error_mutex_;
  std::string last_error_;
};

}  // namespace sealcast::bench
