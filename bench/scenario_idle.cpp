// idle: N authenticated connections that send nothing after the welcome. The broker's resident
// memory is read before the first connection and after all are welcomed and idle for a while;
// the difference divided by N is what one idle authenticated connection costs the broker.

#include <unistd.h>

#include "bench/scenarios.hpp"
#include "bench/system_stats.hpp"

namespace sealcast::bench {

namespace {

namespace asio = boost::asio;
/// What the broker-core issue asks of one idle authenticated connection.
constexpr double target_bytes_per_connection = 8 * 1024;
constexpr std::size_t spare_descriptors = 64;

/// Counts connections that end while they should be idle.
class idle_hooks final : public client_hooks {
 public:
  void on_closed(bench_client&, const std::string&) override {
    if (!closing.load()) closed.fetch_add(1, std::memory_order_relaxed);
  }
  std::atomic<std::uint64_t> closed{0};
  std::atomic<bool> closing{false};
};

double mib(std::uint64_t b) { return static_cast<double>(b) / (1024.0 * 1024.0); }

}  // namespace

asio::awaitable<status> run_idle(bench_context& ctx, report& out) {
  const auto& o = ctx.options();
  const std::size_t n = o.connections;
  const auto fd_limit = raise_fd_limit();
  ctx.plan_connections(n);
  out.param("url", o.url);
  out.param("connections", double(n));
  out.param("settle_s", o.settle_s);
  out.param("broker_pid", double(o.broker_pid));
  out.param("source_addrs", double(ctx.source_count()));
  out.param("fd_limit", double(fd_limit));
  out.param("threads", double(o.threads));
  if (fd_limit < n + spare_descriptors)
    co_return error{errc::bad_request, "RLIMIT_NOFILE is " + std::to_string(fd_limit) + ", too low for " +
                                           std::to_string(n) + " connections (raise the hard limit)"};
  if (o.broker_pid == 0) out.note("no --broker-pid: the broker's memory is not measured");

  // What clients and handlers touch lives as long as the io_context (see bench_context::keep).
  struct idle_run {
    idle_hooks hooks;
    std::atomic<std::size_t> logins{0};
    std::atomic<const char*> phase{"keys"};
    std::vector<std::shared_ptr<bench_client>> clients;
  };
  auto run = std::make_shared<idle_run>();
  ctx.keep(run);
  auto& hooks = run->hooks;
  auto& phase = run->phase;
  auto& clients = run->clients;
  ctx.set_progress([run, n, pid = o.broker_pid](double t) {
    std::string line = "t=" + std::to_string(int(t)) + "s " + run->phase.load() +
                       " logins=" + std::to_string(run->logins.load()) + "/" + std::to_string(n) +
                       " closed=" + std::to_string(run->hooks.closed.load());
    if (pid)
      if (auto rss = rss_bytes(pid)) line += " broker_rss=" + std::to_string(int(mib(*rss))) + "MiB";
    return line;
  });

  // Identities first, so that the baseline is taken right before the first connection.
  clients.reserve(n);
  for (std::size_t i = 0; i < n; ++i) clients.push_back(ctx.make_client(&hooks));
  const auto broker_before = o.broker_pid ? rss_bytes(o.broker_pid) : std::nullopt;
  const auto bench_before = rss_bytes(::getpid());
  if (o.broker_pid && !broker_before)
    co_return error{errc::bad_request, "cannot read /proc/" + std::to_string(o.broker_pid) + "/status"};

  phase = "login";
  auto logins_done = co_await login_all(ctx, clients, 0, &run->logins);
  phase = "settle";
  co_await sleep_for(std::chrono::milliseconds(static_cast<long>(o.settle_s * 1000)));
  std::size_t open = 0;
  for (auto& c : clients) open += c->is_open() ? 1 : 0;
  const auto broker_after = o.broker_pid ? rss_bytes(o.broker_pid) : std::nullopt;
  const auto bench_after = rss_bytes(::getpid());

  out.add("connections", double(logins_done.ok), "", "connections authenticated");
  out.add("failed", double(logins_done.failed), "", "logins failed");
  out.add("open_after_settle", double(open), "", "still open after the settle time");
  out.add("logins_per_s", logins_done.seconds > 0 ? double(logins_done.ok) / logins_done.seconds : 0, "1/s",
          "logins per second (connect + upgrade + hello)");
  if (broker_before && broker_after) {
    const double delta = static_cast<double>(*broker_after) - static_cast<double>(*broker_before);
    const double per = open > 0 ? delta / double(open) : 0;
    out.add("broker_rss_before_mib", mib(*broker_before), "MiB", "broker RSS before");
    out.add("broker_rss_after_mib", mib(*broker_after), "MiB", "broker RSS with the connections idle");
    out.add("broker_bytes_per_connection", per, "B", "broker RSS per idle authenticated connection");
    out.note(std::string("target <= 8192 B per idle authenticated connection: ") +
             (per <= target_bytes_per_connection ? "met" : "NOT met"));
  }
  if (bench_before && bench_after && open > 0)
    out.add("bench_bytes_per_connection",
            (static_cast<double>(*bench_after) - static_cast<double>(*bench_before)) / double(open), "B",
            "bench RSS per connection (client side)");
  out.add_latency("login", "connect -> welcome", logins_done.login);
  if (logins_done.failed > 0) out.note("first login error: " + logins_done.first_error);

  phase = "close";
  hooks.closing = true;
  co_await close_all(clients, std::chrono::seconds(15));
  co_return status{};
}

}  // namespace sealcast::bench
