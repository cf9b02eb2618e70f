#pragma once

// The broker's numbers at one instant, as the /admin/stats JSON and as Prometheus text
// exposition 0.0.4 for /metrics. One table names every value once for both.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "actors/services.hpp"

namespace sealcast::broker::admin {

/// One counter or gauge: where it sits in /admin/stats and what /metrics calls it.
struct stat_value {
  std::string_view section;  ///< JSON object in /admin/stats ("" for a top-level field)
  std::string_view key;      ///< JSON field name
  std::string_view metric;   ///< Prometheus name (counters end in _total)
  std::string_view help;
  bool counter = true;       ///< false: a gauge
  std::uint64_t value = 0;
};

/// The stats at one instant. `bytes_on_disk` walks the data directory: call it off io threads.
struct stats_snapshot {
  std::vector<stat_value> values;
  std::uint64_t p50_us = 0, p90_us = 0, p99_us = 0, max_us = 0;
};

/// Reads every counter and gauge now.
[[nodiscard]] stats_snapshot take_stats(const actors::services& svc, std::uint64_t uptime_s,
                                        std::uint64_t event_streams);
/// The /admin/stats body.
[[nodiscard]] std::string stats_json(const stats_snapshot& s);
/// The /metrics body: every value of `s`, events by type, and the publish-to-deliver histogram.
[[nodiscard]] std::string metrics_text(const stats_snapshot& s, const actors::services& svc);

/// The Content-Type of metrics_text.
inline constexpr std::string_view metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace sealcast::broker::admin
