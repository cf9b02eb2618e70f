#pragma once

// State shared by the admin server's listener (http_server.cpp) and its sessions
// (http_session.cpp).

#include <atomic>
#include <cstdint>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "gateway/detail/http_router.hpp"
#include "gateway/detail/live_set.hpp"
#include "gateway/http_server.hpp"

namespace sealcast::broker::detail {

namespace asio = boost::asio;

/// The admin server's shared state. Sessions hold it by shared_ptr.
struct http_server_state {
  explicit http_server_state(http_server_options o)
      : options(std::move(o)), hosts(options.listen, options.allowed_hosts),
        ioc(options.io_threads <= 1 ? 1 : static_cast<int>(options.io_threads)) {}

  const http_server_options options;
  const host_allow_list hosts;  ///< Host and Origin checks, from options
  http_router router;  ///< filled before start(), read-only afterwards
  asio::io_context ioc;
  std::shared_ptr<asio::ssl::context> tls;  ///< null for plain http://
  live_set live;
  std::atomic<std::uint64_t> next_id{1};
  std::atomic<std::size_t> count{0};  ///< open connections (max_connections)
};

/// Serves requests on an accepted connection until it closes (TLS first when configured).
void start_http_session(std::shared_ptr<http_server_state> state, asio::ip::tcp::socket socket);

}  // namespace sealcast::broker::detail
