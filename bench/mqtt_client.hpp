#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "bench/options.hpp"

// libmosquitto's types, declared here so that its header stays in mqtt_client.cpp.
struct mosquitto;
struct mosquitto_message;
struct mqtt5__property;

// An MQTT 5 client for the comparison run: libmosquitto (the reference client of the broker under
// test) for the protocol (CONNECT, SUBSCRIBE, PUBLISH QoS 1 with its packet ids and PUBACKs,
// keep-alive), driven by the bench's Asio threads instead of a thread of its own per connection:
// the client waits on a duplicate of libmosquitto's socket and calls mosquitto_loop_read/write
// when it is ready. Used from its executor (a strand) only.

namespace sealcast::bench {

/// One connection to an MQTT broker (mqtt://HOST:PORT), MQTT 5, QoS 1.
class mqtt_client : public std::enable_shared_from_this<mqtt_client> {
 public:
  /// What a scenario wants to hear; called on the client's executor.
  class hooks {
   public:
    virtual ~hooks() = default;
    /// A PUBLISH from the broker (its PUBACK is already queued); recv_ns: when it was read.
    virtual void on_message(mqtt_client& c, std::string_view topic, std::string_view payload, std::uint64_t recv_ns) {
      (void)c, (void)topic, (void)payload, (void)recv_ns;
    }
    /// The connection ended after connect().
    virtual void on_closed(mqtt_client& c, const std::string& why) { (void)c, (void)why; }
  };
  /// The answer to a QoS 1 publish: the broker's PUBACK (ok unless its reason code is an error,
  /// with the time it was read), or the connection ended first (false, why).
  using puback_handler = std::function<void(bool ok, std::uint64_t recv_ns, std::string_view why)>;

  /// A client whose I/O runs on `executor`; `h` may be null and must outlive it.
  mqtt_client(boost::asio::any_io_executor executor, hooks* h);
  ~mqtt_client();
  mqtt_client(const mqtt_client&) = delete;
  mqtt_client& operator=(const mqtt_client&) = delete;

  /// Connects from `source` (when given) as `client_id` with a session that outlives the
  /// connection by `session_expiry_s` (a subscriber that drops keeps its QoS 1 messages queued),
  /// and waits for the CONNACK; "" on success, else what failed.
  boost::asio::awaitable<std::string> connect(ws_target target, std::optional<boost::asio::ip::address> source,
                                              std::chrono::milliseconds timeout, std::string client_id,
                                              std::uint32_t session_expiry_s);
  /// SUBSCRIBE with QoS 1 (and No Local: not this connection's own publishes); waits for the
  /// SUBACK. "" when QoS 1 was granted, else what failed.
  boost::asio::awaitable<std::string> subscribe(std::string filter, bool no_local, std::chrono::milliseconds timeout);
  /// PUBLISH QoS 1; `done` gets its PUBACK, or the end of the connection.
  void publish(const std::string& topic, std::string_view payload, puback_handler done);

  /// Sends DISCONNECT and closes.
  void close();
  [[nodiscard]] bool is_open() const noexcept { return open_.load(std::memory_order_relaxed); }
  [[nodiscard]] const boost::asio::any_io_executor& executor() const noexcept { return executor_; }
  /// Failures libmosquitto reported that were not a lost connection (malformed packets, refused
  /// subscriptions).
  [[nodiscard]] std::uint64_t protocol_errors() const noexcept { return protocol_errors_.load(); }

 private:
  static void on_connect(::mosquitto*, void* self, int rc, int flags, const ::mqtt5__property* props);
  static void on_disconnect(::mosquitto*, void* self, int rc, const ::mqtt5__property* props);
  static void on_publish(::mosquitto*, void* self, int mid, int reason, const ::mqtt5__property* props);
  static void on_message(::mosquitto*, void* self, const ::mosquitto_message* msg, const ::mqtt5__property* props);
  static void on_subscribe(::mosquitto*, void* self, int mid, int count, const int* granted,
                           const ::mqtt5__property* props);
  static boost::asio::awaitable<void> read_loop(std::shared_ptr<mqtt_client> self);
  static boost::asio::awaitable<void> write_loop(std::shared_ptr<mqtt_client> self);
  static boost::asio::awaitable<void> keepalive_loop(std::shared_ptr<mqtt_client> self);
  /// Reads what the socket holds; false once the connection has ended.
  bool read_ready(bool& drained);
  /// Starts the writer when libmosquitto has packets it could not write yet.
  void want_write();
  /// The connection ended: fails what waits for the broker, tells the hooks once.
  void ended(const std::string& why);
  /// Wakes a connect() or subscribe() waiting for its answer.
  void answer(std::string error);

  boost::asio::any_io_executor executor_;
  hooks* hooks_;
  ::mosquitto* mosq_ = nullptr;
  std::optional<boost::asio::posix::stream_descriptor> socket_;  ///< a dup of libmosquitto's socket
  std::unordered_map<int, puback_handler> pubacks_;              ///< by packet id
  boost::asio::steady_timer* waiter_ = nullptr;                  ///< connect() or subscribe() waiting
  boost::asio::steady_timer* keepalive_ = nullptr;               ///< keepalive_loop()'s timer
  int waiting_mid_ = 0;                                          ///< the SUBSCRIBE's packet id
  std::optional<std::string> answer_;                            ///< what the waiter gets
  bool writing_ = false;
  bool ended_ = false;
  std::atomic<bool> open_{false};
  std::atomic<std::uint64_t> protocol_errors_{0};
};

}  // namespace sealcast::bench
