#include "bench/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace sealcast::bench {

std::size_t histogram::index_of(std::uint64_t v) noexcept {
  if (v < 2 * sub_count) return static_cast<std::size_t>(v);
  const unsigned msb = 63 - static_cast<unsigned>(std::countl_zero(v));
  const unsigned shift = msb - sub_bits;  // >= 1 here
  return (shift + 1) * sub_count + static_cast<std::size_t>((v >> shift) - sub_count);
}

std::uint64_t histogram::upper_bound_of(std::size_t i) noexcept {
  if (i < 2 * sub_count) return i;
  const auto shift = static_cast<unsigned>(i / sub_count - 1);
  const std::uint64_t m = i % sub_count + sub_count;
  // The top bucket's bound would overflow: saturate.
  if (shift >= 64 - sub_bits - 1 && m == 2 * sub_count - 1) return UINT64_MAX;
  return ((m + 1) << shift) - 1;
}

void histogram::record(std::uint64_t v) noexcept {
  buckets_[index_of(v)].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
  auto lo = min_.load(std::memory_order_relaxed);
  while (v < lo && !min_.compare_exchange_weak(lo, v, std::memory_order_relaxed)) {
  }
  auto hi = max_.load(std::memory_order_relaxed);
  while (v > hi && !max_.compare_exchange_weak(hi, v, std::memory_order_relaxed)) {
  }
}

void histogram::reset() noexcept {
  for (auto& b : buckets_) b.store(0, std::memory_order_relaxed);
  count_.store(0, std::memory_order_relaxed);
  sum_.store(0, std::memory_order_relaxed);
  min_.store(UINT64_MAX, std::memory_order_relaxed);
  max_.store(0, std::memory_order_relaxed);
}

std::uint64_t histogram::quantile(double q) const noexcept {
  const auto n = count();
  if (n == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(n))));
  std::uint64_t seen = 0;
  const auto hi = max_.load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < bucket_count; ++i) {
    seen += buckets_[i].load(std::memory_order_relaxed);
    if (seen >= rank) return std::min(upper_bound_of(i), hi);
  }
  return hi;
}

latency_summary histogram::summary() const noexcept {
  latency_summary s;
  s.count = count();
  if (s.count == 0) return s;
  s.mean = static_cast<double>(sum_.load(std::memory_order_relaxed)) / static_cast<double>(s.count);
  s.min = min_.load(std::memory_order_relaxed);
  s.max = max_.load(std::memory_order_relaxed);
  s.p50 = quantile(0.50);
  s.p90 = quantile(0.90);
  s.p99 = quantile(0.99);
  s.p999 = quantile(0.999);
  return s;
}

}  // namespace sealcast::bench
