#pragma once

// The client-facing listener: WebSocket upgrades on one path, a plain-HTTP health probe, TLS
// when configured. Generic: it moves text frames between sockets and a connection_handler and
// knows nothing about groups or keys.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "gateway/connection.hpp"
#include "gateway/endpoint.hpp"
#include "common/error.hpp"

namespace sealcast::broker {

/// Joins several queued frames into one frame (e.g. PROTOCOL.md section 7's `batch`).
using coalesce_fn = std::function<std::string(std::span<const std::shared_ptr<const std::string>>)>;

/// Gateway settings; the defaults are those of the `gateway.*` and `limits.*` configuration keys.
struct gateway_options {
  std::string listen = "127.0.0.1:7800";  ///< "host:port"; port 0 picks a free port
  unsigned io_threads = 1;                ///< io shards: one thread and one io_context each
  std::size_t max_frame_bytes = 1048576;  ///< larger client messages close with 1009
  std::uint32_t auth_timeout_ms = 5000;   ///< 0 disables; else unauthenticated peers get 4001
  /// Text frame sent just before the 4001 close; empty sends none.
  std::string auth_timeout_frame =
      R"({"type":"error","code":"auth_failed","message":"no hello within the auth timeout"})";
  std::uint32_t idle_timeout = 300;        ///< seconds; pings at half, closes at full; 0 disables
  std::uint32_t handshake_timeout_ms = 10000;  ///< TLS + HTTP upgrade must finish within this
  std::uint32_t close_timeout_ms = 5000;   ///< a close that has not finished by then drops the socket
  std::size_t max_connections = 100000;    ///< further upgrades get HTTP 503
  /// WebSocket connections one source address (IPv6: one /64) may hold; 0 = unlimited. Further
  /// upgrades get HTTP 503; at twice this many (upgraded or not) new TCP connections are dropped.
  std::size_t max_connections_per_address = 0;
  std::size_t slow_consumer_bytes = 8388608;  ///< queued bytes that disconnect a reader (1008)
  std::size_t send_window_bytes = 2097152;    ///< connection::offer() queues up to this many bytes
  std::uint32_t stall_timeout_ms = 30000;     ///< a queue that does not move for this long: 1008
  std::string tls_cert;                    ///< PEM chain file; with tls_key set: wss://
  std::string tls_key;                     ///< PEM private key file
  std::string ws_path = "/ws";             ///< the only path that upgrades; others get 404
  std::string health_path = "/healthz";    ///< GET answers 200 "ok" as plain HTTP
  /// Accepted when the client offers it; a client offering none, or only others, gets none.
  std::string subprotocol = "sealcast.v2";
  std::size_t http_body_limit = 4096;      ///< body limit on requests to this listener
  std::size_t http_header_limit = 8192;    ///< header limit on requests to this listener
  coalesce_fn coalesce;                    ///< unset: queued frames are sent one by one
  std::size_t coalesce_max_items = 64;     ///< at most this many frames per coalesced frame
  std::size_t coalesce_max_bytes = 65536;  ///< and at most this many bytes of input frames
};

/// The client WebSocket listener. Construct, start(), and stop() (or destroy) from a thread
/// that is not one of its io threads.
class gateway {
 public:
  /// `handler` must outlive the gateway.
  gateway(gateway_options options, connection_handler& handler);
  ~gateway();
  gateway(const gateway&) = delete;
  gateway& operator=(const gateway&) = delete;

  /// Loads TLS material, binds, listens and starts the io threads; returns the bound address.
  [[nodiscard]] result<endpoint> start();

  /// Stops accepting, closes every connection with 1001 "going away" (graceful, bounded by
  /// close_timeout_ms), then joins the io threads. Idempotent; called by the destructor.
  void stop();

  /// Open WebSocket connections.
  [[nodiscard]] std::size_t connection_count() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace sealcast::broker
