#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/system/error_code.hpp>

#include "bench/options.hpp"

// One client WebSocket for the bench: connect (optionally from a chosen loopback source address,
// so that tens of thousands of connections do not exhaust one address's ephemeral ports),
// upgrade, read messages one at a time, and write through a queue drained by a single writer
// coroutine (one async_write at a time). Everything runs on the executor given at construction,
// which must be a strand when the io_context has several threads. Beast stays in the .cpp.

namespace sealcast::bench {

/// How a connection presents itself: Sealcast wants subprotocol sealcast.v1 and text frames;
/// nats-server's WebSocket listener takes no subprotocol and binary frames.
struct ws_flavour {
  std::string subprotocol = "sealcast.v1";  ///< "" sends no Sec-WebSocket-Protocol
  bool binary = false;                      ///< frames written as binary instead of text
};

/// A client WebSocket connection; use through shared_ptr, only from its executor.
class ws_connection : public std::enable_shared_from_this<ws_connection> {
 public:
  /// A connection whose I/O runs on `executor`.
  explicit ws_connection(boost::asio::any_io_executor executor);
  ~ws_connection();
  ws_connection(const ws_connection&) = delete;
  ws_connection& operator=(const ws_connection&) = delete;

  /// Connects, binding `source` first when given, and upgrades (with subprotocol sealcast.v1
  /// unless `flavour` says otherwise). Returns "" on success, else what failed. Starts the
  /// writer on success. (No default for `flavour`: GCC 12 destroys a default argument's
  /// temporary of a co_awaited coroutine call twice; callers pass a named object.)
  boost::asio::awaitable<std::string> open(ws_target target, std::optional<boost::asio::ip::address> source,
                                           std::chrono::milliseconds timeout, ws_flavour flavour);

  /// The next message; the view stays valid until the next read(). An error code once the
  /// connection has ended (websocket::error::closed after a close handshake).
  boost::asio::awaitable<std::pair<boost::system::error_code, std::string_view>> read();

  /// Queues one message (a text frame, or binary per the flavour) for the writer.
  void send(std::string text);
  /// Writes what is queued, then starts the close handshake (code 1000).
  void close();
  /// Drops the socket at once.
  void abort();

  /// True from a successful open() until the connection ends or close() is called.
  [[nodiscard]] bool is_open() const noexcept;
  /// Bytes queued and not yet written.
  [[nodiscard]] std::size_t queued_bytes() const noexcept;
  /// The executor the connection's I/O runs on.
  [[nodiscard]] const boost::asio::any_io_executor& executor() const noexcept { return executor_; }

 private:
  struct impl;
  static boost::asio::awaitable<void> writer(std::shared_ptr<ws_connection> self);

  boost::asio::any_io_executor executor_;
  std::unique_ptr<impl> impl_;
};

}  // namespace sealcast::bench
