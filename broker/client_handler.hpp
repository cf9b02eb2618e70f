#pragma once

#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>

#include "actors/services.hpp"
#include "gateway/connection.hpp"
#include "common/bytes.hpp"
#include "protocol/client_frames.hpp"

namespace sealcast::broker {

/// The bridge between client WebSocket connections and the actors: sends the challenge,
/// verifies `hello`, parses every frame once (protocol/), answers malformed frames itself, and
/// forwards requests to the actors: group frames to the group's actor (directly once the route is
/// known), the rest to the directory or the directs actor. Runs on the gateway's io threads and
/// never blocks.
class client_handler final : public connection_handler {
 public:
  explicit client_handler(std::shared_ptr<actors::services> svc);

  void on_open(std::shared_ptr<connection> conn) override;
  void on_text(const std::shared_ptr<connection>& conn, std::string&& frame) override;
  void on_close(const std::shared_ptr<connection>& conn, const close_reason& why) override;

  /// Joins queued frames into one `batch` frame (the gateway's coalesce hook).
  [[nodiscard]] static std::string coalesce(std::span<const std::shared_ptr<const std::string>> frames);

 private:
  struct session;
  void on_hello(const std::shared_ptr<connection>& conn, session& s, std::string_view frame);
  /// Sends a group frame to the group's actor: directly over the route the connection holds, or
  /// through the directory, which resolves (loads) the group and hands the route back
  /// (actors/group_routes.hpp).
  void to_group(const std::shared_ptr<connection>& conn, session& s, const id16& group, protocol::client_frame&& f);
  /// The connection's rate limits (limits.*_rate): true when the request may go on; otherwise
  /// it has been answered with rate_limited (acks, which have no reply, are dropped).
  bool admit(const std::shared_ptr<connection>& conn, session& s, const protocol::client_frame& f);

  std::shared_ptr<actors::services> svc_;
  std::mutex mutex_;
  /// Authenticated connections per user (limits.connections_per_user), under mutex_.
  std::unordered_map<id16, std::uint32_t, id16_hash> user_conns_;
};

}  // namespace sealcast::broker
