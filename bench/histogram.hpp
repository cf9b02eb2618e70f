#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

// A log-bucketed latency histogram in the manner of HdrHistogram: values below 64 are exact,
// above that every power of two is split into 32 buckets, so any recorded value is known to
// within about 3 %. Recording is one relaxed atomic increment, safe from any thread; a reader
// takes a snapshot() when the recorders are done (or accepts a slightly torn view while they run).

namespace sealcast::bench {

/// The figures one histogram reports, in the unit the values were recorded in (nanoseconds here).
struct latency_summary {
  std::uint64_t count = 0;
  double mean = 0;
  std::uint64_t min = 0;
  std::uint64_t p50 = 0;
  std::uint64_t p90 = 0;
  std::uint64_t p99 = 0;
  std::uint64_t p999 = 0;
  std::uint64_t max = 0;
};

/// Lock-free log-bucketed histogram of 64-bit values.
class histogram {
 public:
  /// Sub-buckets per power of two (2^5): the relative precision is 1/32.
  static constexpr unsigned sub_bits = 5;
  static constexpr std::size_t sub_count = std::size_t{1} << sub_bits;
  static constexpr std::size_t bucket_count = (64 - sub_bits + 1) * sub_count;

  histogram() = default;
  histogram(const histogram&) = delete;
  histogram& operator=(const histogram&) = delete;

  /// Adds one value; safe from any thread.
  void record(std::uint64_t v) noexcept;
  /// Forgets everything recorded (not while recorders run).
  void reset() noexcept;

  /// Number of values recorded.
  [[nodiscard]] std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }
  /// The value at quantile q in [0, 1]: the highest value its bucket can hold (never below the
  /// true value), clamped to the exact maximum; 0 when empty.
  [[nodiscard]] std::uint64_t quantile(double q) const noexcept;
  /// count, mean, min, p50, p90, p99, p99.9 and max in one pass.
  [[nodiscard]] latency_summary summary() const noexcept;

  /// The bucket a value falls in (exposed for tests).
  [[nodiscard]] static std::size_t index_of(std::uint64_t v) noexcept;
  /// The highest value bucket `i` holds.
  [[nodiscard]] static std::uint64_t upper_bound_of(std::size_t i) noexcept;

 private:
  std::array<std::atomic<std::uint64_t>, bucket_count> buckets_{};
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_{0};
  std::atomic<std::uint64_t> min_{UINT64_MAX};
  std::atomic<std::uint64_t> max_{0};
};

}  // namespace sealcast::bench
