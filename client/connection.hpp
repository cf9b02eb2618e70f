#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include "client/url.hpp"

// One client WebSocket (ws:// or wss://): resolve, connect, TLS, upgrade with subprotocol
// sealcast.v1, read messages one at a time, and write through a queue drained by a single writer
// coroutine (one async_write at a time). Generalised from bench/ws_connection. Beast and
// OpenSSL stay in the .cpp.

namespace sealcast::client::detail {

/// TLS settings for wss://.
struct tls_settings {
  bool verify = true;
  std::string ca_file;
};

/// A client WebSocket connection; use through shared_ptr, only from its executor.
class ws_connection : public std::enable_shared_from_this<ws_connection> {
 public:
  explicit ws_connection(boost::asio::any_io_executor executor);
  ~ws_connection();
  ws_connection(const ws_connection&) = delete;
  ws_connection& operator=(const ws_connection&) = delete;

  /// Connects and upgrades within `timeout`. Returns "" on success, else what failed. Starts the
  /// writer on success.
  boost::asio::awaitable<std::string> open(ws_url url, tls_settings tls, std::chrono::milliseconds timeout);

  /// The next message; the view stays valid until the next read(). An error once the connection
  /// has ended.
  boost::asio::awaitable<std::pair<boost::system::error_code, std::string_view>> read();

  /// Queues one text frame for the writer; false when the connection is not open.
  bool send(std::string text);
  /// Writes what is queued, then starts the close handshake (code 1000).
  void close();
  /// Drops the socket at once (a pending read() ends with an error).
  void abort();

  /// True from a successful open() until the connection ends or close() is called.
  [[nodiscard]] bool is_open() const noexcept;
  /// The close reason the peer sent, if any ("4001 ...").
  [[nodiscard]] std::string close_reason() const;

 private:
  struct impl;
  static boost::asio::awaitable<void> writer(std::shared_ptr<ws_connection> self);

  boost::asio::any_io_executor executor_;
  std::unique_ptr<impl> impl_;
};

}  // namespace sealcast::client::detail
