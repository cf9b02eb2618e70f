#pragma once

// Quotas the actors enforce (docs/operations.md, "Limits and quotas"): groups owned per user
// (limits.groups_per_user, checked by the directory's create_group) and, per group, members
// added per minute and joins per user per minute (limits.members_added_per_minute,
// limits.joins_per_minute, checked by the group actor before a change starts an epoch).

#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "common/bytes.hpp"
#include "common/error.hpp"
#include "common/token_bucket.hpp"
#include "config/config.hpp"

namespace sealcast::persistence {
class store;
}

namespace sealcast::actors {

/// How many groups each user owns, counted from the store on first use and then kept up to date
/// as groups are created, so that creations whose writes are still in flight count too (a burst
/// of create_group cannot overshoot the limit). Groups are never deleted, so the count only
/// grows. Thread-safe.
class group_quota {
 public:
  /// One more group reserved for a user: given back when the ticket is dropped without keep().
  class ticket {
   public:
    ticket() = default;
    ticket(ticket&& o) noexcept : book_(o.book_), user_(o.user_) { o.book_ = nullptr; }
    ticket& operator=(ticket&& o) noexcept;
    ticket(const ticket&) = delete;
    ticket& operator=(const ticket&) = delete;
    ~ticket() { release(); }
    /// The group is being created: the reservation stays.
    void keep() noexcept { book_ = nullptr; }

   private:
    friend class group_quota;
    ticket(group_quota* book, const id16& user) : book_(book), user_(user) {}
    void release() noexcept;
    group_quota* book_ = nullptr;
    id16 user_;
  };

  /// Reserves one more group owned by `user`, or `forbidden` when the user owns `limit` already
  /// (0 = unlimited). The caller keep()s the ticket once the group is on its way.
  [[nodiscard]] result<ticket> reserve(const persistence::store& store, const id16& user, std::uint32_t limit);

 private:
  std::mutex mu_;
  std::unordered_map<id16, std::uint32_t, id16_hash> owned_;
};

/// One group's membership-change rates. Owned by the group actor (not thread-safe).
class membership_quota {
 public:
  /// A join of `user`: one of the user's joins_per_minute for this group and one of the group's
  /// members_added_per_minute; `rate_limited` (taking nothing) when either is used up.
  [[nodiscard]] status join(const limits_config& lim, const id16& user);
  /// An add_member: one of the group's members_added_per_minute when `rekeys` (broker custody:
  /// the broker rekeys for every member at once). A client-custody add is a proposal that an
  /// admin's client commits, in batches, so it is not counted.
  [[nodiscard]] status add(const limits_config& lim, bool rekeys);

 private:
  token_bucket added_;
  /// Per joiner; only users whose join was accepted are here, and buckets that have refilled
  /// are dropped, so it holds at most about members_added_per_minute entries.
  std::unordered_map<id16, token_bucket, id16_hash> joins_;
};

}  // namespace sealcast::actors
