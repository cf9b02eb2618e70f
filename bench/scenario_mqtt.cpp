// fanout against an MQTT broker (Mosquitto): the same load as scenario_fanout.cpp and
// scenario_nats.cpp (G groups, one topic tree each, M subscriber connections; open loop at a fixed
// rate or closed loop with a window), MQTT 5 over TCP with QoS 1 both ways. Every publish carries
// the bytes a Sealcast publish frame carries (keyed_group.hpp), its PUBACK is the "ack", and every
// subscriber opens it as a Sealcast member would (verify unless --no-verify, ratchet, decrypt).
// MQTT has no key distribution: the bench hands each group's key to its subscribers in memory.

#include "bench/mqtt_client.hpp"
#include "bench/peer_fanout.hpp"
#include "bench/scenarios.hpp"

namespace sealcast::bench {

namespace {

namespace asio = boost::asio;

// Publisher k of a group publishes on "<topic>/<k>"; members subscribe to "<topic>/+", so the
// topic names the sender as the `sender` field of a Sealcast message frame does.

/// How long the broker keeps a subscriber's session (and its queued QoS 1 messages) after the
/// connection ends: a member that drops does not lose what was published meanwhile.
constexpr std::uint32_t session_expiry_s = 300;

/// Counts a connection lost before the run closed it.
class mqtt_publisher_hooks final : public mqtt_client::hooks {
 public:
  explicit mqtt_publisher_hooks(fanout_stats& st) : st_(st) {}
  void on_closed(mqtt_client&, const std::string& why) override {
    if (!st_.closing.load()) {
      st_.disconnects.fetch_add(1);
      st_.note_error("publisher connection lost: " + why);
    }
  }

 private:
  fanout_stats& st_;
};

/// A subscriber: opens the Sealcast publish frame as a member would, records latency.
class mqtt_member_hooks final : public mqtt_client::hooks {
 public:
  mqtt_member_hooks(fanout_stats& st, const bench_options& o, const keyed_group& g) : st_(st), opener_(g, o.verify) {}

  void on_message(mqtt_client&, std::string_view topic, std::string_view payload, std::uint64_t recv_ns) override {
    const auto sent = opener_.open(sender_index(topic, '/'), payload);
    if (!sent) st_.verify_failures.fetch_add(1, std::memory_order_relaxed);
    st_.delivery(recv_ns, sent);
  }
  void on_closed(mqtt_client&, const std::string& why) override {
    if (!st_.closing.load()) {
      st_.disconnects.fetch_add(1);
      st_.note_error("subscriber connection lost: " + why);
    }
  }

 private:
  fanout_stats& st_;
  frame_opener opener_;
};

/// A publisher: QoS 1, the PUBACK is the ack. On its client's strand only.
class mqtt_publisher final : public paced_publisher {
 public:
  mqtt_publisher(std::shared_ptr<mqtt_client> c, const keyed_group& g, std::size_t sender, const bench_options& o)
      : client_(std::move(c)), topic_(g.topic + "/" + std::to_string(sender)), sealer_(g, sender, o) {}

  [[nodiscard]] const boost::asio::any_io_executor& executor() const override { return client_->executor(); }
  [[nodiscard]] bool is_open() const override { return client_->is_open(); }
  status publish(std::uint64_t intended, publish_done done) override {
    auto payload = sealer_.seal(intended);
    if (!payload) return payload.err();
    client_->publish(topic_, *payload, std::move(done));
    return {};
  }

 private:
  std::shared_ptr<mqtt_client> client_;
  std::string topic_;
  frame_sealer sealer_;
};

/// An MQTT broker as a fanout target (peer_fanout.hpp).
struct mqtt_target : peer_parts<mqtt_client, mqtt_publisher_hooks, mqtt_member_hooks, mqtt_publisher> {
  static std::string group_topic(std::string_view run_id, std::size_t g) {
    return "sealcast-bench/" + std::string(run_id) + "/" + std::to_string(g);
  }
  static std::string subscription(const std::string& topic) { return topic + "/+"; }
  /// Connects one client and, for a subscriber, subscribes (QoS 1; No Local with --all-publish:
  /// not to itself) and waits for the SUBACK.
  static asio::awaitable<std::string> join(std::shared_ptr<client> c, const bench_options& o,
                                           std::optional<asio::ip::address> source, std::string filter,
                                           std::string client_id) {
    auto err = co_await c->connect(o.target, source, o.timeout, std::move(client_id), session_expiry_s);
    if (!err.empty() || filter.empty()) co_return err;
    co_return co_await c->subscribe(std::move(filter), o.all_publish, o.timeout);
  }
};

}  // namespace

asio::awaitable<status> run_mqtt_fanout(bench_context& ctx, report& out) {
  return run_peer_fanout<mqtt_target>(ctx, out);
}

}  // namespace sealcast::bench
