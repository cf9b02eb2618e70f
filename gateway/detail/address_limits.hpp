#pragma once

// gateway_options::max_connections_per_address: how many connections one source address may
// hold. Implemented in gateway.cpp.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "gateway/connection.hpp"

namespace sealcast::broker::detail {

/// The key connections are counted under for a peer "ip:port" ("[v6]:port"): the IPv4 address,
/// or the /64 of an IPv6 address (one host's share of a network; an IPv4-mapped IPv6 address
/// counts as its IPv4 address). Empty when `remote` does not parse.
[[nodiscard]] std::string address_key(std::string_view remote);

/// Counts connections per source address and refuses those beyond the limit, in three places:
///  - at accept, a TCP connection is dropped at once when its address already holds twice the
///    limit (open WebSocket sessions plus exchanges that have not upgraded), so that nobody can
///    pile up idle sockets;
///  - at the upgrade request, an address holding `limit` open sessions gets HTTP 503;
///  - when a session opens (the exact count, racing upgrades included), one beyond the limit is
///    closed with 1008 "too many connections from this address" without reaching the handler.
/// It wraps the gateway's connection_handler to see sessions open and close.
class address_limiter final : public connection_handler {
 public:
  address_limiter(connection_handler& inner, std::size_t limit) : inner_(inner), limit_(limit) {}

  /// A TCP connection from `key` was accepted; false (nothing counted) when it must be dropped.
  [[nodiscard]] bool on_accept(const std::string& key);
  /// An accepted connection ended or handed off to a WebSocket session.
  void on_exchange_end(const std::string& key);
  /// Whether `key` may open one more WebSocket session.
  [[nodiscard]] bool may_upgrade(const std::string& key);

  void on_open(std::shared_ptr<connection> conn) override;
  void on_text(const std::shared_ptr<connection>& conn, std::string&& frame) override;
  void on_close(const std::shared_ptr<connection>& conn, const close_reason& why) override;

 private:
  struct counts {
    std::size_t pending = 0;  ///< accepted, not upgraded (yet)
    std::size_t open = 0;     ///< WebSocket sessions the handler has seen open
  };
  void forget_if_idle(std::unordered_map<std::string, counts>::iterator it);

  connection_handler& inner_;
  const std::size_t limit_;
  std::mutex mu_;
  std::unordered_map<std::string, counts> by_address_;
  std::unordered_set<std::uint64_t> refused_;  ///< sessions closed at open, until they end
  std::atomic<std::size_t> refused_count_{0};  ///< refused_.size(), read without the lock
};

}  // namespace sealcast::broker::detail
