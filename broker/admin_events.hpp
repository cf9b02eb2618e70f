#pragma once

// GET /admin/events (history from the store) and GET /admin/events/stream (Server-Sent Events:
// history replay, then live events, heartbeats while idle).

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "actors/services.hpp"
#include "broker/admin_support.hpp"
#include "gateway/http_server.hpp"
#include "persistence/records.hpp"

namespace sealcast::broker::admin {

/// The filters both endpoints take: `type` (one name or several, comma-separated), `group`, `user`.
struct event_filter {
  std::vector<std::string> types;  ///< empty: every type
  std::optional<id16> group;
  std::optional<id16> user;

  [[nodiscard]] bool matches(const persistence::event_record& e) const;
};

/// Parses the filters; errc::bad_request for an unknown type or a bad id.
[[nodiscard]] result<event_filter> parse_event_filter(const http_request& req);
/// One event as the API shows it: {"seq","type","ts","group","user","message","data"}.
[[nodiscard]] std::string event_json(const persistence::event_record& e);

struct sse_session;

/// The open event streams: subscribes each to the event bus, replays history without gaps or
/// duplicates, sends heartbeats, and unsubscribes streams whose client went away.
class event_streams {
 public:
  explicit event_streams(std::shared_ptr<actors::services> svc);
  ~event_streams();
  event_streams(const event_streams&) = delete;
  event_streams& operator=(const event_streams&) = delete;

  /// GET /admin/events: store reads run on `w`.
  void list(const http_request& req, const responder& r, worker& w);
  /// GET /admin/events/stream: the replay runs on `w`.
  void open(const http_request& req, const responder& r, const std::shared_ptr<worker>& w);
  /// Heartbeats due streams and drops closed ones; runs on the worker about every 200 ms.
  void tick();
  /// Ends every stream and its subscription.
  void close_all();
  /// How many streams are open.
  [[nodiscard]] std::size_t count() const;

 private:
  std::shared_ptr<actors::services> svc_;
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<sse_session>> sessions_;
};

}  // namespace sealcast::broker::admin
