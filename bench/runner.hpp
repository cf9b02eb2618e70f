#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>

#include "bench/bench_client.hpp"
#include "bench/histogram.hpp"
#include "bench/options.hpp"
#include "bench/report.hpp"
#include "common/error.hpp"

// What every scenario shares: N threads each running its own io_context, a strand per client
// (on the contexts in turn), the loopback source addresses connections are spread over, the live
// progress line, and helpers that log many clients in, wait for conditions and close everything. A scenario is a
// coroutine on its own strand; it reaches clients only through on_client() and atomics.

namespace sealcast::bench {

/// The io_contexts, their threads and the run's shared services.
class bench_context {
 public:
  explicit bench_context(const bench_options& options);
  ~bench_context();
  bench_context(const bench_context&) = delete;
  bench_context& operator=(const bench_context&) = delete;

  /// The run's options.
  [[nodiscard]] const bench_options& options() const noexcept { return options_; }
  /// A new strand for one client, on the next thread's io_context (round-robin).
  [[nodiscard]] boost::asio::any_io_executor make_strand();
  /// The next thread's io_context itself (round-robin), no strand: each io_context is run by
  /// exactly one thread, so what is posted to it is already serialized.
  [[nodiscard]] boost::asio::any_io_executor next_executor();

  /// Tells the context how many connections the scenario will open, to decide whether to
  /// spread them over several source addresses (--source-addrs, or 8 above 2000 connections).
  void plan_connections(std::size_t n);
  /// The source address of the i-th connection; nullopt lets the kernel choose.
  [[nodiscard]] std::optional<boost::asio::ip::address> source_for(std::size_t i) const;
  /// How many source addresses are in use (0: the kernel's choice).
  [[nodiscard]] std::size_t source_count() const noexcept { return sources_.size(); }

  /// What the progress line prints every second, given the seconds since the run started.
  /// Called from the ticker's strand: read shared state through atomics only.
  void set_progress(std::function<std::string(double elapsed_s)> line);

  /// A new identity and client on the next thread's io_context (next_executor(): no strand).
  [[nodiscard]] std::shared_ptr<bench_client> make_client(client_hooks* hooks);

  /// Keeps `state` alive until the io_contexts' threads have stopped: scenario state that
  /// handlers on other threads (a late reply, a progress tick) may touch after the scenario ends.
  void keep(std::shared_ptr<void> state);

  /// Runs the scenario coroutine to completion on the io_contexts' threads and returns its
  /// status. The scenario fills `out`.
  [[nodiscard]] status run(const std::function<boost::asio::awaitable<status>(bench_context&, report&)>& scenario,
                           report& out);

 private:
  struct impl;
  bench_options options_;
  std::vector<boost::asio::ip::address> sources_;
  std::unique_ptr<impl> impl_;
};

/// How a batch of logins went.
struct login_stats {
  std::size_t ok = 0;
  std::size_t failed = 0;
  std::string first_error;
  double seconds = 0;     ///< wall time of the whole batch
  latency_summary login;  ///< per login, connect to welcome, in ns
};

/// Runs join(0) .. join(n - 1), at most options().connect_concurrency at once, each timed; join
/// returns "" or what failed (it should run on the connection's own strand, e.g. through co_spawn
/// with use_awaitable). `counter` (optional) counts finished joins for a progress line.
boost::asio::awaitable<login_stats> join_all(
    bench_context& ctx, std::size_t n, const std::function<boost::asio::awaitable<std::string>(std::size_t)>& join,
    std::atomic<std::size_t>* counter = nullptr);

/// Logs every client in, at most options().connect_concurrency at once; client i connects from
/// source_for(first_index + i). `counter` (optional) counts finished logins for a progress line.
boost::asio::awaitable<login_stats> login_all(bench_context& ctx,
                                              const std::vector<std::shared_ptr<bench_client>>& clients,
                                              std::size_t first_index = 0, std::atomic<std::size_t>* counter = nullptr);

/// Closes every client and waits (at most `timeout`) until the broker has answered the closes.
boost::asio::awaitable<void> close_all(const std::vector<std::shared_ptr<bench_client>>& clients,
                                       std::chrono::milliseconds timeout);

/// Suspends the calling coroutine.
boost::asio::awaitable<void> sleep_for(std::chrono::steady_clock::duration d);
/// Suspends until the steady clock reads `ns` (steady_ns()).
boost::asio::awaitable<void> sleep_until_ns(std::uint64_t ns);

/// Polls `done` every `poll` until it holds or `timeout` passes; returns whether it held.
boost::asio::awaitable<bool> wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout,
                                        std::chrono::milliseconds poll = std::chrono::milliseconds(2));

}  // namespace sealcast::bench
