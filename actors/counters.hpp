#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

namespace sealcast::actors {

/// Event types of DESIGN.md; the numbering is internal (never persisted: events store the name).
enum class event_type : std::uint8_t {
  group_created,
  member_joined,
  member_left,
  key_rotated,
  message_published,
  message_delivered,
  message_failed,
  message_cleaned,
  direct_sent,
  direct_delivered,
  rekey_requested,
  user_connected,
  user_disconnected,
  partition_gained,  ///< cluster: this node took a partition's lease (cluster/partitions.hpp)
  partition_lost,    ///< cluster: this node gave up, lost or let a partition's lease lapse
  count_
};

inline constexpr std::size_t event_type_count = static_cast<std::size_t>(event_type::count_);

/// The wire/storage name of an event type ("message_published", ...).
[[nodiscard]] std::string_view to_string(event_type t) noexcept;
/// Parses an event type name.
[[nodiscard]] bool parse_event_type(std::string_view name, event_type& out) noexcept;

/// A log-bucketed latency histogram (microseconds), lock-free to record, for percentiles.
class latency_histogram {
 public:
  /// Bucket i holds values in [2^(i/4) ..) roughly: 4 buckets per power of two up to ~1 hour.
  static constexpr std::size_t bucket_count = 4 * 32;

  void record_us(std::uint64_t us) noexcept;
  /// The value (us) at quantile q (0..1) as the upper bound of its bucket; 0 when empty.
  [[nodiscard]] std::uint64_t quantile_us(double q) const noexcept;
  [[nodiscard]] std::uint64_t max_us() const noexcept { return max_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t sum_us() const noexcept { return sum_.load(std::memory_order_relaxed); }
  /// Upper bound (us) of bucket i.
  [[nodiscard]] static std::uint64_t bucket_upper_us(std::size_t i) noexcept;
  [[nodiscard]] std::uint64_t bucket(std::size_t i) const noexcept {
    return buckets_[i].load(std::memory_order_relaxed);
  }
  [[nodiscard]] static std::size_t bucket_of(std::uint64_t us) noexcept;

 private:
  std::array<std::atomic<std::uint64_t>, bucket_count> buckets_{};
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_{0};
  std::atomic<std::uint64_t> max_{0};
};

/// Process-wide counters behind /admin/stats and /metrics. Plain atomics: every actor and io
/// thread bumps them without messaging anyone.
struct broker_counters {
  std::array<std::atomic<std::uint64_t>, event_type_count> events{};  ///< per event type
  std::atomic<std::uint64_t> keys_generated{0};     ///< group keys generated (broker custody)
  std::atomic<std::uint64_t> keys_distributed{0};   ///< wrapped keys stored for members
  std::atomic<std::uint64_t> key_rotations{0};      ///< rotations by policy (age, count) or the admin API, once stored
  std::atomic<std::uint64_t> connections_current{0};
  std::atomic<std::uint64_t> connections_total{0};
  std::atomic<std::int64_t> pending_messages{0};    ///< stored group messages not yet deleted
  std::atomic<std::int64_t> groups_loaded{0};       ///< group actors in memory (idle ones unload)
  std::atomic<std::uint64_t> bytes_in{0};
  std::atomic<std::uint64_t> bytes_out{0};
  latency_histogram publish_to_deliver;             ///< publish accepted -> delivery written

  [[nodiscard]] std::uint64_t count(event_type t) const noexcept {
    return events[static_cast<std::size_t>(t)].load(std::memory_order_relaxed);
  }
  void bump(event_type t, std::uint64_t n = 1) noexcept {
    events[static_cast<std::size_t>(t)].fetch_add(n, std::memory_order_relaxed);
  }
};

}  // namespace sealcast::actors
