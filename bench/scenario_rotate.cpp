// rotate: a broker-custody group of M members (owner included) loses and regains one member K
// times. Each add_member or remove_member makes the broker generate a new group key, HPKE-wrap it
// to every member, sign the manifest, commit the epoch, and push a key frame to each member. The
// round trip (request to ok) and the time until the last member holds the new key are timed.

#include <unistd.h>

#include <algorithm>

#include "bench/scenarios.hpp"
#include "bench/system_stats.hpp"

// GCC 12 takes the operator new/delete pair of Asio's coroutine frames (awaitable_frame_base)
// for a mismatch in some inlined coroutines: a false positive, silenced for this file only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace sealcast::bench {

namespace {

namespace asio = boost::asio;
/// Member ids per create_group frame: 35 bytes of JSON each keeps a frame well under the
/// broker's default 1 MiB limit; the rest join with add_member.
constexpr std::size_t ids_per_create = 20000;
constexpr auto between_changes = std::chrono::milliseconds(50);

/// Which epoch's key frames are being counted, how many arrived, and when the last one did.
struct rotation_tracker {
  std::atomic<std::uint64_t> epoch{0};
  std::atomic<std::size_t> count{0};
  std::atomic<std::uint64_t> last_ns{0};
  std::atomic<std::uint64_t> disconnects{0};
  std::atomic<std::size_t> logins{0};
  std::atomic<bool> closing{false};

  void arm(std::uint64_t e) {
    count = 0;
    last_ns = 0;
    epoch = e;
  }
};

class rotate_hooks final : public client_hooks {
 public:
  explicit rotate_hooks(rotation_tracker& t) : t_(t) {}
  void on_key(bench_client&, const protocol::server::key& k, std::uint64_t recv_ns) override {
    latest_epoch.store(std::max(latest_epoch.load(), k.epoch));
    if (k.epoch != t_.epoch.load()) return;
    auto last = t_.last_ns.load();
    while (recv_ns > last && !t_.last_ns.compare_exchange_weak(last, recv_ns)) {
    }
    t_.count.fetch_add(1);
  }
  void on_closed(bench_client&, const std::string&) override {
    if (!t_.closing.load()) t_.disconnects.fetch_add(1);
  }
  std::atomic<std::uint64_t> latest_epoch{0};

 private:
  rotation_tracker& t_;
};

/// Exact min, median and max of a few samples, in ms.
struct spread {
  std::vector<double> ms;
  void add(std::uint64_t ns) { ms.push_back(static_cast<double>(ns) / 1e6); }
  [[nodiscard]] double min() const { return ms.empty() ? 0 : *std::min_element(ms.begin(), ms.end()); }
  [[nodiscard]] double max() const { return ms.empty() ? 0 : *std::max_element(ms.begin(), ms.end()); }
  [[nodiscard]] double median() const {
    if (ms.empty()) return 0;
    auto v = ms;
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  }
};

void add_spread(report& out, const std::string& key, const std::string& label, const spread& s) {
  out.add(key + "_min_ms", s.min(), "ms", label + ", min");
  out.add(key + "_median_ms", s.median(), "ms", label + ", median");
  out.add(key + "_max_ms", s.max(), "ms", label + ", max");
}

}  // namespace

asio::awaitable<status> run_rotate(bench_context& ctx, report& out) {
  const auto& o = ctx.options();
  const std::size_t m = o.members;  // owner + (m - 2) members + 1 that comes and goes
  ctx.plan_connections(m);
  out.param("url", o.url);
  out.param("members", double(m));
  out.param("iterations", double(o.iterations));
  out.param("offline_members", o.offline_members);
  out.param("threads", double(o.threads));

  // What clients and handlers touch lives as long as the io_context (see bench_context::keep).
  struct rotate_run {
    rotation_tracker tr;
    std::vector<std::unique_ptr<rotate_hooks>> hooks;
    std::vector<std::shared_ptr<bench_client>> clients;
    std::atomic<const char*> phase{"login"};
    std::atomic<unsigned> step{0};
  };
  auto run = std::make_shared<rotate_run>();
  ctx.keep(run);
  auto& tr = run->tr;
  auto& hooks = run->hooks;
  auto& clients = run->clients;
  auto& phase = run->phase;
  auto& step = run->step;
  for (std::size_t i = 0; i < m; ++i) {
    hooks.push_back(std::make_unique<rotate_hooks>(tr));
    clients.push_back(ctx.make_client(hooks.back().get()));
  }
  ctx.set_progress([run, m, changes = 2 * o.iterations](double t) {
    return "t=" + std::to_string(int(t)) + "s " + run->phase.load() +
           " logins=" + std::to_string(run->tr.logins.load()) + "/" + std::to_string(m) +
           " change=" + std::to_string(run->step.load()) + "/" + std::to_string(changes) +
           " keys=" + std::to_string(run->tr.count.load());
  });
  auto logins = co_await login_all(ctx, clients, 0, &tr.logins);
  if (logins.failed > 0)
    co_return error{errc::internal, std::to_string(logins.failed) + " logins failed, first: " + logins.first_error};
  out.add("login_seconds", logins.seconds, "s", "time to log all in");

  auto owner = clients.front();
  auto extra = clients.back();
  auto call = [&](protocol::client_frame f) { return on_client(owner, owner->call(std::move(f), o.timeout)); };
  auto all_hold = [&](std::uint64_t e, std::size_t upto) {
    return [&hooks, e, upto] {
      for (std::size_t i = 0; i < upto; ++i)
        if (hooks[i]->latest_epoch.load() < e) return false;
      return true;
    };
  };

  // The group: the owner and clients[1 .. m-2]; create_group names up to ids_per_create of them.
  phase = "create";
  protocol::client::create_group cg;
  cg.name = "bench-rotate";
  cg.custody = protocol::key_custody::broker;
  for (std::size_t i = 1; i + 1 < m && cg.members.size() < ids_per_create; ++i)
    cg.members.push_back(clients[i]->user_id());
  const std::size_t created_with = cg.members.size();
  tr.arm(1);
  const auto t_create = steady_ns();
  auto r = co_await call(std::move(cg));
  const auto t_create_ok = steady_ns();
  auto created = r.ok ? protocol::parse_ok_result<protocol::create_group_result>(*r.ok)
                      : result<protocol::create_group_result>(errc::internal, r.describe());
  if (!created) {
    std::string hint = r.error && r.error->code == errc::group_full ? " (raise the broker's pubsub.max_members)" : "";
    co_return error{errc::internal, "create_group failed: " + created.err().message + hint};
  }
  const id16 group = created->group;
  std::uint64_t epoch = created->epoch;
  if (created_with + 2 == m) {
    if (co_await wait_until(all_hold(epoch, m - 1), o.timeout)) {
      out.add("create_ok_ms", double(t_create_ok - t_create) / 1e6, "ms", "create_group round trip");
      out.add("create_keys_ms", double(tr.last_ns.load() - t_create) / 1e6, "ms",
              "create_group until all hold the key");
    }
  }
  for (std::size_t i = 1 + created_with; i + 1 < m; ++i) {  // only beyond ids_per_create
    auto a =
        co_await call(protocol::client::add_member{{}, group, clients[i]->user_id(), protocol::member_role::member});
    auto e = a.ok ? protocol::parse_ok_result<protocol::epoch_result>(*a.ok)
                  : result<protocol::epoch_result>(errc::internal, a.describe());
    if (!e) co_return error{errc::internal, "add_member while building the group failed: " + e.err().message};
    epoch = e->epoch;
  }
  if (!co_await wait_until(all_hold(epoch, m - 1), o.timeout))
    co_return error{errc::internal, "not every member received the key of epoch " + std::to_string(epoch)};

  // With --offline-members only the owner and the member that comes and goes stay connected.
  std::size_t online = m;
  if (o.offline_members && m > 2) {
    phase = "offline";
    std::vector<std::shared_ptr<bench_client>> leaving(clients.begin() + 1, clients.end() - 1);
    tr.closing = true;
    co_await close_all(leaving, std::chrono::seconds(10));
    co_await sleep_for(std::chrono::milliseconds(500));  // the broker marks them offline
    tr.closing = false;
    online = 2;
  }

  const auto broker_cpu0 = o.broker_pid ? cpu_seconds(o.broker_pid) : std::nullopt;
  const auto bench_cpu0 = cpu_seconds(::getpid());
  spread add_ok, add_keys, remove_ok, remove_keys;
  histogram add_ok_h, add_keys_h, remove_ok_h, remove_keys_h;
  std::size_t incomplete = 0;
  for (unsigned k = 0; k < 2 * o.iterations; ++k) {
    const bool adding = k % 2 == 0;
    phase = adding ? "add" : "remove";
    step = k + 1;
    co_await sleep_for(between_changes);
    const std::size_t expected = adding ? online : online - 1;
    tr.arm(epoch + 1);
    const auto t0 = steady_ns();
    protocol::client_frame f =
        adding ? protocol::client_frame{protocol::client::add_member{
                     {}, group, extra->user_id(), protocol::member_role::member}}
               : protocol::client_frame{protocol::client::remove_member{{}, group, extra->user_id()}};
    auto rep = co_await call(std::move(f));
    const auto t_ok = steady_ns();
    auto e = rep.ok ? protocol::parse_ok_result<protocol::epoch_result>(*rep.ok)
                    : result<protocol::epoch_result>(errc::internal, rep.describe());
    if (!e)
      co_return error{errc::internal,
                      std::string(adding ? "add_member" : "remove_member") + " failed: " + e.err().message};
    if (e->epoch != epoch + 1)
      co_return error{errc::internal,
                      "expected epoch " + std::to_string(epoch + 1) + ", got " + std::to_string(e->epoch)};
    epoch = e->epoch;
    const bool all =
        co_await wait_until([&] { return tr.count.load() >= expected; }, o.timeout, std::chrono::milliseconds(1));
    if (!all) ++incomplete;
    const auto keys_ns = tr.last_ns.load() > t0 ? tr.last_ns.load() - t0 : 0;
    (adding ? add_ok : remove_ok).add(t_ok - t0);
    (adding ? add_ok_h : remove_ok_h).record(t_ok - t0);
    if (all) {
      (adding ? add_keys : remove_keys).add(keys_ns);
      (adding ? add_keys_h : remove_keys_h).record(keys_ns);
    }
  }
  const auto broker_cpu1 = o.broker_pid ? cpu_seconds(o.broker_pid) : std::nullopt;
  const auto bench_cpu1 = cpu_seconds(::getpid());
  phase = "close";
  tr.closing = true;

  out.add("group_size_after_add", double(m), "", "members wrapped to by an add (owner included)");
  out.add("members_online", double(online), "", "members connected during the changes");
  add_spread(out, "add_ok", "add_member round trip", add_ok);
  add_spread(out, "add_keys", "add_member until all hold the key", add_keys);
  add_spread(out, "remove_ok", "remove_member round trip", remove_ok);
  add_spread(out, "remove_keys", "remove_member until all hold the key", remove_keys);
  const double changes = 2.0 * o.iterations;
  if (broker_cpu0 && broker_cpu1)
    out.add("broker_cpu_ms_per_change", 1000 * (*broker_cpu1 - *broker_cpu0) / changes, "ms", "broker CPU per change");
  if (bench_cpu0 && bench_cpu1)
    out.add("bench_cpu_ms_per_change", 1000 * (*bench_cpu1 - *bench_cpu0) / changes, "ms", "bench CPU per change");
  out.add("incomplete", double(incomplete), "", "changes whose key did not reach everyone in time");
  out.add("disconnects", double(tr.disconnects.load()), "", "connections lost");
  std::uint64_t key_errors = 0;
  for (auto& c : clients) key_errors += c->counters().key_errors.load();
  out.add("key_errors", double(key_errors), "", "key frames that did not unwrap or match key_id");
  out.add_latency("add_ok", "add_member -> ok", add_ok_h.summary());
  out.add_latency("add_keys", "add_member -> all keys", add_keys_h.summary());
  out.add_latency("remove_ok", "remove_member -> ok", remove_ok_h.summary());
  out.add_latency("remove_keys", "remove_member -> all keys", remove_keys_h.summary());
  out.note(std::string("target <= 50 ms to rotate (add_member round trip, median): ") +
           (add_ok.median() <= 50 ? "met" : "NOT met"));
  co_await close_all(clients, std::chrono::seconds(10));
  co_return status{};
}

}  // namespace sealcast::bench
