#pragma once

// State shared by the gateway's listener and every session it starts. Sessions hold it by
// shared_ptr, so the io_context outlives every connection object the broker may still hold.

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include "gateway/detail/address_limits.hpp"
#include "gateway/detail/live_set.hpp"
#include "gateway/gateway.hpp"

namespace sealcast::broker::detail {

namespace asio = boost::asio;

/// One io thread and the connections it owns (ws_session.cpp implements post()).
struct io_shard final : shard_sink {
  asio::io_context ioc{1};
  void post(std::vector<item> items) override;

  // On the shard's thread only: connections given frames since the writers last started. The
  // writers start from one task posted behind whatever the shard has queued meanwhile, so
  // batches (and reads) that arrive in between add to the same writes.
  std::vector<std::shared_ptr<connection>> dirty;
  bool start_posted = false;
};

/// The gateway's shared state; see gateway.cpp for the listener and ws_session.cpp for sessions.
struct gateway_state {
  gateway_state(gateway_options o, connection_handler& h)
      : options(std::move(o)),
        per_address(h, options.max_connections_per_address),
        handler(options.max_connections_per_address != 0 ? per_address : h) {
    const unsigned n = options.io_threads == 0 ? 1 : options.io_threads;
    for (unsigned i = 0; i < n; ++i) shards.push_back(std::make_unique<io_shard>());
  }

  /// The shards' io_contexts, for the listener.
  [[nodiscard]] std::vector<asio::io_context*> contexts() const {
    std::vector<asio::io_context*> out;
    for (auto& s : shards) out.push_back(&s->ioc);
    return out;
  }

  /// The shard whose io_context runs `ex` (a socket's executor); the first if none does.
  template <class Executor>
  [[nodiscard]] io_shard& shard_of(const Executor& ex) const {
    auto& ctx = asio::query(ex, asio::execution::context);
    for (auto& s : shards)
      if (&s->ioc == &ctx) return *s;
    return *shards.front();
  }

  const gateway_options options;
  address_limiter per_address;  ///< in use (as `handler`) when max_connections_per_address != 0
  connection_handler& handler;
  std::vector<std::unique_ptr<io_shard>> shards;
  std::shared_ptr<asio::ssl::context> tls;  ///< null for plain ws://
  live_set live;                            ///< sessions and pre-upgrade exchanges, for stop()
  std::atomic<std::uint64_t> next_id{1};
  std::atomic<std::size_t> ws_count{0};  ///< open WebSocket sessions (max_connections)
};

}  // namespace sealcast::broker::detail
