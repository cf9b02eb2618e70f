// fanout against nats-server: the same load as scenario_fanout.cpp (G publishers, each to its own
// subject with M subscribers; open loop at a fixed rate or closed loop with a window), through
// nats-server's WebSocket listener. Every publish carries the bytes a Sealcast publish frame
// carries (the JSON publish frame: an AES-GCM envelope of S bytes of plaintext, signed with the
// publisher's Ed25519 key, with the intended send time inside, under the message key of the
// publisher's next ratchet index), and every subscriber parses, verifies and decrypts it as a
// Sealcast member would, with its own receiver chain per sender (or decrypts only, --no-verify).
// NATS has no key distribution: the bench hands each group's key to its subscribers in memory.

#include "bench/nats_client.hpp"
#include "bench/peer_fanout.hpp"
#include "bench/scenarios.hpp"

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

/// nats-server as a fanout target (peer_fanout.hpp).
struct nats_target : peer_parts<nats_client, nats_publisher_hooks, nats_member_hooks, nats_publisher> {
  static std::string group_topic(std::string_view run_id, std::size_t g) {
    return "sealcast-bench." + std::string(run_id) + "." + std::to_string(g);
  }
  static std::string subscription(const std::string& topic) { return topic + ".*"; }
  /// Connects one client (echo off with --all-publish: not to itself) and, for a subscriber,
  /// subscribes and waits until the server has the SUB.
  static asio::awaitable<std::string> join(std::shared_ptr<client> c, const bench_options& o,
                                           std::optional<asio::ip::address> source, std::string subject,
                                           std::string /*client_id*/) {
    auto err = co_await c->connect(o.target, source, o.timeout, !o.all_publish);
    if (!err.empty() || subject.empty()) co_return err;
    c->subscribe(subject, 1);
    if (!co_await c->flush(o.timeout)) co_return "no PONG after SUB";
    co_return std::string{};
  }
};

}  // namespace

asio::awaitable<status> run_nats_fanout(bench_context& ctx, report& out) {
  return run_peer_fanout<nats_target>(ctx, out);
}

}  // namespace sealcast::bench
