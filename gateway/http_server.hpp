#pragma once

// The admin HTTP/1.1 server: its own listener, a route table, handlers that answer later from
// any thread (they ask actors), optional bearer token, and Server-Sent Events streams.
// Free of Asio and Beast; the implementation is in http_server.cpp and http_session.cpp.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gateway/endpoint.hpp"
#include "common/error.hpp"

namespace sealcast::broker {

/// Header name/value pairs, in order.
using header_list = std::vector<std::pair<std::string, std::string>>;

/// Admin server settings; the defaults are those of the `admin.*` configuration keys.
struct http_server_options {
  std::string listen = "127.0.0.1:7801";   ///< "host:port"; port 0 picks a free port
  unsigned io_threads = 1;                 ///< threads running the io_context
  std::string tls_cert;                    ///< PEM chain file; with tls_key set: https://
  std::string tls_key;                     ///< PEM private key file
  std::string admin_token;                 ///< when set, token routes need "Authorization: Bearer <token>"
  /// Host header values served besides loopback names and `listen`: "host" (any port) or
  /// "host:port" (that port; a Host without a port counts as 80 or 443).
  std::vector<std::string> allowed_hosts;
  std::size_t body_limit = 1048576;        ///< larger request bodies get 413
  std::size_t header_limit = 16384;        ///< larger request headers get 431
  std::uint32_t read_timeout_ms = 30000;   ///< a request must arrive within this (also keep-alive idle)
  std::uint32_t handler_timeout_ms = 30000;  ///< a handler that has not responded by then: 504
  std::size_t max_connections = 1024;      ///< further connections are closed at once
  std::size_t stream_queue_bytes = 1048576;  ///< unsent event-stream bytes that end the stream
};

/// Which Host and Origin headers the admin server accepts. The Host check defeats DNS rebinding
/// (a page on another site whose name now resolves to this listener sends that site's name as
/// Host); the Origin check keeps pages of other sites from sending state-changing requests.
class host_allow_list {
 public:
  /// `listen` as in http_server_options; `extra` the allowed_hosts entries.
  host_allow_list(std::string_view listen, const std::vector<std::string>& extra);

  /// The first entry of `extra` that is not "host" or "host:port", or "" when all are.
  [[nodiscard]] const std::string& bad_entry() const { return bad_entry_; }

  /// True when `host` (a Host header) names this server: a loopback name or address with any
  /// port or none; the listen host without a port or with the configured or `local_port`; an
  /// extra entry. Names compare case-insensitively; anything unparsable is refused.
  [[nodiscard]] bool host_allowed(std::string_view host, std::uint16_t local_port) const;

  /// True when `origin` (an Origin header) is the origin of the request, http or https with the
  /// authority of its `host` header (default ports filled in), or is the origin of an extra
  /// entry. "null" and anything unparsable are refused.
  [[nodiscard]] bool origin_allowed(std::string_view origin, std::string_view host) const;

 private:
  struct authority {
    std::string host;  ///< lower case; IPv6 in brackets, canonical
    std::optional<std::uint16_t> port;
  };
  [[nodiscard]] static std::optional<authority> parse(std::string_view text);
  [[nodiscard]] bool extra_matches(const authority& a, std::uint16_t default_port) const;

  std::optional<authority> listen_;
  std::vector<authority> extra_;
  std::string bad_entry_;
};

/// A parsed request as a handler sees it; valid for the duration of the handler call.
struct http_request {
  std::string method;  ///< "GET", "POST", ...
  std::string target;  ///< as sent: path and query, still percent-encoded
  std::string path;    ///< decoded path
  std::vector<std::pair<std::string, std::string>> query;       ///< decoded query parameters, in order
  std::map<std::string, std::string, std::less<>> params;       ///< `{name}` segments of the route
  header_list headers;  ///< as sent
  std::string body;
  std::string remote;   ///< peer "ip:port"

  /// The first query parameter named `name`.
  [[nodiscard]] std::optional<std::string_view> query_value(std::string_view name) const;
  /// The first header named `name` (case-insensitive).
  [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const;
  /// A route parameter, empty when the route has none of that name.
  [[nodiscard]] std::string_view param(std::string_view name) const;
};

/// A Server-Sent Events response in progress. Thread-safe; never blocks.
class event_stream {
 public:
  virtual ~event_stream() = default;
  /// Queues a chunk ("data: ...\n\n"); false once the stream is closed (by either side) or when
  /// the unsent bytes would pass stream_queue_bytes, which closes it.
  virtual bool write(std::string chunk) = 0;
  /// Ends the response after the queued chunks; the connection closes.
  virtual void close() = 0;
  /// False once closed by close(), by the client going away, or by stop().
  [[nodiscard]] virtual bool is_open() const = 0;
};

namespace detail {
class http_exchange;
}

/// The way a handler answers. Copyable; call it from any thread, once: the first of respond()
/// or stream() wins and later calls do nothing. If every copy is dropped without an answer the
/// client gets 500; if none comes within handler_timeout_ms, 504.
class responder {
 public:
  /// Used by the server.
  explicit responder(std::shared_ptr<detail::http_exchange> exchange) : ex_(std::move(exchange)) {}

  /// Sends a complete response (Content-Length set; keep-alive as the client asked).
  void respond(unsigned status, std::string content_type, std::string body, header_list extra = {}) const;
  /// Switches to a streaming response: 200, `Content-Type: text/event-stream`, no length, and
  /// `Connection: close`; chunks go out as they are written. Returns a closed stream if an
  /// answer was already given.
  [[nodiscard]] std::shared_ptr<event_stream> stream(header_list extra = {}) const;

 private:
  std::shared_ptr<detail::http_exchange> ex_;
};

/// A route handler. Called on the connection's strand: it must not block; it answers through
/// the responder now or later from any thread.
using http_handler = std::function<void(const http_request&, responder)>;

/// The admin HTTP server. Register routes, then start(); stop() (or destroy) from a thread that
/// is not one of its io threads.
class http_server {
 public:
  explicit http_server(http_server_options options);
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// Adds a route before start(): `method` is "GET", "POST", ...; `pattern` like
  /// "/admin/groups/{id}". Routes with `needs_token` false (probes) skip the bearer check.
  /// Unknown paths get 404; a known path with another method gets 405 with an Allow header.
  void route(std::string method, std::string_view pattern, http_handler handler, bool needs_token = true);

  /// Adds a GET probe (/healthz, /readyz): no token and any Host, since it reveals nothing and
  /// orchestrators address it by whatever name or address they have. Every other route refuses
  /// a Host that host_allow_list does not accept with 421.
  void probe(std::string_view pattern, http_handler handler);

  /// Loads TLS material, binds, listens and starts the io threads; returns the bound address.
  /// A bad allowed_hosts entry is a config_error.
  [[nodiscard]] result<endpoint> start();

  /// Stops accepting, ends open streams and connections, then joins the io threads. Idempotent.
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace sealcast::broker
