#pragma once

#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "bench/histogram.hpp"
#include "bench/timeline.hpp"
#include "common/error.hpp"

// The result of one run: its parameters, scalar figures and latency distributions, printed as a
// table for people and written as JSON for plots and comparisons.

namespace sealcast::bench {

/// A parameter's value.
using param_value = std::variant<std::string, double, bool>;

/// One scalar result, e.g. {"delivered_per_s", 95000, "msg/s", "delivered per second"}.
struct figure {
  std::string key;
  double value = 0;
  std::string unit;
  std::string label;
};

/// One latency distribution, in milliseconds.
struct latency_row {
  std::string key;  ///< JSON name, e.g. "publish_to_deliver"
  std::string label;
  latency_summary ns;  ///< as recorded, in nanoseconds
  double mean_ms = 0;
  double min_ms = 0, p50_ms = 0, p90_ms = 0, p99_ms = 0, p999_ms = 0, max_ms = 0;
};

/// A relation the run must satisfy when nothing failed, e.g. delivered = published x recipients.
struct invariant {
  std::string key;
  std::string label;
  double expected = 0;
  double actual = 0;
  [[nodiscard]] bool holds() const noexcept { return expected == actual; }
};

/// Parameters, figures, latencies and notes of a run.
class report {
 public:
  /// A report for `scenario`.
  explicit report(std::string scenario) : scenario_(std::move(scenario)) {}

  /// Records a parameter (in order of insertion).
  void param(std::string key, param_value v) { params_.emplace_back(std::move(key), std::move(v)); }
  /// Records a scalar figure.
  void add(std::string key, double value, std::string unit, std::string label) {
    figures_.push_back({std::move(key), value, std::move(unit), std::move(label)});
  }
  /// Records a latency distribution recorded in nanoseconds.
  void add_latency(std::string key, std::string label, const latency_summary& ns);
  /// What was loaded: "sealcast" or "nats" (JSON "target"; default "sealcast").
  void set_target(std::string t) { target_ = std::move(t); }
  /// Records an invariant; a mismatch is flagged in the table and in JSON ("invariants").
  void check(std::string key, std::string label, double expected, double actual) {
    invariants_.push_back({std::move(key), std::move(label), expected, actual});
  }
  /// True when every invariant holds (and when there are none).
  [[nodiscard]] bool invariants_hold() const noexcept;
  /// The per-second series of the window (JSON "timeline").
  void set_timeline(std::vector<timeline_point> points) { timeline_ = std::move(points); }
  /// Records a remark printed under the table (a warning, a limit that was hit).
  void note(std::string text) { notes_.push_back(std::move(text)); }

  /// The human-readable table.
  [[nodiscard]] std::string table() const;
  /// Everything as one JSON object.
  [[nodiscard]] std::string json() const;
  /// Writes json() to a file.
  [[nodiscard]] status write_json(const std::string& path) const;

  [[nodiscard]] const std::vector<figure>& figures() const { return figures_; }
  [[nodiscard]] const std::vector<latency_row>& latencies() const { return latencies_; }
  [[nodiscard]] const std::vector<invariant>& invariants() const { return invariants_; }
  [[nodiscard]] const std::vector<timeline_point>& timeline_points() const { return timeline_; }
  [[nodiscard]] const std::string& scenario() const { return scenario_; }
  [[nodiscard]] const std::string& target() const { return target_; }

 private:
  std::string scenario_;
  std::string target_ = "sealcast";
  std::vector<invariant> invariants_;
  std::vector<timeline_point> timeline_;
  std::vector<std::pair<std::string, param_value>> params_;
  std::vector<figure> figures_;
  std::vector<latency_row> latencies_;
  std::vector<std::string> notes_;
};

}  // namespace sealcast::bench
