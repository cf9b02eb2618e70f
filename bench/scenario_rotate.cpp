// rotate: a group of M members (owner included) loses and regains one member K times; each change
// is a new epoch whose key frames reach every member. In broker custody (the default) the broker
// generates the key, HPKE-wraps it to every member, signs the manifest and pushes the key frames;
// with --custody client the owner proposes each change with a signed proposal, and its client
// answers the broker's rekey_request (bench/committer.*): applies the changes, wraps a fresh key to
// the new set and signs the manifest. Timed per change: the round trip of the request and the time
// until the last member holds the new key; counted: the bytes of the key frames members receive
// for the epoch (v2 frames carry the change, not the member list: constant per member).

#include <unistd.h>

#include <algorithm>

#include "bench/committer.hpp"
#include "bench/scenarios.hpp"
#include "bench/system_stats.hpp"
#include "common/detail/coroutine_frame_warning.hpp"

namespace sealcast::bench {

namespace {

namespace asio = boost::asio;
/// Member ids per create_group frame (broker custody): 35 bytes of JSON each keeps a frame well
/// under the broker's default 1 MiB limit; the rest join with add_member.
constexpr std::size_t ids_per_create = 20000;
/// Client custody: adds proposed per commit while the group is built. Each queued proposal makes
/// the broker send a rekey_request with every pending change, so a batch of n costs O(n^2) bytes.
constexpr std::size_t adds_per_commit = 64;
constexpr auto between_changes = std::chrono::milliseconds(50);

/// Which epoch's key frames are being counted, how many arrived, their bytes, and when the last one did.
struct rotation_tracker {
  std::atomic<std::uint64_t> epoch{0};
  std::atomic<std::size_t> count{0};
  std::atomic<std::uint64_t> bytes{0};
  std::atomic<std::uint64_t> last_ns{0};
  std::atomic<std::uint64_t> disconnects{0};
  std::atomic<std::size_t> logins{0};
  std::atomic<bool> closing{false};

  void arm(std::uint64_t e) {
    count = 0;
    bytes = 0;
    last_ns = 0;
    epoch = e;
  }
};

class rotate_hooks final : public client_hooks {
 public:
  explicit rotate_hooks(rotation_tracker& t) : t_(t) {}
  /// The owner's hooks in client custody hand rekey requests to its committer.
  void set_committer(committer* cm) { cm_ = cm; }
  void on_key(bench_client&, const protocol::server::key& k, std::uint64_t recv_ns, std::size_t frame_bytes) override {
    latest_epoch.store(std::max(latest_epoch.load(), k.epoch));
    if (k.epoch != t_.epoch.load()) return;
    auto last = t_.last_ns.load();
    while (recv_ns > last && !t_.last_ns.compare_exchange_weak(last, recv_ns)) {
    }
    t_.bytes.fetch_add(frame_bytes);
    t_.count.fetch_add(1);
  }
  void on_rekey_request(bench_client&, const protocol::server::rekey_request& rq) override {
    if (cm_) cm_->on_rekey_request(rq);
  }
  void on_closed(bench_client&, const std::string&) override {
    if (!t_.closing.load()) t_.disconnects.fetch_add(1);
  }
  std::atomic<std::uint64_t> latest_epoch{0};

 private:
  rotation_tracker& t_;
  committer* cm_ = nullptr;  ///< the owner's, in client custody
};

/// Exact min, median and max of a few samples.
struct spread {
  std::vector<double> v;
  void add(double x) { v.push_back(x); }
  void add_ns(std::uint64_t ns) { v.push_back(static_cast<double>(ns) / 1e6); }
  [[nodiscard]] double min() const { return v.empty() ? 0 : *std::min_element(v.begin(), v.end()); }
  [[nodiscard]] double max() const { return v.empty() ? 0 : *std::max_element(v.begin(), v.end()); }
  [[nodiscard]] double mean() const {
    double s = 0;
    for (double x : v) s += x;
    return v.empty() ? 0 : s / static_cast<double>(v.size());
  }
  [[nodiscard]] double median() const {
    if (v.empty()) return 0;
    auto w = v;
    std::sort(w.begin(), w.end());
    return w.size() % 2 ? w[w.size() / 2] : (w[w.size() / 2 - 1] + w[w.size() / 2]) / 2;
  }
};

void add_spread(report& out, const std::string& key, const std::string& label, const spread& s) {
  out.add(key + "_min_ms", s.min(), "ms", label + ", min");
  out.add(key + "_median_ms", s.median(), "ms", label + ", median");
  out.add(key + "_max_ms", s.max(), "ms", label + ", max");
}

/// committer::set_group on the owner's strand.
asio::awaitable<void> adopt_group(committer* cm, id16 group) {
  cm->set_group(group);
  co_return;
}

/// committer::expect_changes on the owner's strand.
asio::awaitable<void> expect_changes(committer* cm, std::size_t n) {
  cm->expect_changes(n);
  co_return;
}

/// The reply's epoch, or the failure as an error.
result<std::uint64_t> epoch_of(const reply& r, const std::string& what) {
  if (!r.ok) return error{errc::internal, what + " failed: " + r.describe()};
  auto e = protocol::parse_ok_result<protocol::epoch_result>(*r.ok);
  if (!e) return error{errc::internal, what + ": " + e.err().message};
  return e->epoch;
}

}  // namespace

asio::awaitable<status> run_rotate(bench_context& ctx, report& out) {
  const auto& o = ctx.options();
  const std::size_t m = o.members;  // owner + (m - 2) members + 1 that comes and goes
  const bool client_custody = o.custody == key_custody::client;
  ctx.plan_connections(m);
  out.param("url", o.url);
  out.param("members", double(m));
  out.param("iterations", double(o.iterations));
  out.param("offline_members", o.offline_members);
  out.param("custody", std::string(client_custody ? "client" : "broker"));
  out.param("threads", double(o.threads));

  // What clients and handlers touch lives as long as the io_context (see bench_context::keep).
  struct rotate_run {
    rotation_tracker tr;
    std::unique_ptr<committer> cm;
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
  if (client_custody) {
    run->cm = std::make_unique<committer>(*clients.front(), group_policy::invite);
    hooks.front()->set_committer(run->cm.get());
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
  committer* cm = run->cm.get();
  auto call = [&](protocol::client_frame f) { return on_client(owner, owner->call(std::move(f), o.timeout)); };
  auto all_hold = [&](std::uint64_t e, std::size_t upto) {
    return [&hooks, e, upto] {
      for (std::size_t i = 0; i < upto; ++i)
        if (hooks[i]->latest_epoch.load() < e) return false;
      return true;
    };
  };
  auto kx_of = [](const bench_client& c) { return to_array<32>(c.identity().kx_pk()); };
  // (wait_until takes its condition by reference: build it inside each co_await expression.)
  auto committed = [cm](std::uint64_t e) { return std::function<bool()>([cm, e] { return cm->epoch() >= e; }); };
  auto commit_failed = [&](std::uint64_t e) {
    return error{errc::internal, "the owner's commit of epoch " + std::to_string(e) +
                                     " did not land: " + (cm->last_error().empty() ? "timeout" : cm->last_error())};
  };

  // The group: the owner and clients[1 .. m-2].
  phase = "create";
  protocol::client::create_group cg;
  cg.name = "bench-rotate";
  cg.custody = o.custody;
  if (!client_custody)
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
  if (client_custody) {
    co_await on_client(owner, adopt_group(cm, group));
    if (!co_await wait_until(committed(1), o.timeout)) co_return commit_failed(1);
    epoch = 1;
    // The members, adds_per_commit proposals per commit.
    for (std::size_t first = 1; first + 1 < m; first += adds_per_commit) {
      const std::size_t last = std::min(first + adds_per_commit, m - 1);
      co_await on_client(owner, expect_changes(cm, last - first));
      for (std::size_t i = first; i < last; ++i) {
        auto e = epoch_of(co_await call(cm->propose_add(clients[i]->user_id(), kx_of(*clients[i]))), "add_member");
        if (!e) co_return e.err();
      }
      if (!co_await wait_until(committed(epoch + 1), o.timeout)) co_return commit_failed(epoch + 1);
      ++epoch;
    }
    co_await on_client(owner, expect_changes(cm, 1));
  } else {
    if (created_with + 2 == m) {
      if (co_await wait_until(all_hold(epoch, m - 1), o.timeout)) {
        out.add("create_ok_ms", double(t_create_ok - t_create) / 1e6, "ms", "create_group round trip");
        out.add("create_keys_ms", double(tr.last_ns.load() - t_create) / 1e6, "ms",
                "create_group until all hold the key");
      }
    }
    for (std::size_t i = 1 + created_with; i + 1 < m; ++i) {  // only beyond ids_per_create
      auto e = epoch_of(co_await call(protocol::client::add_member{
                            {}, group, clients[i]->user_id(), protocol::member_role::member, {}, {}}),
                        "add_member while building the group");
      if (!e) co_return e.err();
      epoch = *e;
    }
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
  spread add_ok, add_keys, remove_ok, remove_keys, add_bytes, remove_bytes, add_frame, remove_frame;
  histogram add_ok_h, add_keys_h, remove_ok_h, remove_keys_h;
  std::size_t incomplete = 0;
  for (unsigned k = 0; k < 2 * o.iterations; ++k) {
    const bool adding = k % 2 == 0;
    phase = adding ? "add" : "remove";
    step = k + 1;
    co_await sleep_for(between_changes);
    // The owner proposes against the epoch it committed: wait for its ok, not only the keys.
    if (client_custody && !co_await wait_until(committed(epoch), o.timeout, std::chrono::milliseconds(1)))
      co_return commit_failed(epoch);
    const std::size_t expected = adding ? online : online - 1;
    tr.arm(epoch + 1);
    const auto t0 = steady_ns();
    protocol::client_frame f =
        client_custody
            ? (adding ? protocol::client_frame{cm->propose_add(extra->user_id(), kx_of(*extra))}
                      : protocol::client_frame{cm->propose_remove(extra->user_id())})
            : (adding ? protocol::client_frame{protocol::client::add_member{
                            {}, group, extra->user_id(), protocol::member_role::member, {}, {}}}
                      : protocol::client_frame{protocol::client::remove_member{{}, group, extra->user_id(), {}, {}}});
    auto e = epoch_of(co_await call(std::move(f)), adding ? "add_member" : "remove_member");
    const auto t_ok = steady_ns();
    if (!e) co_return e.err();
    if (*e != epoch + 1)
      co_return error{errc::internal, "expected epoch " + std::to_string(epoch + 1) + ", got " + std::to_string(*e)};
    epoch = *e;
    const bool all =
        co_await wait_until([&] { return tr.count.load() >= expected; }, o.timeout, std::chrono::milliseconds(1));
    if (!all) ++incomplete;
    const auto keys_ns = tr.last_ns.load() > t0 ? tr.last_ns.load() - t0 : 0;
    (adding ? add_ok : remove_ok).add_ns(t_ok - t0);
    (adding ? add_ok_h : remove_ok_h).record(t_ok - t0);
    if (all) {
      (adding ? add_keys : remove_keys).add_ns(keys_ns);
      (adding ? add_keys_h : remove_keys_h).record(keys_ns);
      const auto frames = tr.count.load();
      (adding ? add_bytes : remove_bytes).add(double(tr.bytes.load()));
      if (frames > 0) (adding ? add_frame : remove_frame).add(double(tr.bytes.load()) / double(frames));
    }
  }
  const auto broker_cpu1 = o.broker_pid ? cpu_seconds(o.broker_pid) : std::nullopt;
  const auto bench_cpu1 = cpu_seconds(::getpid());
  phase = "close";
  tr.closing = true;

  out.add("group_size_after_add", double(m), "", "members wrapped to by an add (owner included)");
  out.add("members_online", double(online), "", "members connected during the changes");
  add_spread(out, "add_ok", client_custody ? "add_member (proposal) round trip" : "add_member round trip", add_ok);
  add_spread(out, "add_keys", "add_member until all hold the key", add_keys);
  add_spread(out, "remove_ok", client_custody ? "remove_member (proposal) round trip" : "remove_member round trip",
             remove_ok);
  add_spread(out, "remove_keys", "remove_member until all hold the key", remove_keys);
  out.add("add_key_bytes", add_bytes.mean(), "B", "key frame bytes received per add (all members)");
  out.add("add_key_bytes_per_member", add_frame.mean(), "B", "key frame bytes per member per add");
  out.add("remove_key_bytes", remove_bytes.mean(), "B", "key frame bytes received per remove (all members)");
  out.add("remove_key_bytes_per_member", remove_frame.mean(), "B", "key frame bytes per member per remove");
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
  if (cm) {
    out.add("commits", double(cm->commits()), "", "rekeys the owner committed (genesis and building included)");
    out.add("commit_failures", double(cm->failures()), "", "rekey requests refused or commits answered bad_rekey");
  }
  out.add_latency("add_ok", "add_member -> ok", add_ok_h.summary());
  out.add_latency("add_keys", "add_member -> all keys", add_keys_h.summary());
  out.add_latency("remove_ok", "remove_member -> ok", remove_ok_h.summary());
  out.add_latency("remove_keys", "remove_member -> all keys", remove_keys_h.summary());
  if (client_custody)
    out.note(
        "client custody: add/remove -> ok is the proposal being queued; the key reaches members after the "
        "owner's commit (rekey_request, apply_commit, " +
        std::to_string(m) + " HPKE wraps, manifest signature)");
  else
    out.note(std::string("target <= 50 ms to rotate (add_member round trip, median): ") +
             (add_ok.median() <= 50 ? "met" : "NOT met"));
  co_await close_all(clients, std::chrono::seconds(10));
  co_return status{};
}

}  // namespace sealcast::bench
