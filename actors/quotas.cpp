#include "actors/quotas.hpp"

#include <iterator>
#include <string>

#include "common/time.hpp"
#include "persistence/store.hpp"

namespace sealcast::actors {

// -- group_quota --------------------------------------------------------------------------------

group_quota::ticket& group_quota::ticket::operator=(ticket&& o) noexcept {
  if (this != &o) {
    release();
    book_ = o.book_;
    user_ = o.user_;
    o.book_ = nullptr;
  }
  return *this;
}

void group_quota::ticket::release() noexcept {
  if (!book_) return;
  const std::lock_guard lock(book_->mu_);
  if (auto it = book_->owned_.find(user_); it != book_->owned_.end() && it->second > 0) --it->second;
  book_ = nullptr;
}

result<group_quota::ticket> group_quota::reserve(const persistence::store& store, const id16& user,
                                                 std::uint32_t limit) {
  if (limit == 0) return ticket{};
  std::unique_lock lock(mu_);
  auto it = owned_.find(user);
  if (it == owned_.end()) {
    // First creation by this user since start: count what the store says it owns.
    lock.unlock();
    auto mine = store.user_groups(user);
    if (!mine) return error{errc::internal, "could not count the user's groups"};
    std::uint32_t n = 0;
    for (const auto& e : *mine)
      if (e.role == member_role::owner) ++n;
    lock.lock();
    it = owned_.try_emplace(user, n).first;
  }
  if (it->second >= limit)
    return error{errc::forbidden, "this user owns " + std::to_string(it->second) +
                                      " groups, the most limits.groups_per_user allows"};
  ++it->second;
  return ticket{this, user};
}

// -- membership_quota ---------------------------------------------------------------------------

namespace {

double per_second(std::uint32_t per_minute) { return per_minute / 60.0; }

std::string minute_limit(std::uint32_t n, const char* what, const char* key) {
  return "rate limited: more than " + std::to_string(n) + " " + what + " per minute (limits." + key + ")";
}

}  // namespace

status membership_quota::join(const limits_config& lim, const id16& user) {
  const auto now = steady_us();
  const double added_rate = per_second(lim.members_added_per_minute);
  const double join_rate = per_second(lim.joins_per_minute);
  if (!added_.can_take(added_rate, lim.members_added_per_minute, now))
    return error{errc::rate_limited, minute_limit(lim.members_added_per_minute, "members added to this group",
                                                  "members_added_per_minute")};
  if (lim.joins_per_minute != 0) {
    if (joins_.size() >= 64) {  // drop joiners whose buckets refilled: a new bucket is the same
      for (auto it = joins_.begin(); it != joins_.end();)
        it = it->second.full(join_rate, lim.joins_per_minute, now) ? joins_.erase(it) : std::next(it);
    }
    auto it = joins_.find(user);
    if (it != joins_.end() && !it->second.can_take(join_rate, lim.joins_per_minute, now))
      return error{errc::rate_limited,
                   minute_limit(lim.joins_per_minute, "joins of this group by this user", "joins_per_minute")};
    if (it == joins_.end()) it = joins_.try_emplace(user).first;
    (void)it->second.take(join_rate, lim.joins_per_minute, now);
  }
  (void)added_.take(added_rate, lim.members_added_per_minute, now);
  return {};
}

status membership_quota::add(const limits_config& lim, bool rekeys) {
  if (!rekeys) return {};
  const double rate = per_second(lim.members_added_per_minute);
  if (!added_.take(rate, lim.members_added_per_minute, steady_us()))
    return error{errc::rate_limited, minute_limit(lim.members_added_per_minute, "members added to this group",
                                                  "members_added_per_minute")};
  return {};
}

}  // namespace sealcast::actors
