#pragma once

// State shared by the gateway's listener and every session it starts. Sessions hold it by
// shared_ptr, so the io_context outlives every connection object the broker may still hold.

#include <atomic>
#include <cstdint>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include "broker/detail/address_limits.hpp"
#include "broker/detail/live_set.hpp"
#include "broker/gateway.hpp"

namespace sealcast::broker::detail {

namespace asio = boost::asio;

/// The gateway's shared state; see gateway.cpp for the listener and ws_session.cpp for sessions.
struct gateway_state {
  gateway_state(gateway_options o, connection_handler& h)
      : options(std::move(o)),
        per_address(h, options.max_connections_per_address),
        handler(options.max_connections_per_address != 0 ? per_address : h),
        ioc(options.io_threads <= 1 ? 1 : static_cast<int>(options.io_threads)) {}

  const gateway_options options;
  address_limiter per_address;  ///< in use (as `handler`) when max_connections_per_address != 0
  connection_handler& handler;
  asio::io_context ioc;
  std::shared_ptr<asio::ssl::context> tls;  ///< null for plain ws://
  live_set live;                            ///< sessions and pre-upgrade exchanges, for stop()
  std::atomic<std::uint64_t> next_id{1};
  std::atomic<std::size_t> ws_count{0};  ///< open WebSocket sessions (max_connections)
};

}  // namespace sealcast::broker::detail
