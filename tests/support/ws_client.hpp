#pragma once

// Small blocking WebSocket and HTTP clients for integration tests. Every call is bounded by a
// timeout; nothing here throws. TLS, when asked for, does not verify the server certificate.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sealcast::test {

using namespace std::chrono_literals;

/// Header name/value pairs.
using header_pairs = std::vector<std::pair<std::string, std::string>>;

/// Where and how to open a WebSocket.
struct ws_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string path = "/ws";
  std::vector<std::string> subprotocols;  ///< offered in Sec-WebSocket-Protocol; empty: none
  bool tls = false;                       ///< wss://, certificate not verified
  std::chrono::milliseconds timeout = 5s; ///< connect + TLS + upgrade
};

/// A client WebSocket. A read that times out stays pending, so a later read_text() continues it
/// and no message is lost.
class ws_client {
 public:
  /// Connects and upgrades; nullptr on failure, with `error` (and, when the server answered the
  /// upgrade with something other than 101, its HTTP status in `http_status`).
  static std::unique_ptr<ws_client> connect(const ws_options& options, std::string* error = nullptr,
                                            int* http_status = nullptr);
  ~ws_client();
  ws_client(const ws_client&) = delete;
  ws_client& operator=(const ws_client&) = delete;

  /// Sends one text (or binary) message; false on failure or timeout.
  bool send_text(std::string_view text, std::chrono::milliseconds timeout = 5s);
  bool send_binary(std::string_view data, std::chrono::milliseconds timeout = 5s);
  /// The next text message, or nullopt on timeout or once the connection has closed.
  std::optional<std::string> read_text(std::chrono::milliseconds timeout = 5s);
  /// Reads (and discards messages) until the server's close arrives; returns its close code, or
  /// 0 if the connection ended without one or the time ran out.
  std::uint16_t wait_close(std::chrono::milliseconds timeout = 5s);
  /// Sends a close frame and waits briefly for the server's answer.
  void close(std::uint16_t code = 1000);

  /// True once the connection has ended (close frame, EOF or error).
  [[nodiscard]] bool closed() const;
  /// The close code the server sent (0 if none or not closed yet).
  [[nodiscard]] std::uint16_t close_code() const;
  /// The close reason the server sent.
  [[nodiscard]] std::string close_reason() const;
  /// The negotiated subprotocol ("" when none).
  [[nodiscard]] std::string subprotocol() const;
  /// Why the connection ended, for diagnostics ("" while open).
  [[nodiscard]] std::string error() const;

  struct impl;

 private:
  explicit ws_client(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

/// A complete HTTP response (status 0 and `error` set when the request failed).
struct http_result {
  int status = 0;
  header_pairs headers;
  std::string body;
  std::string error;
  /// The first header named `name` (case-insensitive), "" when absent.
  [[nodiscard]] std::string header(std::string_view name) const;
};

/// One HTTP/1.1 request on a fresh connection.
http_result http_call(const std::string& host, std::uint16_t port, const std::string& method,
                         const std::string& target, const header_pairs& headers = {}, std::string body = {},
                         bool tls = false, std::chrono::milliseconds timeout = 5s);
/// GET shorthand.
http_result http_get(const std::string& host, std::uint16_t port, const std::string& target,
                     const header_pairs& headers = {}, bool tls = false, std::chrono::milliseconds timeout = 5s);

/// Several requests on one kept-alive connection, in order; stops at the first failure.
std::vector<http_result> http_keep_alive(const std::string& host, std::uint16_t port,
                                         const std::vector<std::string>& targets,
                                         std::chrono::milliseconds timeout = 5s);

/// A GET whose response body is read as it streams (Server-Sent Events).
class http_stream_client {
 public:
  /// Sends the request and reads the response header; nullptr (and `error`) on failure.
  static std::unique_ptr<http_stream_client> open(const std::string& host, std::uint16_t port,
                                                  const std::string& target, const header_pairs& headers = {},
                                                  std::string* error = nullptr,
                                                  std::chrono::milliseconds timeout = 5s);
  ~http_stream_client();
  http_stream_client(const http_stream_client&) = delete;
  http_stream_client& operator=(const http_stream_client&) = delete;

  [[nodiscard]] int status() const;
  [[nodiscard]] std::string header(std::string_view name) const;
  /// Reads until the body received so far contains `needle`; false on timeout or EOF first.
  bool read_until(std::string_view needle, std::chrono::milliseconds timeout = 5s);
  /// Reads until the server closes the connection; false on timeout.
  bool read_to_eof(std::chrono::milliseconds timeout = 5s);
  /// The body received so far.
  [[nodiscard]] const std::string& body() const;

  struct impl;

 private:
  explicit http_stream_client(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace sealcast::test
