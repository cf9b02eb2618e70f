#pragma once

// Listener plumbing shared by the gateway and the admin HTTP server.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "gateway/endpoint.hpp"
#include "common/error.hpp"

namespace sealcast::broker::detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

/// Parses "host:port" or "[v6]:port"; "localhost" and numeric hosts only (no DNS at bind time).
[[nodiscard]] result<tcp::endpoint> parse_listen(std::string_view listen);

/// A server TLS context from PEM files (TLS 1.2+, idle buffers released); config_error otherwise.
[[nodiscard]] result<std::shared_ptr<asio::ssl::context>> make_server_tls(const std::string& cert_file,
                                                                          const std::string& key_file);

/// The TLS context a listener's `tls_cert`/`tls_key` ask for: null when both are empty,
/// config_error ("<section>.tls_cert and <section>.tls_key must be set together") when only one is.
[[nodiscard]] result<std::shared_ptr<asio::ssl::context>> load_tls(const std::string& cert_file,
                                                                   const std::string& key_file,
                                                                   std::string_view section);

/// A listening socket and the threads that run its io_context: the part both servers share.
class listener {
 public:
  /// Receives each accepted socket, already bound to a strand of its own.
  using accept_fn = std::function<void(tcp::socket)>;

  /// One io_context run by the `threads` given to start(); each socket gets a strand of its own.
  /// `component` names the server in log lines ("gateway", "admin").
  listener(asio::io_context& ioc, std::string component) : contexts_{&ioc}, component_(std::move(component)) {}
  /// Shards: one thread per io_context, sockets spread round-robin over them and bound to their
  /// context's executor (one thread: no strand needed).
  listener(std::vector<asio::io_context*> shards, std::string component)
      : contexts_(std::move(shards)), sharded_(true), component_(std::move(component)) {}
  ~listener() { join(); }
  listener(const listener&) = delete;
  listener& operator=(const listener&) = delete;

  /// Binds (SO_REUSEADDR) and listens on `at`, starts accepting and runs `threads` io threads
  /// (sharded: one per context, `threads` is ignored).
  [[nodiscard]] result<endpoint> start(const tcp::endpoint& at, unsigned threads, accept_fn on_accept);
  /// Stops accepting; the io threads keep running.
  void close_acceptor();
  /// Lets the io threads run out of work (at most 2 s, then stops the io_context) and joins them.
  void join();

 private:
  std::vector<asio::io_context*> contexts_;
  bool sharded_ = false;
  std::string component_;
  std::shared_ptr<tcp::acceptor> acceptor_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
};

/// True when the comma-separated header list (Sec-WebSocket-Protocol) has `wanted`, exactly.
[[nodiscard]] bool list_offers(std::string_view list, std::string_view wanted);

/// "ip:port" of a connected socket's peer, or "?" when unknown.
[[nodiscard]] std::string remote_string(const tcp::socket& socket);

}  // namespace sealcast::broker::detail
