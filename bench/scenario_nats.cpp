// fanout against nats-server: the same load as scenario_fanout.cpp (G publishers, each to its own
// subject with M subscribers; open loop at a fixed rate or closed loop with a window), through
// nats-server's WebSocket listener. Every publish carries the bytes a Sealcast publish frame
// carries (the JSON publish frame: an AES-GCM envelope of S bytes of plaintext, signed with the
// publisher's Ed25519 key, with the intended send time inside, under the message key of the
// publisher's next ratchet index), and every subscriber parses, verifies and decrypts it as a
// Sealcast member would, with its own receiver chain per sender (or decrypts only, --no-verify).
// NATS has no key distribution: the bench hands each group's key to its subscribers in memory.

#include <unistd.h>

#include <charconv>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "bench/fanout_common.hpp"
#include "bench/nats_client.hpp"
#include "bench/scenarios.hpp"
#include "bench/system_stats.hpp"
#include "common/bytes.hpp"
#include "crypto/group_key.hpp"
#include "crypto/identity.hpp"
#include "crypto/message.hpp"
#include "crypto/random.hpp"
#include "crypto/ratchet.hpp"
#include "protocol/codec.hpp"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace sealcast::bench {

namespace {

namespace asio = boost::asio;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

/// One group: its subjects, key and publisher identities, shared read-only by its subscribers.
/// Publisher k publishes on "<base>.<k>"; members subscribe to "<base>.*", so the subject names
/// the sender as the `sender` field of a Sealcast message frame does.
struct nats_group {
  std::string base;
  id16 group;
  std::uint64_t epoch = 1;
  crypto::group_key key;
  std::vector<crypto::identity> senders;
};

/// A publisher's hooks: it counts a lost connection and server errors.
class nats_publisher_hooks final : public nats_client::hooks {
 public:
  explicit nats_publisher_hooks(fanout_stats& st) : st_(st) {}
  void on_server_error(nats_client&, std::string_view text) override {
    st_.server_errors.fetch_add(1);
    st_.note_error("nats -ERR " + std::string(text));
  }
  void on_closed(nats_client&, const std::string& why) override {
    if (!st_.closing.load()) {
      st_.disconnects.fetch_add(1);
      st_.note_error("publisher connection lost: " + why);
    }
  }

 private:
  fanout_stats& st_;
};

/// A subscriber: parses the Sealcast publish frame, verifies and decrypts it, records latency.
class nats_member_hooks final : public nats_client::hooks {
 public:
  nats_member_hooks(fanout_stats& st, const bench_options& o, const nats_group& g) : st_(st), o_(o), g_(g) {}

  void on_msg(nats_client&, std::string_view subject, std::string_view payload, std::uint64_t recv_ns) override {
    st_.delivery(recv_ns, open(subject, payload));
  }
  void on_server_error(nats_client&, std::string_view text) override {
    st_.server_errors.fetch_add(1);
    st_.note_error("nats -ERR " + std::string(text));
  }
  void on_closed(nats_client&, const std::string& why) override {
    if (!st_.closing.load()) {
      st_.disconnects.fetch_add(1);
      st_.note_error("subscriber connection lost: " + why);
    }
  }

 private:
  std::optional<std::uint64_t> open(std::string_view subject, std::string_view payload) {
    auto parsed = protocol::parse_client_frame(payload);
    auto* f = parsed ? std::get_if<protocol::client::publish>(&*parsed) : nullptr;
    const auto dot = subject.rfind('.');
    std::size_t k = SIZE_MAX;
    if (dot != std::string_view::npos) {
      const auto tail = subject.substr(dot + 1);
      if (std::from_chars(tail.data(), tail.data() + tail.size(), k).ec != std::errc{}) k = SIZE_MAX;
    }
    if (!f || f->group != g_.group || f->epoch != g_.epoch || k >= g_.senders.size()) {
      st_.verify_failures.fetch_add(1, std::memory_order_relaxed);
      return std::nullopt;
    }
    const auto& sender = g_.senders[k];
    crypto::message_context ctx;
    ctx.group = f->group;
    ctx.epoch = f->epoch;
    ctx.sender = sender.user_id();
    ctx.index = f->index;
    ctx.alg = f->alg;
    const crypto::sealed_message sealed{std::move(f->nonce), std::move(f->ct), bytes(f->sig.begin(), f->sig.end())};
    if (o_.verify && !crypto::verify_message_sig(sender.sign_pk(), ctx, sealed)) {
      st_.verify_failures.fetch_add(1, std::memory_order_relaxed);
      return std::nullopt;
    }
    // The sender's ratchet, as a Sealcast member keeps it (docs/protocol.md 7.1).
    if (chains_.size() != g_.senders.size()) chains_.resize(g_.senders.size());
    if (!chains_[k]) chains_[k] = crypto::receiver_chain(crypto::initial_chain(g_.key, sender.user_id()), 0);
    auto key = chains_[k]->take(f->index);
    std::optional<crypto::secure_bytes> pt;
    if (key) {
      if (auto r = crypto::decrypt_message(*key, ctx, sealed)) pt = std::move(*r);
    }
    if (!pt || pt->size() < 8) {
      st_.verify_failures.fetch_add(1, std::memory_order_relaxed);
      return std::nullopt;
    }
    return get_u64be(pt->data());
  }

  fanout_stats& st_;
  const bench_options& o_;
  const nats_group& g_;
  std::vector<std::optional<crypto::receiver_chain>> chains_;  ///< per sender
};

/// A publisher: touched only on its client's strand.
struct nats_publisher {
  std::shared_ptr<nats_client> client;
  nats_group* group = nullptr;
  std::size_t sender = 0;  ///< index in group->senders
  std::string subject;
  std::size_t outstanding = 0;
  asio::steady_timer* wake = nullptr;
};

/// Publishes from start_ns to end_ns, exactly as scenario_fanout.cpp's publish_loop does.
asio::awaitable<void> nats_publish_loop(nats_publisher& p, fanout_stats& st, const bench_options& o,
                                        double per_publisher, std::uint64_t start_ns, std::uint64_t end_ns) {
  auto& c = *p.client;
  const auto& g = *p.group;
  const auto& me = g.senders[p.sender];
  crypto::message_context ctx;
  ctx.group = g.group;
  ctx.epoch = g.epoch;
  ctx.sender = me.user_id();
  ctx.alg = o.alg;
  crypto::sender_chain chain(crypto::initial_chain(g.key, me.user_id()), 0);
  bytes plaintext = crypto::random_bytes(o.size);
  asio::steady_timer timer(c.executor());
  p.wake = &timer;
  const bool closed_loop = !o.rate.has_value();
  const std::size_t cap = closed_loop ? o.window : o.max_outstanding;
  const auto interval = closed_loop ? 0 : static_cast<std::uint64_t>(1e9 / per_publisher);
  std::uint64_t next = start_ns;
  std::uint64_t rid = 0;
  co_await sleep_until_ns(start_ns);
  while (c.is_open()) {
    const auto now = steady_ns();
    if (closed_loop ? now >= end_ns : next >= end_ns) break;
    if (!closed_loop && next > now) {
      timer.expires_after(std::chrono::nanoseconds(next - now));
      co_await timer.async_wait(use_nothrow);
      continue;
    }
    if (p.outstanding >= cap) {
      timer.expires_after(std::chrono::milliseconds(50));
      co_await timer.async_wait(use_nothrow);
      continue;
    }
    const std::uint64_t intended = closed_loop ? now : next;
    next += interval;
    for (int i = 0; i < 8; ++i) plaintext[i] = static_cast<std::uint8_t>(intended >> (56 - 8 * i));
    auto next_key = chain.next();
    if (!next_key) {
      st.error("ratchet: " + next_key.err().message);
      break;
    }
    ctx.index = next_key->first;
    auto sealed = crypto::encrypt_message(me.signer(), next_key->second, ctx, plaintext);
    if (!sealed) {
      st.error("encrypt: " + sealed.err().message);
      continue;
    }
    protocol::client::publish f;
    f.rid = protocol::request_id::from_number(++rid);
    f.group = g.group;
    f.epoch = g.epoch;
    f.index = ctx.index;
    f.alg = o.alg;
    f.nonce = std::move(sealed->nonce);
    f.ct = std::move(sealed->ct);
    std::copy(sealed->sig.begin(), sealed->sig.end(), f.sig.begin());
    const auto payload = protocol::to_json(f);
    ++p.outstanding;
    st.sent.fetch_add(1, std::memory_order_relaxed);
    if (st.in_window(intended)) st.sent_window.fetch_add(1, std::memory_order_relaxed);
    c.publish(p.subject, payload, [&st, &p, intended](bool ok, std::uint64_t pong_ns) {
      --p.outstanding;
      if (p.wake) p.wake->cancel();
      if (!ok) return st.error("publish: the connection ended before its PONG");
      st.ack(pong_ns, intended);
    });
  }
  p.wake = nullptr;
  st.loops_done.fetch_add(1);
}

/// Connects one client and, for a subscriber, subscribes and waits until the server has the SUB.
asio::awaitable<std::string> nats_join(std::shared_ptr<nats_client> c, ws_target target,
                                       std::optional<asio::ip::address> source, std::chrono::milliseconds timeout,
                                       std::string subject, bool echo) {
  auto err = co_await c->connect(std::move(target), source, timeout, echo);
  if (!err.empty() || subject.empty()) co_return err;
  c->subscribe(subject, 1);
  if (!co_await c->flush(timeout)) co_return "no PONG after SUB";
  co_return std::string{};
}

}  // namespace

asio::awaitable<status> run_nats_fanout(bench_context& ctx, report& out) {
  const auto& o = ctx.options();
  // As in run_fanout: per group the owner (a publisher only) and M subscribers, or with
  // --all-publish M clients that all subscribe and publish (echo off: not to themselves).
  const std::size_t per_group = o.all_publish ? o.members : o.members + 1;
  const unsigned recipients = o.all_publish ? o.members - 1 : o.members;
  const std::size_t total = static_cast<std::size_t>(o.groups) * per_group;
  ctx.plan_connections(total);
  fanout_parameters(out, o);

  struct nats_run {
    std::shared_ptr<fanout_stats> stats = std::make_shared<fanout_stats>();
    std::vector<nats_group> groups;
    std::vector<nats_publisher> pubs;
    std::vector<std::unique_ptr<nats_client::hooks>> hooks;
    std::vector<std::shared_ptr<nats_client>> clients;  ///< by group: owner, then members
    std::vector<std::string> subjects;                  ///< per client: its subscription, "" for none
  };
  auto run = std::make_shared<nats_run>();
  ctx.keep(run);
  auto& st = *run->stats;
  const auto run_id = crypto::random_id().hex().substr(0, 12);
  run->groups.resize(o.groups);
  for (std::size_t g = 0; g < o.groups; ++g) {
    auto& gr = run->groups[g];
    gr.base = "sealcast-bench." + run_id + "." + std::to_string(g);
    gr.group = crypto::random_id();
    gr.key = crypto::generate_group_key();
    for (std::size_t k = 0; k < (o.all_publish ? per_group : 1); ++k) gr.senders.push_back(crypto::identity::generate());
  }
  for (std::size_t g = 0; g < o.groups; ++g) {
    auto& gr = run->groups[g];
    for (std::size_t k = 0; k < per_group; ++k) {
      const bool subscribes = k > 0 || o.all_publish;
      if (subscribes)
        run->hooks.push_back(std::make_unique<nats_member_hooks>(st, o, gr));
      else
        run->hooks.push_back(std::make_unique<nats_publisher_hooks>(st));
      run->clients.push_back(std::make_shared<nats_client>(ctx.make_strand(), run->hooks.back().get()));
      run->subjects.push_back(subscribes ? gr.base + ".*" : std::string());
      if (k == 0 || o.all_publish) {
        nats_publisher p;
        p.client = run->clients.back();
        p.group = &gr;
        p.sender = k;
        p.subject = gr.base + "." + std::to_string(k);
        run->pubs.push_back(std::move(p));
      }
    }
  }
  ctx.set_progress(fanout_progress(run->stats, total));

  // Connect (and subscribe) everyone, at most connect_concurrency at once.
  login_stats logins;
  {
    const auto ex = co_await asio::this_coro::executor;
    histogram h;
    std::size_t next = 0, running = 0;
    const auto t0 = steady_ns();
    asio::steady_timer all_done(ex);
    auto worker = [&]() -> asio::awaitable<void> {
      while (next < run->clients.size()) {
        const auto i = next++;
        auto c = run->clients[i];
        const auto start = steady_ns();
        auto err = co_await asio::co_spawn(
            c->executor(), nats_join(c, o.target, ctx.source_for(i), o.timeout, run->subjects[i], !o.all_publish), asio::use_awaitable);
        if (err.empty()) {
          ++logins.ok;
          h.record(steady_ns() - start);
        } else if (logins.failed++ == 0) {
          logins.first_error = err;
        }
        st.logins.fetch_add(1, std::memory_order_relaxed);
      }
      if (--running == 0) all_done.cancel();
    };
    const auto workers = std::min<std::size_t>(std::max(1u, o.connect_concurrency), run->clients.size());
    running = workers;
    for (std::size_t w = 0; w < workers; ++w) asio::co_spawn(ex, worker(), asio::detached);
    all_done.expires_at(asio::steady_timer::time_point::max());
    while (running > 0) co_await all_done.async_wait(use_nothrow);
    logins.seconds = static_cast<double>(steady_ns() - t0) / 1e9;
    logins.login = h.summary();
  }
  out.add("connections", double(logins.ok), "", "connections subscribed");
  out.add("login_seconds", logins.seconds, "s", "time to connect all");
  if (logins.failed > 0)
    co_return error{errc::internal, std::to_string(logins.failed) + " connections failed, first: " + logins.first_error};

  const auto start = steady_ns() + 100'000'000;
  const auto window_start = start + static_cast<std::uint64_t>(o.warmup_s * 1e9);
  st.open_window(window_start, o.duration_s);
  const auto window_end = st.window_end.load();
  const double per_publisher = o.rate ? *o.rate / static_cast<double>(run->pubs.size()) : 0;
  for (auto& p : run->pubs)
    asio::co_spawn(p.client->executor(), nats_publish_loop(p, st, o, per_publisher, start, window_end),
                   asio::detached);

  st.phase = "warmup";
  co_await sleep_until_ns(window_start);
  st.phase = "measure";
  window_cpu cpu;
  if (o.broker_pid) cpu.broker0 = cpu_seconds(o.broker_pid);
  cpu.bench0 = cpu_seconds(::getpid());
  co_await sleep_until_ns(window_end);
  if (o.broker_pid) cpu.broker1 = cpu_seconds(o.broker_pid);
  cpu.bench1 = cpu_seconds(::getpid());

  st.phase = "drain";
  (void)co_await wait_until([&] { return st.loops_done.load() == run->pubs.size(); }, std::chrono::seconds(30));
  const auto settled = [&] {
    const auto acked = st.acked.load();
    return st.sent.load() == acked + st.publish_errors.load() && st.delivered.load() >= acked * recipients;
  };
  const bool drained =
      co_await wait_until(settled, std::chrono::milliseconds(long(o.drain_s * 1000)), std::chrono::milliseconds(10));
  st.phase = "close";
  st.closing = true;
  for (auto& c : run->clients) asio::post(c->executor(), [c] { c->close(); });
  (void)co_await wait_until(
      [&] {
        for (auto& c : run->clients)
          if (c->is_open()) return false;
        return true;
      },
      std::chrono::seconds(5), std::chrono::milliseconds(20));

  std::uint64_t client_errors = 0;
  for (auto& c : run->clients) client_errors += c->protocol_errors();
  fanout_report(out, st, o, recipients, client_errors, cpu, drained, logins);
  co_return status{};
}

}  // namespace sealcast::bench
