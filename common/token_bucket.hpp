#pragma once

#include <algorithm>
#include <cstdint>

namespace sealcast {

/// A token bucket: it refills at `rate` tokens per second up to `burst` and starts full. Rate and
/// burst are passed on each call (they come from the configuration), so a bucket is 16 bytes.
/// Not thread-safe: each bucket belongs to one connection, actor or lock.
class token_bucket {
 public:
  /// Takes `n` tokens at `now_us` (a steady clock, microseconds) if the bucket holds them;
  /// false, taking nothing, otherwise. A rate of 0 means unlimited.
  bool take(double rate, double burst, std::uint64_t now_us, double n = 1) noexcept {
    if (rate <= 0) return true;
    refill(rate, burst, now_us);
    if (tokens_ < n) return false;
    tokens_ -= n;
    return true;
  }
  /// Whether `n` tokens could be taken now (refills, takes nothing).
  [[nodiscard]] bool can_take(double rate, double burst, std::uint64_t now_us, double n = 1) noexcept {
    if (rate <= 0) return true;
    refill(rate, burst, now_us);
    return tokens_ >= n;
  }
  /// Whether the bucket has refilled to `burst`: it remembers nothing a new bucket would not.
  [[nodiscard]] bool full(double rate, double burst, std::uint64_t now_us) noexcept {
    if (rate <= 0) return true;
    refill(rate, burst, now_us);
    return tokens_ >= burst;
  }

 private:
  void refill(double rate, double burst, std::uint64_t now_us) noexcept {
    if (!started_) {
      started_ = 1;
      tokens_ = burst;
    } else if (now_us > at_us_) {
      tokens_ = std::min(burst, tokens_ + rate * static_cast<double>(now_us - at_us_) / 1e6);
    }
    if (now_us > at_us_) at_us_ = now_us;
  }

  double tokens_ = 0;
  std::uint64_t at_us_ : 63 = 0;
  std::uint64_t started_ : 1 = 0;
};

}  // namespace sealcast
