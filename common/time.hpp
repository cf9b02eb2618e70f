#pragma once

#include <chrono>
#include <cstdint>

namespace sealcast {

/// Milliseconds since the Unix epoch (the wire's `ts`).
[[nodiscard]] inline std::uint64_t now_ms() noexcept {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

/// Microseconds on the steady clock, for latency measurements.
[[nodiscard]] inline std::uint64_t steady_us() noexcept {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

}  // namespace sealcast
