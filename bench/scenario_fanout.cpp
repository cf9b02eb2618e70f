// fanout: G publishers, each the owner of a group of M members, publish real end-to-end
// encrypted, signed messages; every member checks order, verifies, decrypts and acks. Latency
// starts at the intended send time (open loop: the schedule, not the actual send), so a broker
// that stalls is charged for the messages that queued behind the stall (no coordinated omission).
// The send time travels in the first 8 bytes of the plaintext (steady clock, same machine).

#include <unistd.h>

#include <mutex>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "bench/scenarios.hpp"
#include "bench/system_stats.hpp"
#include "crypto/message.hpp"
#include "crypto/random.hpp"

// GCC 12 takes the operator new/delete pair of Asio's coroutine frames (awaitable_frame_base)
// for a mismatch in some inlined coroutines: a false positive, silenced for this file only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace sealcast::bench {

namespace {

namespace asio = boost::asio;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);
constexpr auto ack_flush_period = std::chrono::milliseconds(20);

/// What every client of the run updates; atomics only, since clients run on several strands.
struct fanout_stats {
  histogram ack_ns;      ///< publish -> ok, from the intended send time
  histogram deliver_ns;  ///< publish -> delivery to one member, from the intended send time
  std::atomic<std::uint64_t> sent{0}, acked{0}, delivered{0};
  std::atomic<std::uint64_t> sent_window{0}, acked_window{0}, delivered_window{0};  ///< events inside the window
  std::atomic<std::uint64_t> publish_errors{0}, verify_failures{0}, missing_key{0}, gaps{0}, duplicates{0};
  std::atomic<std::uint64_t> disconnects{0}, keys{0};
  std::atomic<std::size_t> logins{0}, loops_done{0};
  std::atomic<std::uint64_t> window_start{UINT64_MAX}, window_end{0};
  std::atomic<bool> stop_acks{false};
  std::atomic<bool> closing{false};  ///< from here on a connection that ends is not a loss
  std::mutex error_mutex;
  std::string first_error;

  [[nodiscard]] bool in_window(std::uint64_t t) const noexcept {
    return t >= window_start.load(std::memory_order_relaxed) && t < window_end.load(std::memory_order_relaxed);
  }
  void error(std::string text) {
    publish_errors.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(error_mutex);
    if (first_error.empty()) first_error = std::move(text);
  }
};

/// A publisher's hooks: it only needs to know that its key arrived.
class publisher_hooks final : public client_hooks {
 public:
  explicit publisher_hooks(fanout_stats& st) : st_(st) {}
  void on_key(bench_client&, const protocol::server::key&, std::uint64_t) override { st_.keys.fetch_add(1); }
  void on_closed(bench_client&, const std::string&) override {
    if (!st_.closing.load()) st_.disconnects.fetch_add(1);
  }

 private:
  fanout_stats& st_;
};

/// A member: order check, signature and decryption, latency, cumulative acks. Runs on its
/// client's strand only, so its own state needs no locking.
class member_hooks final : public client_hooks {
 public:
  member_hooks(fanout_stats& st, const bench_options& o, bytes publisher_pk)
      : st_(st), o_(o), publisher_pk_(std::move(publisher_pk)) {}

  void on_key(bench_client&, const protocol::server::key&, std::uint64_t) override { st_.keys.fetch_add(1); }
  void on_closed(bench_client&, const std::string&) override {
    if (!st_.closing.load()) st_.disconnects.fetch_add(1);
  }

  void on_message(bench_client& c, protocol::server::message& m, std::uint64_t recv_ns) override {
    if (m.seq <= last_seq_) {
      st_.duplicates.fetch_add(1, std::memory_order_relaxed);  // a redelivery
      return;
    }
    if (m.seq > last_seq_ + 1) st_.gaps.fetch_add(m.seq - last_seq_ - 1, std::memory_order_relaxed);
    last_seq_ = m.seq;
    group_ = m.group;
    st_.delivered.fetch_add(1, std::memory_order_relaxed);
    if (st_.in_window(recv_ns)) st_.delivered_window.fetch_add(1, std::memory_order_relaxed);
    if (auto sent = open(c, m)) {
      if (st_.in_window(*sent) && recv_ns >= *sent) st_.deliver_ns.record(recv_ns - *sent);
    }
    if (last_seq_ - acked_seq_ >= o_.ack_every) ack(c);
  }

  /// Acks whatever is delivered and not acked yet.
  void ack(bench_client& c) {
    if (last_seq_ <= acked_seq_) return;
    acked_seq_ = last_seq_;
    c.send(protocol::to_json(protocol::client::ack{group_, acked_seq_}));
  }

 private:
  /// The send time in the plaintext, or nullopt when the message does not verify or decrypt.
  std::optional<std::uint64_t> open(bench_client& c, protocol::server::message& m) {
    const auto* key = c.key(m.group, m.epoch);
    if (!key) {
      st_.missing_key.fetch_add(1, std::memory_order_relaxed);
      return std::nullopt;
    }
    const crypto::message_context ctx{m.group, m.epoch, m.sender, m.alg};
    std::optional<crypto::secure_bytes> pt;
    if (o_.verify) {
      auto r = crypto::decrypt_message(publisher_pk_, *key, ctx,
                                       {std::move(m.nonce), std::move(m.ct), bytes(m.sig.begin(), m.sig.end())});
      if (r) pt = std::move(*r);
    } else {
      // Decrypt only: the per-sender message key is derived once per epoch.
      if (!msg_key_ || msg_key_epoch_ != m.epoch) {
        msg_key_ = crypto::message_key(*key, m.sender);
        msg_key_epoch_ = m.epoch;
      }
      auto r =
          crypto::aead_open(m.alg, msg_key_->view(), m.nonce, crypto::message_aad(m.group, m.epoch, m.sender), m.ct);
      if (r) pt = std::move(*r);
    }
    if (!pt || pt->size() < 8) {
      st_.verify_failures.fetch_add(1, std::memory_order_relaxed);
      return std::nullopt;
    }
    return get_u64be(pt->data());
  }

  fanout_stats& st_;
  const bench_options& o_;
  bytes publisher_pk_;
  id16 group_;
  std::uint64_t last_seq_ = 0;
  std::uint64_t acked_seq_ = 0;
  std::optional<crypto::aead_key> msg_key_;
  std::uint64_t msg_key_epoch_ = 0;
};

/// One publisher and its group; touched only on the publisher client's strand.
struct publisher {
  std::shared_ptr<bench_client> client;
  id16 group;
  std::uint64_t epoch = 0;
  std::size_t outstanding = 0;
  asio::steady_timer* wake = nullptr;  ///< the pacer's timer while it waits for a free slot
};

/// Publishes from start_ns to end_ns: on schedule (open loop) or with a window (closed loop).
asio::awaitable<void> publish_loop(publisher& p, fanout_stats& st, const bench_options& o, std::uint64_t start_ns,
                                   std::uint64_t end_ns) {
  auto& c = *p.client;
  const auto* key = c.key(p.group, p.epoch);
  const crypto::message_context ctx{p.group, p.epoch, c.user_id(), o.alg};
  bytes plaintext = crypto::random_bytes(o.size);
  asio::steady_timer timer(c.executor());
  p.wake = &timer;
  const bool closed_loop = !o.rate.has_value();
  const std::size_t cap = closed_loop ? o.window : o.max_outstanding;
  const double per_publisher = closed_loop ? 0 : *o.rate / o.groups;
  const auto interval = closed_loop ? 0 : static_cast<std::uint64_t>(1e9 / per_publisher);
  std::uint64_t next = start_ns;
  co_await sleep_until_ns(start_ns);
  while (key && c.is_open()) {
    const auto now = steady_ns();
    if (closed_loop ? now >= end_ns : next >= end_ns) break;
    if (!closed_loop && next > now) {
      timer.expires_after(std::chrono::nanoseconds(next - now));
      co_await timer.async_wait(use_nothrow);
      continue;
    }
    if (p.outstanding >= cap) {  // a reply cancels the wait
      timer.expires_after(std::chrono::milliseconds(50));
      co_await timer.async_wait(use_nothrow);
      continue;
    }
    const std::uint64_t intended = closed_loop ? now : next;
    next += interval;
    for (int i = 0; i < 8; ++i) plaintext[i] = static_cast<std::uint8_t>(intended >> (56 - 8 * i));
    auto sealed = crypto::encrypt_message(c.identity().signer(), *key, ctx, plaintext);
    if (!sealed) {
      st.error("encrypt: " + sealed.err().message);
      continue;
    }
    protocol::client::publish f;
    f.group = p.group;
    f.epoch = p.epoch;
    f.alg = o.alg;
    f.nonce = std::move(sealed->nonce);
    f.ct = std::move(sealed->ct);
    std::copy(sealed->sig.begin(), sealed->sig.end(), f.sig.begin());
    ++p.outstanding;
    st.sent.fetch_add(1, std::memory_order_relaxed);
    if (st.in_window(intended)) st.sent_window.fetch_add(1, std::memory_order_relaxed);
    c.request(std::move(f), [&st, &p, intended](reply&& r) {
      const auto now_ns = steady_ns();
      --p.outstanding;
      if (p.wake) p.wake->cancel();
      if (!r.is_ok()) return st.error("publish: " + r.describe());
      st.acked.fetch_add(1, std::memory_order_relaxed);
      if (st.in_window(now_ns)) st.acked_window.fetch_add(1, std::memory_order_relaxed);
      if (st.in_window(intended)) st.ack_ns.record(now_ns - intended);
    });
  }
  if (!key) st.error("the publisher holds no key");
  p.wake = nullptr;
  st.loops_done.fetch_add(1);
}

/// Acks on a timer what the count-based acks left over.
asio::awaitable<void> ack_flusher(std::shared_ptr<bench_client> c, member_hooks& h, fanout_stats& st) {
  while (c->is_open() && !st.stop_acks.load(std::memory_order_relaxed)) {
    co_await sleep_for(ack_flush_period);
    h.ack(*c);
  }
  h.ack(*c);
}

}  // namespace

asio::awaitable<status> run_fanout(bench_context& ctx, report& out) {
  const auto& o = ctx.options();
  const std::size_t total = static_cast<std::size_t>(o.groups) * (o.members + 1);
  ctx.plan_connections(total);
  out.param("url", o.url);
  out.param("groups", double(o.groups));
  out.param("members_per_group", double(o.members));
  out.param("size_bytes", double(o.size));
  out.param("rate", o.rate ? param_value(*o.rate) : param_value(std::string("max")));
  if (!o.rate) out.param("window", double(o.window));
  out.param("warmup_s", o.warmup_s);
  out.param("duration_s", o.duration_s);
  out.param("ack_every", double(o.ack_every));
  out.param("verify", o.verify);
  out.param("alg", std::string(protocol::to_string(o.alg)));
  out.param("threads", double(o.threads));

  // Everything clients and handlers touch lives as long as the io_context (see bench_context::keep).
  struct fanout_run {
    fanout_stats st;
    std::vector<publisher> pubs;
    std::vector<std::unique_ptr<publisher_hooks>> pub_hooks;
    std::vector<std::unique_ptr<member_hooks>> mem_hooks;
    std::vector<std::shared_ptr<bench_client>> clients;
    std::atomic<const char*> phase{"login"};
    std::uint64_t last_acked = 0, last_delivered = 0;  ///< the progress line's
  };
  auto run = std::make_shared<fanout_run>();
  ctx.keep(run);
  auto& st = run->st;
  auto& pubs = run->pubs;
  auto& mem_hooks = run->mem_hooks;
  auto& clients = run->clients;
  auto& phase = run->phase;
  pubs.resize(o.groups);
  for (auto& p : pubs) {
    run->pub_hooks.push_back(std::make_unique<publisher_hooks>(st));
    p.client = ctx.make_client(run->pub_hooks.back().get());
    clients.push_back(p.client);
  }
  for (auto& p : pubs) {
    for (unsigned m = 0; m < o.members; ++m) {
      mem_hooks.push_back(std::make_unique<member_hooks>(st, o, p.client->identity().sign_pk()));
      clients.push_back(ctx.make_client(mem_hooks.back().get()));
    }
  }
  ctx.set_progress([run, total](double t) {
    auto& s = run->st;
    const auto acked = s.acked.load(), delivered = s.delivered.load(), sent = s.sent.load();
    const auto failed = std::min(sent - acked, s.publish_errors.load());
    const auto line = "t=" + std::to_string(int(t)) + "s " + run->phase.load() +
                      " logins=" + std::to_string(s.logins.load()) + "/" + std::to_string(total) +
                      " sent=" + std::to_string(sent) + " acked/s=" + std::to_string(acked - run->last_acked) +
                      " delivered/s=" + std::to_string(delivered - run->last_delivered) +
                      " outstanding=" + std::to_string(sent - acked - failed) +
                      " errors=" + std::to_string(s.publish_errors.load() + s.verify_failures.load());
    run->last_acked = acked;
    run->last_delivered = delivered;
    return line;
  });

  auto logins = co_await login_all(ctx, clients, 0, &st.logins);
  out.add("connections", double(logins.ok), "", "connections authenticated");
  out.add("login_seconds", logins.seconds, "s", "time to log all in");
  if (logins.failed > 0)
    co_return error{errc::internal, std::to_string(logins.failed) + " logins failed, first: " + logins.first_error};

  phase = "create";
  for (std::size_t g = 0; g < pubs.size(); ++g) {
    auto& p = pubs[g];
    protocol::client::create_group cg;
    cg.name = "bench-fanout-" + std::to_string(g);
    for (unsigned m = 0; m < o.members; ++m) cg.members.push_back(clients[pubs.size() + g * o.members + m]->user_id());
    auto c = p.client;
    auto r = co_await on_client(c, c->call(std::move(cg), o.timeout));
    auto res = r.ok ? protocol::parse_ok_result<protocol::create_group_result>(*r.ok)
                    : result<protocol::create_group_result>(errc::internal, r.describe());
    if (!res) co_return error{errc::internal, "create_group failed: " + res.err().message};
    p.group = res->group;
    p.epoch = res->epoch;
  }
  if (!co_await wait_until([&] { return st.keys.load() >= total; }, o.timeout))
    co_return error{errc::internal, "only " + std::to_string(st.keys.load()) + " of " + std::to_string(total) +
                                        " clients received the group key"};

  for (std::size_t i = 0; i < mem_hooks.size(); ++i) {
    auto c = clients[pubs.size() + i];
    asio::co_spawn(c->executor(), ack_flusher(c, *mem_hooks[i], st), asio::detached);
  }
  const auto start = steady_ns() + 100'000'000;  // every publisher starts on the same tick
  const auto window_start = start + static_cast<std::uint64_t>(o.warmup_s * 1e9);
  const auto window_end = window_start + static_cast<std::uint64_t>(o.duration_s * 1e9);
  st.window_start = window_start;
  st.window_end = window_end;
  for (auto& p : pubs) asio::co_spawn(p.client->executor(), publish_loop(p, st, o, start, window_end), asio::detached);

  phase = "warmup";
  co_await sleep_until_ns(window_start);
  phase = "measure";
  const auto broker_cpu0 = o.broker_pid ? cpu_seconds(o.broker_pid) : std::nullopt;
  const auto bench_cpu0 = cpu_seconds(::getpid());
  co_await sleep_until_ns(window_end);
  const auto broker_cpu1 = o.broker_pid ? cpu_seconds(o.broker_pid) : std::nullopt;
  const auto bench_cpu1 = cpu_seconds(::getpid());

  phase = "drain";
  (void)co_await wait_until([&] { return st.loops_done.load() == pubs.size(); }, std::chrono::seconds(30));
  const auto settled = [&] {
    const auto acked = st.acked.load();
    return st.sent.load() == acked + st.publish_errors.load() && st.delivered.load() >= acked * o.members;
  };
  const bool drained =
      co_await wait_until(settled, std::chrono::milliseconds(long(o.drain_s * 1000)), std::chrono::milliseconds(10));
  st.stop_acks = true;
  co_await sleep_for(2 * ack_flush_period);  // the flushers send their last acks
  phase = "close";
  st.closing = true;
  co_await close_all(clients, std::chrono::seconds(5));

  const double d = o.duration_s;
  out.add("offered_per_s", double(st.sent_window.load()) / d, "msg/s", "publishes sent per second (offered)");
  out.add("published_per_s", double(st.acked_window.load()) / d, "msg/s", "publishes acked per second");
  out.add("delivered_per_s", double(st.delivered_window.load()) / d, "msg/s", "deliveries per second (all members)");
  out.add("sent_total", double(st.sent.load()), "", "publishes sent (whole run)");
  out.add("acked_total", double(st.acked.load()), "", "publishes acked (whole run)");
  out.add("delivered_total", double(st.delivered.load()), "", "deliveries (whole run)");
  const auto expected = st.acked.load() * o.members;
  out.add("undelivered", double(expected > st.delivered.load() ? expected - st.delivered.load() : 0), "",
          "deliveries missing after the drain");
  out.add("publish_errors", double(st.publish_errors.load()), "", "publish errors (or unanswered)");
  out.add("verify_failures", double(st.verify_failures.load()), "", "messages that did not verify/decrypt");
  out.add("gaps", double(st.gaps.load()), "", "seq gaps seen by members");
  out.add("duplicates", double(st.duplicates.load()), "", "redelivered messages");
  out.add("disconnects", double(st.disconnects.load()), "", "connections lost");
  std::uint64_t parse = 0, key_err = 0, stray = 0;
  for (auto& c : clients) {
    parse += c->counters().parse_errors.load();
    key_err += c->counters().key_errors.load();
    stray += c->counters().stray_errors.load();
  }
  out.add("client_errors", double(parse + key_err + stray + st.missing_key.load()), "", "client-side protocol errors");
  if (broker_cpu0 && broker_cpu1)
    out.add("broker_cpu_pct", 100 * (*broker_cpu1 - *broker_cpu0) / d, "%", "broker CPU in the window");
  if (bench_cpu0 && bench_cpu1)
    out.add("bench_cpu_pct", 100 * (*bench_cpu1 - *bench_cpu0) / d, "%", "bench CPU in the window");
  out.add_latency("publish_to_ack", "publish -> ok", st.ack_ns.summary());
  out.add_latency("publish_to_deliver", "publish -> deliver", st.deliver_ns.summary());
  out.add_latency("login", "connect -> welcome", logins.login);
  if (o.rate && double(st.acked_window.load()) / d < 0.95 * *o.rate)
    out.note("acked publishes fell short of the offered rate: the broker or the bench was saturated");
  if (bench_cpu0 && bench_cpu1 && (*bench_cpu1 - *bench_cpu0) / d > 0.9 * o.threads)
    out.note("the bench used all the CPU its threads can: figures are a lower bound for the broker" +
             std::string(o.verify ? " (try --no-verify)" : ""));
  if (!drained) out.note("the drain timed out: some acks or deliveries never arrived");
  if (!st.first_error.empty()) out.note("first error: " + st.first_error);
  if (!o.rate) out.note("closed loop: latency is measured from the actual send, which waits for a free window slot");
  co_return status{};
}

}  // namespace sealcast::bench
