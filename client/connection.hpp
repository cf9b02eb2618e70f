#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/system/error_code.hpp>

#include "client/url.hpp"

// One client WebSocket (ws:// or wss://): resolve, connect, TLS, upgrade with subprotocol
// sealcast.v1, read messages one at a time, and write through a queue drained by a single writer
// coroutine (one async_write at a time). Shared by the client library and sealcast-bench (which
// binds source addresses and also speaks to nats-server). Beast and OpenSSL stay in the .cpp.

namespace sealcast::client::detail {

/// TLS settings for wss://.
struct tls_settings {
  bool verify = true;
  std::string ca_file;
};

/// Where a connection comes from and how it presents itself. The defaults are the client
/// library's; sealcast-bench sets the rest.
struct connect_options {
  /// Bind this local address before connecting (with IP_BIND_ADDRESS_NO_PORT on Linux, so that
  /// the ephemeral port is chosen per 4-tuple): spreads tens of thousands of loopback
  /// connections over several source addresses.
  std::optional<boost::asio::ip::address> source;
  /// Sec-WebSocket-Protocol to ask for; "" sends none (nats-server's WebSocket listener).
  std::string subprotocol = "sealcast.v1";
  /// Write binary frames instead of text frames.
  bool binary = false;
  /// The User-Agent of the upgrade request.
  std::string user_agent = "sealcast-client";
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
  /// open() with explicit connect options. A host that is an IP address is not resolved. (No
  /// default argument: GCC 12 destroys a default argument's temporary of a co_awaited coroutine
  /// call twice; callers pass a named object.)
  boost::asio::awaitable<std::string> open(ws_url url, tls_settings tls, std::chrono::milliseconds timeout,
                                           connect_options options);

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
  /// Bytes queued by send() and not yet written.
  [[nodiscard]] std::size_t queued_bytes() const noexcept;
  /// The executor the connection's I/O runs on.
  [[nodiscard]] const boost::asio::any_io_executor& executor() const noexcept { return executor_; }

 private:
  struct impl;
  static boost::asio::awaitable<void> writer(std::shared_ptr<ws_connection> self);

  boost::asio::any_io_executor executor_;
  std::unique_ptr<impl> impl_;
};

}  // namespace sealcast::client::detail
