// fanout against nats-server: the same load as scenario_fanout.cpp (G publishers, each to its own
// subject with M subscribers; open loop at a fixed rate or closed loop with a window), through
// nats-server's WebSocket listener. Every publish carries the bytes a Sealcast publish frame
// carries (the JSON publish frame: an AES-GCM envelope of S bytes of plaintext, signed with the
// publisher's Ed25519 key, with the intended send time inside, under the message key of the
// publisher's next ratchet index), and every subscriber parses, verifies and decrypts it as a
// Sealcast member would, with its own receiver chain per sender (or decrypts only, --no-verify).
// NATS has no key distribution: the bench hands each group's key to its subscribers in memory.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "bench/fanout_common.hpp"
#include "bench/keyed_group.hpp"
#include "bench/nats_client.hpp"
#include "bench/paced_loop.hpp"
#include "bench/scenarios.hpp"
#include "common/detail/coroutine_frame_warning.hpp"
#include "crypto/random.hpp"

namespace sealcast::bench {

namespace {

namespace asio = boost::asio;

// Publisher k of a group publishes on "<topic>.<k>"; members subscribe to "<topic>.*", so the
// subject names the sender as the `sender` field of a Sealcast message frame does.

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

/// A subscriber: opens the Sealcast publish frame as a member would, records latency.
class nats_member_hooks final : public nats_client::hooks {
 public:
  nats_member_hooks(fanout_stats& st, const bench_options& o, const keyed_group& g) : st_(st), opener_(g, o.verify) {}

  void on_msg(nats_client&, std::string_view subject, std::string_view payload, std::uint64_t recv_ns) override {
    const auto sent = opener_.open(sender_index(subject, '.'), payload);
    if (!sent) st_.verify_failures.fetch_add(1, std::memory_order_relaxed);
    st_.delivery(recv_ns, sent);
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
  fanout_stats& st_;
  frame_opener opener_;
};

/// A publisher: each PUB is followed by a PING whose PONG is the "ack" (the server has processed
/// the PUB). On its client's strand only.
class nats_publisher final : public paced_publisher {
 public:
  nats_publisher(std::shared_ptr<nats_client> c, const keyed_group& g, std::size_t sender, const bench_options& o)
      : client_(std::move(c)), subject_(g.topic + "." + std::to_string(sender)), sealer_(g, sender, o) {}

  [[nodiscard]] const boost::asio::any_io_executor& executor() const override { return client_->executor(); }
  [[nodiscard]] bool is_open() const override { return client_->is_open(); }
  status publish(std::uint64_t intended, publish_done done) override {
    auto payload = sealer_.seal(intended);
    if (!payload) return payload.err();
    client_->publish(subject_, *payload, [done = std::move(done)](bool ok, std::uint64_t pong_ns) {
      done(ok, pong_ns, ok ? "" : "the connection ended before its PONG");
    });
    return {};
  }

 private:
  std::shared_ptr<nats_client> client_;
  std::string subject_;
  frame_sealer sealer_;
};

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
    std::vector<keyed_group> groups;
    std::vector<std::unique_ptr<nats_publisher>> pubs;
    std::vector<std::unique_ptr<nats_client::hooks>> hooks;
    std::vector<std::shared_ptr<nats_client>> clients;  ///< by group: owner, then members
    std::vector<std::string> subjects;                  ///< per client: its subscription, "" for none
  };
  auto run = std::make_shared<nats_run>();
  ctx.keep(run);
  auto& st = *run->stats;
  const auto run_id = crypto::random_id().hex().substr(0, 12);
  for (std::size_t g = 0; g < o.groups; ++g)
    run->groups.push_back(
        keyed_group::make("sealcast-bench." + run_id + "." + std::to_string(g), o.all_publish ? per_group : 1));
  for (std::size_t g = 0; g < o.groups; ++g) {
    auto& gr = run->groups[g];
    for (std::size_t k = 0; k < per_group; ++k) {
      const bool subscribes = k > 0 || o.all_publish;
      if (subscribes)
        run->hooks.push_back(std::make_unique<nats_member_hooks>(st, o, gr));
      else
        run->hooks.push_back(std::make_unique<nats_publisher_hooks>(st));
      run->clients.push_back(std::make_shared<nats_client>(ctx.make_strand(), run->hooks.back().get()));
      run->subjects.push_back(subscribes ? gr.topic + ".*" : std::string());
      if (k == 0 || o.all_publish) run->pubs.push_back(std::make_unique<nats_publisher>(run->clients.back(), gr, k, o));
    }
  }
  ctx.set_progress(fanout_progress(run->stats, total));

  // Connect (and subscribe) everyone, at most connect_concurrency at once.
  const std::function<asio::awaitable<std::string>(std::size_t)> join = [&](std::size_t i) {
    const auto& c = run->clients[i];
    return asio::co_spawn(c->executor(),
                          nats_join(c, o.target, ctx.source_for(i), o.timeout, run->subjects[i], !o.all_publish),
                          asio::use_awaitable);
  };
  const auto logins = co_await join_all(ctx, run->clients.size(), join, &st.logins);
  out.add("connections", double(logins.ok), "", "connections subscribed");
  out.add("login_seconds", logins.seconds, "s", "time to connect all");
  if (logins.failed > 0)
    co_return error{errc::internal, std::to_string(logins.failed) + " connections failed, first: " + logins.first_error};

  const auto start = open_run_window(st, o);
  const double per_publisher = o.rate ? *o.rate / static_cast<double>(run->pubs.size()) : 0;
  const auto& pubs = run->pubs;
  for (std::size_t i = 0; i < pubs.size(); ++i)
    asio::co_spawn(pubs[i]->executor(),
                   paced_publish_loop(*pubs[i], st, o, per_publisher, double(i) / double(pubs.size()), start,
                                      st.window_end.load()),
                   asio::detached);
  const auto [cpu, drained] = co_await measure_and_drain(st, o, run->pubs.size(), recipients);
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
