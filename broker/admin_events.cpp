#include "broker/admin_events.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "actors/counters.hpp"
#include "actors/events.hpp"
#include "common/log.hpp"

namespace sealcast::broker::admin {

namespace {

using clock = std::chrono::steady_clock;

constexpr std::size_t list_default = 100;
constexpr std::size_t list_max = 1000;
/// Stored events one /admin/events request reads at most; past that it answers a `next` cursor.
constexpr std::size_t scan_budget = 20000;
constexpr std::size_t page = 1000;
/// A stream replays at most this many stored events; older history is for /admin/events.
/// It keeps the replay inside the stream's unsent-bytes bound.
constexpr std::size_t replay_max = 1000;
/// Live events held while the replay runs; a stream that would need more is ended.
constexpr std::size_t buffer_max = 10000;
constexpr std::uint64_t heartbeat_default_ms = 15000;
constexpr std::uint64_t heartbeat_min_ms = 100;
constexpr std::uint64_t heartbeat_max_ms = 600000;

boost::json::value opt_id(const std::optional<id16>& id) {
  if (!id) return nullptr;
  return boost::json::string(id->hex());
}

std::string sse_chunk(const persistence::event_record& e) {
  return "id: " + std::to_string(e.seq) + "\ndata: " + event_json(e) + "\n\n";
}

}  // namespace

// -- filters and JSON -------------------------------------------------------------------------

bool event_filter::matches(const persistence::event_record& e) const {
  if (!types.empty() && std::find(types.begin(), types.end(), e.type) == types.end()) return false;
  if (group && e.group != group) return false;
  if (user && e.user != user) return false;
  return true;
}

result<event_filter> parse_event_filter(const http_request& req) {
  event_filter f;
  if (auto t = req.query_value("type"); t && !t->empty()) {
    std::string_view rest = *t;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      const auto name = rest.substr(0, comma);
      actors::event_type parsed;
      if (!actors::parse_event_type(name, parsed))
        return error{errc::bad_request, "parameter 'type': unknown event type '" + std::string(name.substr(0, 64)) + "'"};
      f.types.emplace_back(name);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  auto g = parse_id_param(req, "group");
  if (!g) return std::move(g).err();
  f.group = *g;
  auto u = parse_id_param(req, "user");
  if (!u) return std::move(u).err();
  f.user = *u;
  return f;
}

std::string event_json(const persistence::event_record& e) {
  boost::json::object o;
  o["seq"] = e.seq;
  o["type"] = e.type;
  o["ts"] = e.ts_ms;
  o["group"] = opt_id(e.group);
  o["user"] = opt_id(e.user);
  o["message"] = opt_id(e.message);
  boost::system::error_code ec;
  auto data = boost::json::parse(e.data, ec);
  o["data"] = ec ? boost::json::value(boost::json::object{}) : std::move(data);
  return boost::json::serialize(o);
}

// -- one stream -------------------------------------------------------------------------------

/// One open event stream. Until its replay is done, live events wait in `buffer`; afterwards
/// the bus writes them directly. `floor` is the highest seq the client has (or was sent), so
/// nothing at or below it is sent again.
struct sse_session {
  std::shared_ptr<event_stream> stream;
  event_filter filter;
  std::optional<std::uint64_t> since;  ///< resume after this seq (Last-Event-ID or ?since=)
  std::chrono::milliseconds heartbeat{heartbeat_default_ms};

  std::mutex mutex;
  bool live = false;
  bool ended = false;
  std::uint64_t floor = 0;
  std::vector<persistence::event_record> buffer;
  std::uint64_t token = 0;
  clock::time_point next_heartbeat;

  /// Writes one event if it is new and matches; false when the stream is gone. Holds `mutex`.
  bool send_locked(const persistence::event_record& e) {
    if (e.seq <= floor) return true;
    floor = e.seq;
    if (!filter.matches(e)) return true;
    next_heartbeat = clock::now() + heartbeat;
    return stream->write(sse_chunk(e));
  }
};

event_streams::event_streams(std::shared_ptr<actors::services> svc) : svc_(std::move(svc)) {}

event_streams::~event_streams() { close_all(); }

std::size_t event_streams::count() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

void event_streams::open(const http_request& req, const responder& r, const std::shared_ptr<worker>& w) {
  auto filter = parse_event_filter(req);
  if (!filter) return respond_error(r, 400, filter.err().message);
  auto s = std::make_shared<sse_session>();
  s->filter = std::move(*filter);
  // Last-Event-ID (a reconnecting EventSource) wins over ?since=; both mean "after this seq".
  if (auto last = req.header("Last-Event-ID")) {
    auto v = parse_u64_text(*last, "header 'Last-Event-ID'");
    if (!v) return respond_error(r, 400, v.err().message);
    s->since = *v;
  } else if (req.query_value("since")) {
    auto v = parse_u64(req, "since", 0);
    if (!v) return respond_error(r, 400, v.err().message);
    s->since = *v;
  }
  auto hb = parse_u64(req, "heartbeat_ms", heartbeat_default_ms);
  if (!hb) return respond_error(r, 400, hb.err().message);
  if (*hb < heartbeat_min_ms || *hb > heartbeat_max_ms)
    return respond_error(r, 400, "parameter 'heartbeat_ms' must be between " + std::to_string(heartbeat_min_ms) +
                                     " and " + std::to_string(heartbeat_max_ms));
  s->heartbeat = std::chrono::milliseconds(*hb);
  s->floor = s->since.value_or(0);
  s->stream = r.stream({{"Cache-Control", "no-store"}, {"X-Accel-Buffering", "no"}});
  if (!s->stream->write(": sealcast event stream\nretry: 2000\n\n")) return;
  s->next_heartbeat = clock::now() + s->heartbeat;

  // Subscribe first, so nothing emitted from now on is missed; the bus says from which seq on
  // the listener sees everything, once all before it is in the store. The replay reads the
  // store up to there, then the buffered live events follow: no gap, no duplicate.
  auto svc = svc_;
  auto listener = [s, svc](const persistence::event_record& e) {
    std::lock_guard lock(s->mutex);
    if (s->ended) return;
    bool ok = true;
    if (!s->live) {
      if (s->buffer.size() < buffer_max)
        s->buffer.push_back(e);
      else
        ok = false;
    } else {
      ok = s->send_locked(e);
    }
    if (!ok) {
      s->ended = true;
      s->stream->close();
      actors::unsubscribe_events(*svc, s->token);
    }
  };
  auto ready = [s, svc, w](std::uint64_t first_live) {
    w->post([s, svc, first_live] {
      std::uint64_t from = first_live;
      // A resume point at or past the first live seq cannot be one this broker handed out
      // (a made-up id, or one from another data directory): start over at the live edge, or
      // every live event would fall below the floor and be dropped.
      bool reset = false;
      if (s->since) {
        if (*s->since < first_live)
          from = *s->since + 1;
        else
          reset = true;
      }
      if (first_live > from && first_live - from > replay_max) {
        from = first_live - replay_max;
        (void)s->stream->write(": replay starts at " + std::to_string(from) + "; older events: GET /admin/events\n\n");
      }
      // The store is read without the session lock: live events meanwhile go to the buffer.
      std::vector<persistence::event_record> history;
      while (from < first_live) {
        auto got = svc->store->events_from(from, std::min<std::size_t>(page, first_live - from));
        if (!got || got->empty()) break;
        for (auto& e : *got) {
          if (e.seq >= first_live) break;
          from = e.seq + 1;
          history.push_back(std::move(e));
        }
        if (got->back().seq >= first_live) break;
      }
      std::lock_guard lock(s->mutex);
      if (s->ended) return;
      bool ok = true;
      if (reset) {
        s->floor = first_live - 1;
        ok = s->stream->write(": stream reset: event " + std::to_string(*s->since) +
                              " is ahead of this broker; live events start after " + std::to_string(first_live - 1) +
                              "\n\n");
      }
      for (const auto& e : history) ok = ok && s->send_locked(e);
      for (const auto& e : s->buffer) ok = ok && s->send_locked(e);
      s->buffer.clear();
      s->buffer.shrink_to_fit();
      s->live = true;
      if (!ok) {
        s->ended = true;
        s->stream->close();
        actors::unsubscribe_events(*svc, s->token);
      }
    });
  };
  {
    std::lock_guard lock(s->mutex);
    s->token = actors::subscribe_events(*svc_, std::move(listener), std::move(ready));
  }
  std::lock_guard lock(mutex_);
  sessions_.push_back(std::move(s));
}

void event_streams::tick() {
  const auto now = clock::now();
  std::vector<std::shared_ptr<sse_session>> gone;
  {
    std::lock_guard lock(mutex_);
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      auto& s = *it;
      std::unique_lock slock(s->mutex);
      bool open = !s->ended && s->stream->is_open();
      if (open && now >= s->next_heartbeat) {
        open = s->stream->write(": hb\n\n");
        s->next_heartbeat = now + s->heartbeat;
      }
      if (open) {
        ++it;
        continue;
      }
      if (!s->ended) {
        s->ended = true;
        actors::unsubscribe_events(*svc_, s->token);
      }
      slock.unlock();
      gone.push_back(std::move(s));
      it = sessions_.erase(it);
    }
  }
  for (auto& s : gone) s->stream->close();
}

void event_streams::close_all() {
  std::vector<std::shared_ptr<sse_session>> all;
  {
    std::lock_guard lock(mutex_);
    all.swap(sessions_);
  }
  for (auto& s : all) {
    std::lock_guard lock(s->mutex);
    if (!s->ended) {
      s->ended = true;
      actors::unsubscribe_events(*svc_, s->token);
    }
    s->stream->close();
  }
}

// -- history ----------------------------------------------------------------------------------

void event_streams::list(const http_request& req, const responder& r, worker& w) {
  auto filter = parse_event_filter(req);
  if (!filter) return respond_error(r, 400, filter.err().message);
  auto since = parse_u64(req, "since", 0);
  if (!since) return respond_error(r, 400, since.err().message);
  auto limit = parse_limit(req, list_default, list_max);
  if (!limit) return respond_error(r, 400, limit.err().message);
  w.post([svc = svc_, r, f = std::move(*filter), since = *since, limit = *limit] {
    // `since` is exclusive: the answer starts after it, and `next` is the `since` of the next
    // page (null once the stored history is exhausted).
    boost::json::array events;
    std::uint64_t from = since == UINT64_MAX ? since : since + 1;
    std::uint64_t last = since;
    std::size_t scanned = 0;
    bool at_end = since == UINT64_MAX;
    while (!at_end && events.size() < limit && scanned < scan_budget) {
      auto got = svc->store->events_from(from, page);
      if (!got) return respond_error(r, 500, "could not read events: " + got.err().message);
      std::size_t used = 0;
      for (auto& e : *got) {
        ++used;
        ++scanned;
        last = e.seq;
        from = e.seq + 1;
        if (f.matches(e)) events.push_back(boost::json::parse(event_json(e)));
        if (events.size() >= limit || scanned >= scan_budget) break;
      }
      if (got->size() < page && used == got->size()) at_end = true;
    }
    boost::json::object o;
    o["events"] = std::move(events);
    o["next"] = at_end ? boost::json::value(nullptr) : boost::json::value(last);
    respond_json(r, boost::json::serialize(o));
  });
}

}  // namespace sealcast::broker::admin
