// The admin API's routes. Handlers run on the admin server's io threads and must not block:
// store reads go to the admin worker thread, questions about live state go to the actors, and
// each answers through its responder from whichever thread finishes.

#include "broker/admin_routes.hpp"
#include "broker/dashboard.hpp"

#include <boost/json.hpp>

#include <chrono>
#include <optional>
#include <string_view>
#include <vector>

#include "actors/admin_queries.hpp"
#include "broker/admin_events.hpp"
#include "broker/admin_support.hpp"
#include "broker/metrics.hpp"
#include "common/log.hpp"
#include "protocol/types.hpp"

namespace sealcast::broker {

namespace {

namespace json = boost::json;
using namespace admin;

constexpr std::size_t groups_default = 100;
constexpr std::size_t groups_max = 1000;
/// Groups one listing reads at most while filtering; past that it answers a `next` cursor.
constexpr std::size_t groups_scan_budget = 10000;
constexpr auto tick_period = std::chrono::milliseconds(200);

std::string_view role_name(persistence::member_role r) { return protocol::to_string(r); }
std::string_view policy_name(persistence::group_policy p) { return protocol::to_string(p); }
std::string_view custody_name(persistence::key_custody c) { return protocol::to_string(c); }

/// The admin API's shared state; every route handler holds it.
struct api_state final : admin_api {
  std::shared_ptr<actors::services> svc;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::shared_ptr<admin::event_streams> streams;
  std::shared_ptr<admin::worker> work;    ///< store reads and replays
  std::shared_ptr<admin::worker> ticker;  ///< SSE heartbeats: never behind a slow listing

  // Worker tasks never hold this state (only what they use), so it is never destroyed on the
  // worker thread; the tick's raw pointer is safe because stop() joins the thread first.
  explicit api_state(std::shared_ptr<actors::services> s)
      : svc(s),
        streams(std::make_shared<admin::event_streams>(s)),
        work(std::make_shared<admin::worker>(std::chrono::hours(1), nullptr)),
        ticker(std::make_shared<admin::worker>(tick_period, [p = streams.get()] { p->tick(); })) {}
  ~api_state() override { stop(); }

  void stop() override {
    ticker->stop();
    work->stop();
    streams->close_all();
  }
};

std::uint64_t seconds_since(std::chrono::steady_clock::time_point t) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - t).count());
}

// -- groups -----------------------------------------------------------------------------------

json::object group_summary(const persistence::store& store, const persistence::group_record& g) {
  auto n = store.member_count(g.id);
  return json::object{{"group", g.id.hex()},
                      {"name", g.name},
                      {"policy", policy_name(g.policy)},
                      {"custody", custody_name(g.custody)},
                      {"epoch", g.epoch},
                      {"member_count", n ? *n : 0},
                      {"next_seq", g.next_seq},
                      {"created", g.created_ms}};
}

void list_groups(const std::shared_ptr<api_state>& api, const http_request& req, const responder& r) {
  auto limit = parse_limit(req, groups_default, groups_max);
  if (!limit) return respond_error(r, 400, limit.err().message);
  auto after = parse_id_param(req, "after");
  if (!after) return respond_error(r, 400, after.err().message);
  std::optional<persistence::key_custody> custody;
  if (auto c = req.query_value("custody")) {
    if (*c == "broker")
      custody = persistence::key_custody::broker;
    else if (*c == "client")
      custody = persistence::key_custody::client;
    else
      return respond_error(r, 400, "parameter 'custody' must be \"broker\" or \"client\"");
  }
  std::optional<persistence::group_policy> policy;
  if (auto p = req.query_value("policy")) {
    if (*p == "open")
      policy = persistence::group_policy::open;
    else if (*p == "invite")
      policy = persistence::group_policy::invite;
    else
      return respond_error(r, 400, "parameter 'policy' must be \"open\" or \"invite\"");
  }
  api->work->post([svc = api->svc, r, limit = *limit, after = *after, custody, policy] {
    // Sorted by id; `after` is the last id of the previous page and `next` the cursor of the
    // following one (null on the last page).
    json::array out;
    std::optional<id16> cursor = after;
    std::size_t scanned = 0;
    bool at_end = false;
    while (!at_end && out.size() < limit && scanned < groups_scan_budget) {
      const std::size_t want = limit - out.size() + 1;  // one more tells whether a page follows
      auto page = svc->store->scan_groups(cursor, want);
      if (!page) return respond_error(r, 500, "could not read groups: " + page.err().message);
      if (page->size() < want) at_end = true;
      for (auto& g : *page) {
        if (out.size() >= limit) {
          at_end = false;  // the extra row exists: there is a next page
          break;
        }
        ++scanned;
        cursor = g.id;
        if ((custody && g.custody != *custody) || (policy && g.policy != *policy)) continue;
        out.push_back(group_summary(*svc->store, g));
      }
    }
    json::object o;
    o["groups"] = std::move(out);
    o["next"] = at_end || !cursor ? json::value(nullptr) : json::value(cursor->hex());
    respond_json(r, json::serialize(o));
  });
}

std::string snapshot_json(const actors::group_snapshot& s) {
  const auto& g = s.rec;
  json::array members;
  for (const auto& m : s.members)
    members.push_back(json::object{{"user", m.user.hex()},
                                   {"role", role_name(m.role)},
                                   {"online", m.online},
                                   {"acked_seq", m.acked_seq},
                                   {"joined", m.joined_ms}});
  json::array missing;
  for (const auto& k : s.missing_keys) missing.push_back(json::object{{"user", k.user.hex()}, {"epoch", k.epoch}});
  json::object o{{"group", g.id.hex()},
                 {"name", g.name},
                 {"policy", policy_name(g.policy)},
                 {"custody", custody_name(g.custody)},
                 {"owner", g.owner.hex()},
                 {"max_members", g.max_members},
                 {"created", g.created_ms},
                 {"epoch", g.epoch},
                 {"epoch_created", g.epoch_created_ms},
                 {"pending_epoch", g.pending_epoch == 0 ? json::value(nullptr) : json::value(g.pending_epoch)},
                 {"key_id", s.key_id ? json::value(s.key_id->hex()) : json::value(nullptr)},
                 {"member_count", s.members.size()},
                 {"members", std::move(members)},
                 {"next_seq", g.next_seq},
                 {"pending_messages", s.pending_messages},
                 {"missing_keys", std::move(missing)}};
  return json::serialize(o);
}

void group_detail(const std::shared_ptr<api_state>& api, const http_request& req, const responder& r) {
  auto id = parse_id(req.param("id"), "group id");
  if (!id) return respond_error(r, 400, id.err().message);
  actors::query_group(*api->svc, *id, [r, group = *id](std::optional<actors::group_snapshot> s) {
    if (!s) return respond_error(r, 404, "unknown group " + group.hex());
    respond_json(r, snapshot_json(*s));
  });
}

void rotate(const std::shared_ptr<api_state>& api, const http_request& req, const responder& r) {
  auto id = parse_id(req.param("id"), "group id");
  if (!id) return respond_error(r, 400, id.err().message);
  api->work->post([svc = api->svc, r, group = *id, remote = req.remote] {
    auto g = svc->store->get_group(group);
    if (!g) {
      if (g.err().code == errc::not_found) return respond_error(r, 404, "unknown group " + group.hex());
      return respond_error(r, 500, "could not read the group: " + g.err().message);
    }
    const auto custody = g->custody;
    log::info("admin", "rotation requested", {{"group", group.hex()}, {"peer", remote}});
    auto done = [r, group, custody](std::uint64_t epoch, std::optional<error> err) {
      if (err) {
        log::warn("admin", "rotation refused", {{"group", group.hex()}, {"error", err->message}});
        const unsigned status = err->code == errc::not_found ? 404 : err->code == errc::internal ? 500 : 409;
        return respond_error(r, status, err->message);
      }
      const bool client = custody == persistence::key_custody::client;
      respond_json(r, json::serialize(json::object{{"group", group.hex()},
                                                   {"epoch", epoch},
                                                   {"custody", custody_name(custody)},
                                                   {"status", client ? "rekey_requested" : "rotated"}}));
    };
    actors::rotate_group(*svc, group, "admin request", std::move(done));
  });
}

// -- users ------------------------------------------------------------------------------------

void user_groups(const std::shared_ptr<api_state>& api, const http_request& req, const responder& r) {
  auto id = parse_id(req.param("id"), "user id");
  if (!id) return respond_error(r, 400, id.err().message);
  api->work->post([svc = api->svc, r, user = *id] {
    auto& store = *svc->store;
    auto u = store.get_user(user);
    if (!u) {
      if (u.err().code == errc::not_found) return respond_error(r, 404, "unknown user " + user.hex());
      return respond_error(r, 500, "could not read the user: " + u.err().message);
    }
    auto mine = store.user_groups(user);
    if (!mine) return respond_error(r, 500, "could not read the user's groups: " + mine.err().message);
    json::array groups;
    for (const auto& e : *mine) {
      auto g = store.get_group(e.group);
      if (!g) continue;
      auto n = store.member_count(e.group);
      groups.push_back(json::object{{"group", e.group.hex()},
                                    {"name", g->name},
                                    {"role", role_name(e.role)},
                                    {"member_count", n ? *n : 0},
                                    {"epoch", g->epoch},
                                    {"custody", custody_name(g->custody)}});
    }
    respond_json(r, json::serialize(json::object{{"user", user.hex()}, {"name", u->name}, {"groups", std::move(groups)}}));
  });
}

// -- messages ---------------------------------------------------------------------------------

/// One group message as /admin/messages/{id} shows it (docs/operations.md).
struct message_view {
  id16 id;
  id16 group;
  std::uint64_t seq = 0;
  id16 sender;
  std::uint64_t epoch = 0;
  std::uint64_t ts = 0;
  std::uint32_t recipient_count = 0;
  std::uint32_t attempts = 0;
  std::optional<std::uint64_t> settled;
  /// The recipients by outcome; none for an outcome row written before they were kept.
  bool per_recipient = true;
  std::vector<id16> delivered, failed, expired, pending;
  std::string_view status;             ///< when !per_recipient: the stored status
  std::uint32_t remaining = 0;         ///< when !per_recipient: the stored count
};

message_view make_view(const id16& id, const id16& group, std::uint64_t seq, const id16& sender, std::uint64_t epoch,
                       std::uint64_t ts, std::uint32_t recipient_count, std::uint32_t attempts,
                       std::optional<std::uint64_t> settled) {
  message_view v;
  v.id = id;
  v.group = group;
  v.seq = seq;
  v.sender = sender;
  v.epoch = epoch;
  v.ts = ts;
  v.recipient_count = recipient_count;
  v.attempts = attempts;
  v.settled = settled;
  return v;
}

json::array hex_list(const std::vector<id16>& ids) {
  json::array out;
  out.reserve(ids.size());
  for (const auto& id : ids) out.emplace_back(id.hex());
  return out;
}

std::string message_json(const message_view& m) {
  json::object o{{"id", m.id.hex()},
                 {"kind", "group"},
                 {"group", m.group.hex()},
                 {"seq", m.seq},
                 {"sender", m.sender.hex()},
                 {"epoch", m.epoch},
                 {"ts", m.ts},
                 {"recipient_count", m.recipient_count},
                 {"delivery_attempts", m.attempts},
                 {"settled", m.settled ? json::value(*m.settled) : json::value(nullptr)}};
  if (!m.per_recipient) {
    o["status"] = m.status;
    o["remaining_recipients"] = m.remaining;
    o["recipients"] = nullptr;
    o["counts"] = nullptr;
    return json::serialize(o);
  }
  // Pending while any recipient may still acknowledge it; then what they did.
  o["status"] = !m.pending.empty()
                    ? "pending"
                    : actors::to_string(actors::settled_status(m.delivered.size(), m.failed.size(), m.expired.size()));
  o["remaining_recipients"] = m.failed.size() + m.expired.size() + m.pending.size();
  o["counts"] = json::object{{"delivered", m.delivered.size()},
                             {"failed", m.failed.size()},
                             {"expired", m.expired.size()},
                             {"pending", m.pending.size()}};
  o["recipients"] = json::object{{"delivered", hex_list(m.delivered)},
                                 {"failed", hex_list(m.failed)},
                                 {"expired", hex_list(m.expired)},
                                 {"pending", hex_list(m.pending)}};
  return json::serialize(o);
}

/// A deleted message, from its outcome row; false when there is none.
bool answer_outcome(const actors::services& svc, const id16& id, const responder& r) {
  auto o = svc.store->get_message_outcome(id);
  if (!o) return false;
  auto m = make_view(id, o->group, o->seq, o->sender, o->epoch, o->ts_ms, o->recipient_count, o->delivery_attempts,
                     o->settled_ms);
  m.per_recipient = o->per_recipient;
  m.status = actors::to_string(o->status);
  m.remaining = o->remaining_recipients;
  m.delivered = std::move(o->delivered);
  m.failed = std::move(o->failed);
  m.expired = std::move(o->expired);
  respond_json(r, message_json(m));
  return true;
}

void message_status(const std::shared_ptr<api_state>& api, const http_request& req, const responder& r) {
  auto id = parse_id(req.param("id"), "message id");
  if (!id) return respond_error(r, 400, id.err().message);
  api->work->post([svc = api->svc, work = std::weak_ptr<admin::worker>(api->work), r, id = *id] {
    auto loc = svc->store->find_message(id);
    if (!loc) {
      if (loc.err().code == errc::not_found) return respond_error(r, 404, "unknown message " + id.hex());
      return respond_error(r, 500, "could not read the message index: " + loc.err().message);
    }
    switch (loc->kind) {
      case persistence::message_kind::settled:
        if (!answer_outcome(*svc, id, r)) respond_error(r, 404, "unknown message " + id.hex());
        return;
      case persistence::message_kind::direct: {
        auto d = svc->store->get_direct(loc->owner, loc->seq);
        if (!d) return respond_error(r, 404, "unknown message " + id.hex());
        // Directs are deleted once acknowledged and keep no outcome: stored means pending.
        json::object o{{"id", id.hex()},           {"kind", "direct"},        {"recipient", loc->owner.hex()},
                       {"seq", loc->seq},          {"sender", d->sender.hex()}, {"ts", d->ts_ms},
                       {"status", "pending"},      {"recipient_count", 1},      {"delivery_attempts", d->attempts},
                       {"remaining_recipients", 1}};
        return respond_json(r, json::serialize(o));
      }
      case persistence::message_kind::group:
        break;
    }
    const auto group = loc->owner;
    const auto seq = loc->seq;
    actors::query_message(*svc, group, seq, id,
                          [svc, work, r, id, group, seq](std::optional<actors::message_snapshot> m) {
                            if (m) {
                              auto v = make_view(id, group, seq, m->sender, m->epoch, m->ts_ms, m->recipient_count,
                                                 m->delivery_attempts, std::nullopt);
                              v.delivered = std::move(m->delivered);
                              v.failed = std::move(m->failed);
                              v.pending = std::move(m->pending);
                              return respond_json(r, message_json(v));
                            }
                            // Deleted meanwhile (or not yet durable in the actor): ask the store again.
                            auto w = work.lock();
                            if (!w) return respond_error(r, 503, "the broker is stopping");
                            w->post([svc, r, id, group, seq] {
                              if (answer_outcome(*svc, id, r)) return;
                              auto msg = svc->store->get_message(group, seq);
                              if (!msg || msg->id != id) return respond_error(r, 404, "unknown message " + id.hex());
                              // Stored but not (yet) in its actor's window: its recipients are unknown here.
                              auto v = make_view(id, group, seq, msg->sender, msg->epoch, msg->ts_ms,
                                                 msg->recipient_count, 0, std::nullopt);
                              v.per_recipient = false;
                              v.status = "pending";
                              v.remaining = msg->recipient_count;
                              respond_json(r, message_json(v));
                            });
                          });
  });
}

}  // namespace

std::shared_ptr<admin_api> register_admin_routes(http_server& server, std::shared_ptr<actors::services> svc,
                                                 stats_extension extra_stats) {
  auto api = std::make_shared<api_state>(svc);
  server.probe("/healthz", [](const http_request&, responder r) { r.respond(200, "text/plain", "ok\n"); });
  server.probe("/readyz", [svc](const http_request&, responder r) {
    // Ready once the actors run: the directory handle is set before the listeners start.
    if (svc->directory)
      r.respond(200, "text/plain", "ready\n");
    else
      r.respond(503, "text/plain", "starting\n");
  });
  // Runs on the admin worker: take_stats walks the data directory.
  auto stats_now = [svc, started = api->started, streams = api->streams, extra = std::move(extra_stats)] {
    auto s = take_stats(*svc, seconds_since(started), streams->count());
    if (extra) extra(s.values);
    return s;
  };
  server.route("GET", "/admin/stats", [api, stats_now](const http_request&, responder r) {
    api->work->post([stats_now, r] { respond_json(r, stats_json(stats_now())); });
  });
  server.route("GET", "/metrics", [api, stats_now](const http_request&, responder r) {
    api->work->post([stats_now, svc = api->svc, r] {
      r.respond(200, std::string(metrics_content_type), metrics_text(stats_now(), *svc));
    });
  });
  server.route("GET", "/admin/groups", [api](const http_request& q, responder r) { list_groups(api, q, r); });
  server.route("GET", "/admin/groups/{id}", [api](const http_request& q, responder r) { group_detail(api, q, r); });
  server.route("POST", "/admin/groups/{id}/rotate", [api](const http_request& q, responder r) { rotate(api, q, r); });
  server.route("GET", "/admin/users/{id}/groups", [api](const http_request& q, responder r) { user_groups(api, q, r); });
  server.route("GET", "/admin/messages/{id}", [api](const http_request& q, responder r) { message_status(api, q, r); });
  server.route("GET", "/admin/events", [api](const http_request& q, responder r) { api->streams->list(q, r, *api->work); });
  server.route("GET", "/admin/events/stream",
               [api](const http_request& q, responder r) { api->streams->open(q, r, api->work); });
  register_dashboard_routes(server);  // the page and its assets; its data comes from the routes above
  return api;
}

}  // namespace sealcast::broker
