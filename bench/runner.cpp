#include "bench/runner.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/asio_nothrow.hpp"

namespace sealcast::bench {

namespace asio = boost::asio;

namespace {

/// Above this many connections the source addresses are spread automatically.
constexpr std::size_t spread_above = 2000;
constexpr unsigned default_sources = 8;

}  // namespace

// One io_context per thread, each run by its own thread, connections dealt out round-robin: a
// connection's handlers stay on one thread (no hand-over between threads through a shared
// scheduler queue, no lock on it) and --threads N spreads the connections' work over N threads.
struct bench_context::impl {
  explicit impl(unsigned threads) {
    for (unsigned i = 0; i < std::max(1u, threads); ++i) ios.push_back(std::make_unique<asio::io_context>(1));
  }
  /// The context of the next strand, round-robin; the first serves the scenario and the ticker.
  asio::io_context& next() { return *ios[next_io.fetch_add(1, std::memory_order_relaxed) % ios.size()]; }
  void stop_all() {
    for (auto& io : ios) io->stop();
  }
  std::vector<std::unique_ptr<asio::io_context>> ios;
  std::atomic<std::size_t> next_io{0};
  // Declared after ios: released (clients and their sockets first) while the io_contexts still
  // exist, but only once their threads have stopped, so no handler runs against them any more.
  std::vector<std::shared_ptr<void>> kept;
  std::mutex progress_mutex;
  std::function<std::string(double)> progress;
};

bench_context::bench_context(const bench_options& options)
    : options_(options), impl_(std::make_unique<impl>(options.threads)) {}

bench_context::~bench_context() = default;

asio::any_io_executor bench_context::make_strand() { return asio::make_strand(impl_->next()); }

asio::any_io_executor bench_context::next_executor() { return impl_->next().get_executor(); }

void bench_context::plan_connections(std::size_t n) {
  sources_.clear();
  unsigned k = options_.source_addrs;
  if (k == 0 && n > spread_above) k = default_sources;
  boost::system::error_code ec;
  const auto target = asio::ip::make_address(options_.target.host, ec);
  if (k == 0 || ec || !target.is_v4()) return;  // 127.0.0.0/8 exists only for IPv4
  for (unsigned i = 0; i < k; ++i) sources_.push_back(asio::ip::make_address_v4(0x7f000002u + i));
}

std::optional<asio::ip::address> bench_context::source_for(std::size_t i) const {
  if (sources_.empty()) return std::nullopt;
  return sources_[i % sources_.size()];
}

void bench_context::set_progress(std::function<std::string(double)> line) {
  std::lock_guard lock(impl_->progress_mutex);
  impl_->progress = std::move(line);
}

void bench_context::keep(std::shared_ptr<void> state) { impl_->kept.push_back(std::move(state)); }

std::shared_ptr<bench_client> bench_context::make_client(client_hooks* hooks) {
  return std::make_shared<bench_client>(next_executor(), crypto::identity::generate(), hooks);
}

status bench_context::run(const std::function<asio::awaitable<status>(bench_context&, report&)>& scenario,
                          report& out) {
  auto& io = *impl_->ios.front();
  status result{errc::internal, "the scenario did not finish"};
  std::atomic<bool> finished{false};
  const auto started = std::chrono::steady_clock::now();

  // The progress line, once a second; overwritten in place on a terminal.
  asio::steady_timer ticker(asio::make_strand(io));
  const bool tty = ::isatty(STDERR_FILENO) == 1;
  std::function<void()> tick = [&] {
    ticker.expires_after(std::chrono::seconds(1));
    ticker.async_wait([&](const boost::system::error_code& ec) {
      if (ec || finished) return;
      std::lock_guard lock(impl_->progress_mutex);
      if (options_.progress && impl_->progress) {
        const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        const auto line = impl_->progress(t);
        std::fprintf(stderr, tty ? "\r\033[K%s" : "%s\n", line.c_str());
        std::fflush(stderr);
      }
      tick();
    });
  };
  tick();

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    std::fprintf(stderr, "\nsealcast-bench: interrupted\n");
    result = status{errc::internal, "interrupted"};
    impl_->stop_all();
  });

  asio::co_spawn(asio::make_strand(io), scenario(*this, out), [&](std::exception_ptr e, status st) {
    finished = true;
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        st = status{errc::internal, std::string("the scenario threw: ") + ex.what()};
      } catch (...) {
        st = status{errc::internal, "the scenario threw"};
      }
    }
    result = std::move(st);
    asio::post(ticker.get_executor(), [&] { ticker.cancel(); });
    signals.cancel();
    impl_->stop_all();
  });

  // Until the scenario ends, a context whose connections are all idle (or not made yet) must
  // not return from run().
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> busy;
  for (auto& c : impl_->ios) busy.push_back(asio::make_work_guard(*c));
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < impl_->ios.size(); ++i) threads.emplace_back([this, i] { impl_->ios[i]->run(); });
  io.run();
  impl_->stop_all();
  for (auto& t : threads) t.join();
  if (tty && options_.progress) std::fprintf(stderr, "\n");
  return result;
}

asio::awaitable<login_stats> join_all(bench_context& ctx, std::size_t n,
                                      const std::function<asio::awaitable<std::string>(std::size_t)>& join,
                                      std::atomic<std::size_t>* counter) {
  const auto ex = co_await asio::this_coro::executor;
  login_stats stats;
  histogram h;
  std::size_t next = 0;
  std::size_t running = 0;
  const auto t0 = steady_ns();
  asio::steady_timer all_done(ex);

  // Workers share `next` and `stats`: they run on this coroutine's strand.
  auto worker = [&]() -> asio::awaitable<void> {
    while (next < n) {
      const auto i = next++;
      const auto start = steady_ns();
      auto err = co_await join(i);
      if (err.empty()) {
        ++stats.ok;
        h.record(steady_ns() - start);
      } else {
        if (stats.failed++ == 0) stats.first_error = err;
      }
      if (counter) counter->fetch_add(1, std::memory_order_relaxed);
    }
    if (--running == 0) all_done.cancel();
  };
  const auto workers = std::min<std::size_t>(std::max(1u, ctx.options().connect_concurrency), n);
  running = workers;
  for (std::size_t w = 0; w < workers; ++w) asio::co_spawn(ex, worker(), asio::detached);
  if (workers > 0) {
    all_done.expires_at(asio::steady_timer::time_point::max());
    while (running > 0) co_await all_done.async_wait(use_nothrow);
  }
  stats.seconds = static_cast<double>(steady_ns() - t0) / 1e9;
  stats.login = h.summary();
  co_return stats;
}

asio::awaitable<login_stats> login_all(bench_context& ctx, const std::vector<std::shared_ptr<bench_client>>& clients,
                                       std::size_t first_index, std::atomic<std::size_t>* counter) {
  const auto& o = ctx.options();
  // A named function object: GCC 12 mishandles temporaries that live across a co_await.
  const std::function<asio::awaitable<std::string>(std::size_t)> login = [&](std::size_t i) {
    const auto& c = clients[i];
    return on_client(c, c->login(o.target, ctx.source_for(first_index + i), o.timeout));
  };
  co_return co_await join_all(ctx, clients.size(), login, counter);
}

asio::awaitable<void> close_all(const std::vector<std::shared_ptr<bench_client>>& clients,
                                std::chrono::milliseconds timeout) {
  for (auto& c : clients) asio::post(c->executor(), [c] { c->close(); });
  co_await wait_until(
      [&] {
        for (auto& c : clients)
          if (c->is_open()) return false;
        return true;
      },
      timeout, std::chrono::milliseconds(20));
}

asio::awaitable<void> sleep_for(std::chrono::steady_clock::duration d) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  t.expires_after(d);
  co_await t.async_wait(use_nothrow);
}

asio::awaitable<void> sleep_until_ns(std::uint64_t ns) {
  const auto now = steady_ns();
  if (ns > now) co_await sleep_for(std::chrono::nanoseconds(ns - now));
}

asio::awaitable<bool> wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout,
                                 std::chrono::milliseconds poll) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) co_return false;
    co_await sleep_for(poll);
  }
  co_return true;
}

}  // namespace sealcast::bench
