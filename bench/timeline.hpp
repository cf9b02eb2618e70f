#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bench/histogram.hpp"
#include "common/error.hpp"

// Per-second figures of the measured window, for the plot: one latency histogram and one
// delivery counter per second. Recording is lock-free (a histogram record and an atomic
// increment); events outside the window are ignored.

namespace sealcast::bench {

/// One second of the window.
struct timeline_point {
  double t_s = 0;              ///< start of the second, relative to the window's start
  std::uint64_t samples = 0;   ///< latencies recorded (by intended send time)
  double p50_ms = 0, p99_ms = 0, p999_ms = 0, max_ms = 0;
  double delivered_per_s = 0;  ///< deliveries received in that second
};

/// Per-second latency histograms and delivery counts over [start_ns, start_ns + seconds).
class timeline {
 public:
  timeline(std::uint64_t start_ns, std::size_t seconds);

  /// A latency, filed under the second of `at_ns` (the intended send time).
  void record_latency(std::uint64_t at_ns, std::uint64_t latency_ns) noexcept;
  /// One delivery received at `at_ns`.
  void count_delivery(std::uint64_t at_ns) noexcept;
  /// Every second, in order (read when the recorders are done).
  [[nodiscard]] std::vector<timeline_point> points() const;

 private:
  [[nodiscard]] std::size_t slot(std::uint64_t at_ns) const noexcept;

  std::uint64_t start_ns_;
  std::vector<std::unique_ptr<histogram>> latency_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> delivered_;
};

/// The SVG document (no dependencies): p50, p99 and max latency in ms on a logarithmic left
/// axis and delivered/s on a linear right axis, against seconds of the measured window. Each
/// series is a <polyline> with id "p50", "p99", "max" or "delivered".
[[nodiscard]] std::string svg_plot(const std::string& title, const std::string& subtitle,
                                   const std::vector<timeline_point>& points);

/// Writes svg_plot() to `path`.
[[nodiscard]] status write_svg_plot(const std::string& path, const std::string& title, const std::string& subtitle,
                                    const std::vector<timeline_point>& points);

}  // namespace sealcast::bench
