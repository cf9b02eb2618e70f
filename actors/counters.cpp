#include "actors/counters.hpp"

#include <bit>
#include <cmath>

namespace sealcast::actors {

namespace {
constexpr std::string_view event_names[event_type_count] = {
    "group_created",   "member_joined",  "member_left",       "key_rotated",  "message_published",
    "message_delivered", "message_failed", "message_cleaned", "direct_sent",  "direct_delivered",
    "rekey_requested", "user_connected", "user_disconnected", "partition_gained", "partition_lost",
};
}  // namespace

std::string_view to_string(event_type t) noexcept {
  auto i = static_cast<std::size_t>(t);
  return i < event_type_count ? event_names[i] : "unknown";
}

bool parse_event_type(std::string_view name, event_type& out) noexcept {
  for (std::size_t i = 0; i < event_type_count; ++i)
    if (event_names[i] == name) {
      out = static_cast<event_type>(i);
      return true;
    }
  return false;
}

std::size_t latency_histogram::bucket_of(std::uint64_t us) noexcept {
  if (us < 1) return 0;
  // Four sub-buckets per power of two: the exponent and the two bits below the top bit.
  unsigned exp = 63u - static_cast<unsigned>(std::countl_zero(us));
  std::uint64_t sub = exp >= 2 ? (us >> (exp - 2)) & 3 : (us << (2 - exp)) & 3;
  std::size_t i = 4 * static_cast<std::size_t>(exp) + static_cast<std::size_t>(sub) + 1;
  return i < bucket_count ? i : bucket_count - 1;
}

std::uint64_t latency_histogram::bucket_upper_us(std::size_t i) noexcept {
  if (i == 0) return 1;
  std::size_t k = i - 1;
  unsigned exp = static_cast<unsigned>(k / 4);
  std::uint64_t sub = k % 4;
  // Values of bucket (exp, sub) lie in [2^exp * (1 + sub/4), 2^exp * (1 + (sub+1)/4)).
  double upper = std::ldexp(1.0 + static_cast<double>(sub + 1) / 4.0, static_cast<int>(exp));
  return static_cast<std::uint64_t>(upper);
}

void latency_histogram::record_us(std::uint64_t us) noexcept {
  buckets_[bucket_of(us)].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(us, std::memory_order_relaxed);
  std::uint64_t prev = max_.load(std::memory_order_relaxed);
  while (us > prev && !max_.compare_exchange_weak(prev, us, std::memory_order_relaxed)) {
  }
}

std::uint64_t latency_histogram::quantile_us(double q) const noexcept {
  std::uint64_t total = 0;
  for (auto& b : buckets_) total += b.load(std::memory_order_relaxed);
  if (total == 0) return 0;
  auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total)));
  if (rank == 0) rank = 1;
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < bucket_count; ++i) {
    seen += buckets_[i].load(std::memory_order_relaxed);
    if (seen >= rank) {
      std::uint64_t upper = bucket_upper_us(i);
      std::uint64_t mx = max_us();
      return upper < mx ? upper : mx;
    }
  }
  return max_us();
}

}  // namespace sealcast::actors
