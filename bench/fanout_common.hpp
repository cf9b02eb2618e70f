#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "bench/histogram.hpp"
#include "bench/options.hpp"
#include "bench/report.hpp"
#include "bench/runner.hpp"
#include "bench/system_stats.hpp"
#include "bench/timeline.hpp"

// What the fanout scenario shares between its two targets (sealcastd, nats-server): the
// counters every client updates, the progress line, and the report with its invariants and plot.

namespace sealcast::bench {

/// What every client of a fanout run updates; atomics only, since clients run on several strands.
struct fanout_stats {
  histogram ack_ns;      ///< publish -> ok (NATS: -> PONG), from the intended send time
  histogram deliver_ns;  ///< publish -> delivery to one member, from the intended send time
  std::unique_ptr<timeline> per_second;  ///< set before publishing starts
  std::atomic<std::uint64_t> sent{0}, acked{0}, delivered{0};
  std::atomic<std::uint64_t> sent_window{0}, acked_window{0}, delivered_window{0};  ///< events inside the window
  std::atomic<std::uint64_t> publish_errors{0}, verify_failures{0}, missing_key{0}, gaps{0}, duplicates{0};
  std::atomic<std::uint64_t> disconnects{0}, reconnects{0}, keys{0}, server_errors{0};
  std::atomic<std::size_t> logins{0}, loops_done{0};
  std::atomic<std::uint64_t> window_start{UINT64_MAX}, window_end{0};
  std::atomic<bool> stop_acks{false};
  std::atomic<bool> closing{false};  ///< from here on a connection that ends is not a loss
  std::atomic<const char*> phase{"login"};
  std::uint64_t last_acked = 0, last_delivered = 0;  ///< the progress line's (its strand only)
  std::mutex error_mutex;
  std::string first_error;

  [[nodiscard]] bool in_window(std::uint64_t t) const noexcept {
    return t >= window_start.load(std::memory_order_relaxed) && t < window_end.load(std::memory_order_relaxed);
  }
  /// A failed publish (or an unanswered one); the first text is kept for the report.
  void error(std::string text) {
    publish_errors.fetch_add(1, std::memory_order_relaxed);
    note_error(std::move(text));
  }
  /// Keeps the first error text without counting.
  void note_error(std::string text) {
    std::lock_guard lock(error_mutex);
    if (first_error.empty()) first_error = std::move(text);
  }
  /// A delivery received at recv_ns whose intended send time was sent_ns (nullopt: unreadable).
  void delivery(std::uint64_t recv_ns, std::optional<std::uint64_t> sent_ns) noexcept {
    delivered.fetch_add(1, std::memory_order_relaxed);
    if (in_window(recv_ns)) delivered_window.fetch_add(1, std::memory_order_relaxed);
    if (per_second) per_second->count_delivery(recv_ns);
    if (sent_ns && in_window(*sent_ns) && recv_ns >= *sent_ns) {
      deliver_ns.record(recv_ns - *sent_ns);
      if (per_second) per_second->record_latency(*sent_ns, recv_ns - *sent_ns);
    }
  }
  /// A publish acknowledged at now_ns.
  void ack(std::uint64_t now_ns, std::uint64_t intended) noexcept {
    acked.fetch_add(1, std::memory_order_relaxed);
    if (in_window(now_ns)) acked_window.fetch_add(1, std::memory_order_relaxed);
    if (in_window(intended)) ack_ns.record(now_ns - intended);
  }
  /// Starts the window: [start, start + duration), with one timeline slot per second.
  void open_window(std::uint64_t start, double duration_s);
};

/// The fanout parameters every target reports.
void fanout_parameters(report& out, const bench_options& o);

/// A fanout run's shape: per group the owner (a publisher only) and M members, or with
/// --all-publish M members who all publish to the M-1 others.
struct fanout_shape {
  std::size_t per_group = 0;  ///< connections per group
  unsigned recipients = 0;    ///< members each publish reaches
  std::size_t total = 0;      ///< connections in all
};

/// The run's shape; plans its connections on ctx and reports the parameters.
[[nodiscard]] fanout_shape start_fanout(bench_context& ctx, report& out);

/// The progress line of a fanout run over `total` connections.
[[nodiscard]] std::function<std::string(double)> fanout_progress(std::shared_ptr<fanout_stats> st, std::size_t total);

/// What the operating system says about the broker and the bench at one edge of the window.
struct cpu_sample {
  std::uint64_t at_ns = 0;                  ///< when it was read (steady_ns)
  std::optional<double> broker_cpu_s;       ///< the broker's CPU seconds (--broker-pid)
  std::optional<double> broker_wait_s;      ///< its threads' time waiting for a CPU, summed
  std::optional<double> bench_cpu_s;        ///< the bench's CPU seconds
  std::vector<thread_sched> bench_threads;  ///< per bench thread (empty without schedstat)
};

/// Reads a cpu_sample now (broker_pid 0: no broker figures).
[[nodiscard]] cpu_sample sample_cpu(int broker_pid);

/// The samples at the window's edges.
struct window_cpu {
  std::optional<cpu_sample> start, end;
};

/// Opens st's window: publishers start 100 ms from now (all on the same tick), the window
/// [start + warm-up, + duration) follows. Returns the start.
[[nodiscard]] std::uint64_t open_run_window(fanout_stats& st, const bench_options& o);

/// What measure_and_drain() saw.
struct window_result {
  window_cpu cpu;
  bool drained = false;  ///< every publish answered and every delivery in before --drain ran out
};

/// Waits through the warm-up and the window (reading the broker's and the bench's CPU time at
/// its edges), then until all `publishers` loops have ended and every ack and delivery (acked x
/// `recipients`) has arrived, at most --drain.
boost::asio::awaitable<window_result> measure_and_drain(fanout_stats& st, const bench_options& o,
                                                        std::size_t publishers, unsigned recipients);

/// Everything a fanout run measured: figures, latencies, invariants, notes, timeline, and the
/// SVG plot when --plot was given. `recipients` is the number of members each publish reaches.
void fanout_report(report& out, fanout_stats& st, const bench_options& o, unsigned recipients,
                   std::uint64_t client_errors, const window_cpu& cpu, bool drained, const login_stats& logins);

}  // namespace sealcast::bench
