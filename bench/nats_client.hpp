#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>

#include "bench/options.hpp"
#include "client/connection.hpp"

namespace sealcast::bench {
/// The bench's WebSocket is the client library's (sealcast_client): source-address binding, a
/// configurable subprotocol and binary frames are its connect_options.
using ws_connection = sealcast::client::detail::ws_connection;
}  // namespace sealcast::bench

// A minimal NATS client for the comparison run: the NATS text protocol (INFO, CONNECT, PING/PONG,
// SUB, PUB, MSG, +OK/-ERR) over nats-server's WebSocket listener, on the client library's ws_connection.
// nats-server may split a protocol message over WebSocket frames or pack several into one: the
// parser keeps what is incomplete until the next frame. Used from its executor only.

namespace sealcast::bench {

/// One NATS protocol message from the server.
struct nats_event {
  enum class kind : std::uint8_t { info, msg, ping, pong, ok, err };
  kind what = kind::info;
  std::string_view subject;  ///< msg
  std::string_view sid;      ///< msg
  std::string_view payload;  ///< msg
  std::string_view text;     ///< info: the JSON; err: the message
};

/// Incremental parser of server -> client NATS protocol messages.
class nats_parser {
 public:
  /// Largest MSG payload accepted (nats-server's max_payload is 1 MiB by default).
  static constexpr std::size_t max_payload = 64u * 1024 * 1024;

  /// Parses what `data` completes; calls `on_event` for each whole message (views valid only
  /// during the call). Returns "" or the protocol violation (the stream is then unusable).
  std::string feed(std::string_view data, const std::function<void(const nats_event&)>& on_event);
  /// Bytes held back waiting for the rest of a message.
  [[nodiscard]] std::size_t pending() const noexcept { return buf_.size(); }

 private:
  /// Parses from `in`; returns how many bytes were consumed, or nullopt with `error` set.
  std::optional<std::size_t> parse(std::string_view in, const std::function<void(const nats_event&)>& on_event,
                                   std::string& error);
  std::string buf_;
};

/// One connection to nats-server's WebSocket listener.
class nats_client : public std::enable_shared_from_this<nats_client> {
 public:
  /// What a scenario wants to hear; called on the client's executor.
  class hooks {
   public:
    virtual ~hooks() = default;
    /// A MSG; recv_ns is when the WebSocket frame that completed it was read.
    virtual void on_msg(nats_client& c, std::string_view subject, std::string_view payload, std::uint64_t recv_ns) {
      (void)c, (void)subject, (void)payload, (void)recv_ns;
    }
    /// -ERR from the server.
    virtual void on_server_error(nats_client& c, std::string_view text) { (void)c, (void)text; }
    /// The connection ended after connect().
    virtual void on_closed(nats_client& c, const std::string& why) { (void)c, (void)why; }
  };
  /// Called when the PONG answering a PING arrives (true, its read time) or the connection ends first (false).
  using pong_handler = std::function<void(bool ok, std::uint64_t recv_ns)>;

  /// A client whose I/O runs on `executor`; `h` may be null and must outlive it.
  nats_client(boost::asio::any_io_executor executor, hooks* h);

  /// Connects, sends CONNECT {"verbose":false,"pedantic":false,"headers":false,...} and PING,
  /// and waits for the PONG; "" on success, else what failed. `echo` false: the server does not
  /// deliver this connection's own publishes to its subscriptions.
  boost::asio::awaitable<std::string> connect(ws_target target, std::optional<boost::asio::ip::address> source,
                                              std::chrono::milliseconds timeout, bool echo);
  /// SUB subject sid.
  void subscribe(std::string_view subject, unsigned sid);
  /// PUB subject payload, followed by a PING whose PONG calls `flushed` (the server has then
  /// processed the PUB: NATS's nearest thing to an ack). One WebSocket message.
  void publish(std::string_view subject, std::string_view payload, pong_handler flushed);
  /// PING; waits for the PONG (true) or fails on timeout or disconnect.
  boost::asio::awaitable<bool> flush(std::chrono::milliseconds timeout);

  /// Closes the WebSocket after what is queued.
  void close();
  [[nodiscard]] bool is_open() const noexcept { return open_.load(std::memory_order_relaxed); }
  [[nodiscard]] const boost::asio::any_io_executor& executor() const noexcept { return executor_; }
  /// Protocol violations seen (unparseable server bytes).
  [[nodiscard]] std::uint64_t protocol_errors() const noexcept { return protocol_errors_.load(); }

 private:
  static boost::asio::awaitable<void> read_loop(std::shared_ptr<nats_client> self);
  void on_event(const nats_event& e, std::uint64_t recv_ns);
  void fail_pongs();

  boost::asio::any_io_executor executor_;
  hooks* hooks_;
  std::shared_ptr<ws_connection> conn_;
  nats_parser parser_;
  std::deque<pong_handler> pongs_;
  std::atomic<bool> open_{false};
  std::atomic<std::uint64_t> protocol_errors_{0};
};

}  // namespace sealcast::bench
