#include "actors/directory.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "actors/events.hpp"
#include "actors/group_state.hpp"
#include "actors/messages.hpp"
#include "common/log.hpp"
#include "common/time.hpp"
#include "crypto/random.hpp"
#include "protocol/codec.hpp"

namespace sealcast::actors::detail {
/// A direct message written to a recipient's connections and not yet acknowledged.
struct inflight_direct {
  std::uint64_t seq = 0;
  std::uint64_t ts_ms = 0;
  std::uint64_t last_send_ms = 0;
  std::uint32_t attempts = 0;
  std::shared_ptr<const std::string> frame;
};

}  // namespace sealcast::actors::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sealcast::actors::detail::inflight_direct)

namespace sealcast::actors {

namespace {

using detail::inflight_direct;
namespace pc = protocol::client;
constexpr std::size_t list_users_max = 10000;
constexpr std::size_t direct_backlog_max = 10000;

struct directory_state {
  static inline const char* name = "sealcast.directory";
  std::shared_ptr<services> svc;
  std::unordered_map<id16, caf::actor, id16_hash> groups;
  std::unordered_map<id16, std::vector<connection_ptr>, id16_hash> online;
  std::unordered_map<id16, std::map<id16, inflight_direct>, id16_hash> directs;  ///< recipient -> id -> state
  std::uint64_t next_direct_seq = 1;
  /// Users seen since start. A user's record is authoritative here from `hello` on, before its
  /// write is committed, so a request naming a user who just connected never misses it.
  std::unordered_map<id16, persistence::user_record, id16_hash> users;
  /// Directs acknowledged whose delete is not committed yet: never sent again meanwhile.
  std::unordered_set<id16, id16_hash> deleting;
};

using directory_actor = caf::stateful_actor<directory_state>;

template <class... Fs>
struct overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
overloaded(Fs...) -> overloaded<Fs...>;

void send_json(const connection_ptr& conn, std::string json) {
  conn->send(std::make_shared<const std::string>(std::move(json)));
}

void send_error(const connection_ptr& conn, const protocol::request_id& rid, errc code, std::string message) {
  log::write(code == errc::internal ? log::level::error : log::level::info, "directory", "request refused",
             {{"conn", conn->id()}, {"code", to_string(code)}, {"message", message}});
  send_json(conn, protocol::to_json(protocol::server::error{rid, code, std::move(message)}));
}

/// A known user: from the table of users seen since start, else from the store.
const persistence::user_record* find_user(directory_actor* self, const id16& id) {
  auto& s = self->state;
  if (auto it = s.users.find(id); it != s.users.end()) return &it->second;
  auto u = s.svc->store->get_user(id);
  if (!u) return nullptr;
  return &s.users.emplace(id, std::move(*u)).first->second;
}

/// The group's actor, spawned (and loaded) on first use; an invalid handle for an unknown group.
caf::actor group_actor_of(directory_actor* self, const id16& group) {
  auto& s = self->state;
  auto it = s.groups.find(group);
  if (it != s.groups.end()) return it->second;
  if (!s.svc->store->get_group(group)) return {};
  auto a = spawn_group(self->system(), s.svc, group);
  s.groups.emplace(group, a);
  return a;
}

std::shared_ptr<const std::string> direct_frame(const persistence::direct_record& d) {
  return std::make_shared<const std::string>(
      protocol::to_json(protocol::server::direct{d.id, d.sender, d.sealed, d.sig, d.ts_ms}));
}

void deliver_direct(directory_actor* self, const id16& recipient, const id16& id, inflight_direct& d) {
  auto it = self->state.online.find(recipient);
  if (it == self->state.online.end()) return;
  for (auto& c : it->second) c->send(d.frame);
  d.attempts += 1;
  d.last_send_ms = now_ms();
  (void)id;
}

// -- user-level requests ----------------------------------------------------------------------

void create_group(directory_actor* self, const connection_ptr& conn, const id16& user, pc::create_group& r) {
  auto& s = self->state;
  auto quota = s.svc->groups_owned.reserve(*s.svc->store, user, s.svc->cfg.limits.groups_per_user);
  if (!quota) return send_error(conn, r.rid, quota.err().code, quota.err().message);
  auto& store = *s.svc->store;
  const auto limit = s.svc->cfg.pubsub.max_members;
  if (r.name.empty() || r.name.size() > 256)
    return send_error(conn, r.rid, errc::bad_request, "field 'name' must be 1 to 256 characters");
  std::uint64_t max_members = r.max_members.value_or(limit);
  if (max_members == 0) return send_error(conn, r.rid, errc::bad_request, "field 'max_members' must be at least 1");
  max_members = std::min<std::uint64_t>(max_members, limit);
  if (r.custody == protocol::key_custody::client && !r.members.empty())
    return send_error(conn, r.rid, errc::bad_request,
                      "a client-custody group is created with its owner alone; add members with signed proposals");
  const auto* owner = find_user(self, user);
  if (!owner) return send_error(conn, r.rid, errc::internal, "the caller's user record is missing");
  group_creation c;
  c.conn = conn;
  c.rid = r.rid;
  c.members.emplace_back(*owner, persistence::member_role::owner);
  std::set<id16> seen{user};
  for (auto& m : r.members) {
    if (!seen.insert(m).second) continue;
    const auto* u = find_user(self, m);
    if (!u) return send_error(conn, r.rid, errc::unknown_user, "unknown user " + m.hex());
    c.members.emplace_back(*u, persistence::member_role::member);
  }
  if (c.members.size() > max_members)
    return send_error(conn, r.rid, errc::group_full, "more members than max_members");
  id16 gid = r.group ? *r.group : crypto::random_id();
  if (s.groups.contains(gid) || store.get_group(gid))
    return send_error(conn, r.rid, errc::exists, "group " + gid.hex() + " already exists");
  auto& g = c.group;
  g.id = gid;
  g.name = r.name;
  g.policy = static_cast<persistence::group_policy>(r.policy);
  g.custody = static_cast<persistence::key_custody>(r.custody);
  g.max_members = static_cast<std::uint32_t>(max_members);
  g.owner = user;
  g.epoch = 0;
  g.next_seq = 1;
  g.created_ms = now_ms();
  g.epoch_created_ms = g.created_ms;
  s.groups.emplace(gid, spawn_new_group(self->system(), s.svc, std::move(c)));
  quota->keep();
}

void list_groups(directory_actor* self, const connection_ptr& conn, const id16& user, const pc::list_groups& r) {
  auto& store = *self->state.svc->store;
  protocol::list_groups_result out;
  auto mine = store.user_groups(user);
  if (!mine) return send_error(conn, r.rid, errc::internal, "could not read the user's groups");
  for (auto& e : *mine) {
    auto g = store.get_group(e.group);
    if (!g) continue;
    auto ms = store.members_of(e.group);
    out.groups.push_back({e.group, g->name, g->epoch, static_cast<protocol::member_role>(e.role),
                          ms ? ms->size() : 0});
  }
  send_json(conn, protocol::make_ok(r.rid, out));
}

void list_users(directory_actor* self, const connection_ptr& conn, const pc::list_users& r) {
  auto& s = self->state;
  auto users = s.svc->store->scan_users(std::nullopt, list_users_max);
  if (!users) return send_error(conn, r.rid, errc::internal, "could not read users");
  // The store, plus users whose first record is not committed yet.
  std::map<id16, const persistence::user_record*> all;
  for (auto& u : *users) all.emplace(u.id, &u);
  for (auto& [id, u] : s.users) all.emplace(id, &u);
  protocol::list_users_result out;
  for (auto& [id, u] : all) {
    if (out.users.size() >= list_users_max) break;
    out.users.push_back({id, u->name, s.online.contains(id)});
  }
  send_json(conn, protocol::make_ok(r.rid, out));
}

void user_keys(directory_actor* self, const connection_ptr& conn, const pc::user_keys& r) {
  const auto* u = find_user(self, r.user);
  if (!u) return send_error(conn, r.rid, errc::unknown_user, "unknown user " + r.user.hex());
  send_json(conn, protocol::make_ok(r.rid, protocol::user_keys_result{u->sign_pk, u->kx_pk, u->kx_sig}));
}

void send_direct(directory_actor* self, const connection_ptr& conn, const id16& user, pc::direct& r) {
  auto& s = self->state;
  if (!find_user(self, r.to)) return send_error(conn, r.rid, errc::unknown_user, "unknown user " + r.to.hex());
  persistence::direct_record d;
  d.recipient = r.to;
  d.seq = s.next_direct_seq++;
  d.id = crypto::random_id();
  d.sender = user;
  d.sealed = std::move(r.sealed);
  d.sig = r.sig;
  d.ts_ms = now_ms();
  persistence::write_batch b;
  b.put_direct(d);
  b.put_meta_u64(persistence::meta_names::next_direct_seq, s.next_direct_seq);
  auto frame = direct_frame(d);
  caf::actor me = caf::actor_cast<caf::actor>(self);
  auto rid = r.rid;
  auto recipient = d.recipient;
  auto id = d.id;
  auto seq = d.seq;
  auto ts = d.ts_ms;
  s.svc->writer->submit(std::move(b), [me, conn, rid, recipient, id, seq, ts, frame, user](const status& st) {
    if (!st.ok()) return send_error(conn, rid, errc::internal, "the direct message could not be stored");
    send_json(conn, protocol::make_ok(rid, protocol::direct_result{id, ts}));
    // Hand delivery back to the directory, which owns the online map.
    caf::anon_send(me, inflight_direct{seq, ts, 0, 0, frame}, recipient, id, user);
  });
}

void ack_direct(directory_actor* self, const id16& user, const pc::ack_direct& a) {
  auto& s = self->state;
  auto loc = s.svc->store->find_message(a.id);
  if (!loc || loc->kind != persistence::message_kind::direct || loc->owner != user) return;
  if (!s.deleting.insert(a.id).second) return;  // a repeated ack
  persistence::write_batch b;
  b.delete_direct(user, loc->seq, a.id);
  caf::actor me = caf::actor_cast<caf::actor>(self);
  const auto id = a.id;
  s.svc->writer->submit(std::move(b), [me, id](const status&) { caf::anon_send(me, durable_atom::value, id); });
  if (auto it = s.directs.find(user); it != s.directs.end()) it->second.erase(a.id);
  s.svc->emit(event{event_type::direct_delivered, std::nullopt, user, a.id, "{}"});
}

// -- sessions ---------------------------------------------------------------------------------

/// Undelivered direct messages of `user`, oldest first, to one of its connections.
void send_direct_backlog(directory_actor* self, const id16& user, const connection_ptr& conn) {
  auto& s = self->state;
  auto pending = s.svc->store->directs_of(user, 0, direct_backlog_max);
  if (!pending) return;
  const auto now = now_ms();
  auto& mine = s.directs[user];
  for (auto& d : *pending) {
    if (s.deleting.contains(d.id)) continue;
    auto& f = mine[d.id];
    if (!f.frame) f = inflight_direct{d.seq, d.ts_ms, 0, 0, direct_frame(d)};
    conn->send(f.frame);
    f.attempts += 1;
    f.last_send_ms = now;
  }
}

void on_hello(directory_actor* self, hello_done& h) {
  auto& s = self->state;
  auto& store = *s.svc->store;
  const auto now = now_ms();
  auto& u = h.user;
  if (const auto* old = find_user(self, u.id)) {
    if (old->kx_pk != u.kx_pk) {
      // Manifests and wrapped keys name the registered kx_pk; v2 has no proposal to change it.
      log::info("directory", "authentication failed", {{"user", u.id.hex()}, {"why", "kx_pk changed"}});
      send_json(h.conn, protocol::to_json(protocol::server::error{
                            std::nullopt, errc::auth_failed,
                            "this user is registered with another kx_pk; a new key needs a new identity"}));
      h.conn->close(4001, "auth failed");
      return;
    }
    u.first_seen_ms = old->first_seen_ms;
    if (u.name.empty()) u.name = old->name;
  } else {
    u.first_seen_ms = now;
  }
  u.last_seen_ms = now;
  // Written without waiting: the storage writer commits in order, so anything that later
  // depends on this user (a group naming it) is durable only after the user is.
  s.users[u.id] = u;
  persistence::write_batch b;
  b.put_user(u);
  s.svc->writer->submit(std::move(b), nullptr);

  protocol::server::welcome w;
  w.user = u.id;
  auto mine = store.user_groups(u.id);
  if (mine) {
    for (auto& e : *mine) {
      auto g = store.get_group(e.group);
      if (g) w.groups.push_back({e.group, g->name, g->epoch, static_cast<protocol::member_role>(e.role)});
    }
  }
  send_json(h.conn, protocol::to_json(w));
  auto& conns = s.online[u.id];
  const bool first = conns.empty();
  conns.push_back(h.conn);
  s.svc->emit(event{event_type::user_connected, std::nullopt, u.id, std::nullopt,
                    event_data({{"remote", h.conn->remote()}, {"first", first}})});
  // Each group sends its keys and backlog; the direct backlog follows once all have answered.
  auto remaining = std::make_shared<std::size_t>(w.groups.size());
  auto conn = h.conn;
  const auto user = u.id;
  auto then = [self, remaining, conn, user] {
    if (--*remaining == 0) send_direct_backlog(self, user, conn);
  };
  ++*remaining;  // the loop's own share, so a synchronous answer cannot finish early
  for (auto& g : w.groups) {
    auto a = group_actor_of(self, g.group);
    if (!a) {
      then();
      continue;
    }
    self->request(a, std::chrono::seconds(30), backlog_atom::value, presence_change{user, conn, true})
        .then([then](bool) { then(); }, [then](caf::error&) { then(); });
  }
  then();
}

void on_closed(directory_actor* self, conn_closed& c) {
  auto& s = self->state;
  auto it = s.online.find(c.user);
  if (it == s.online.end()) return;
  std::erase(it->second, c.conn);
  const bool last = it->second.empty();
  if (last) s.online.erase(it);
  s.svc->emit(event{event_type::user_disconnected, std::nullopt, c.user, std::nullopt,
                    event_data({{"remote", c.conn->remote()}, {"last", last}})});
  auto mine = s.svc->store->user_groups(c.user);
  if (!mine) return;
  for (auto& e : *mine) {
    auto g = s.groups.find(e.group);
    if (g != s.groups.end()) self->send(g->second, presence_change{c.user, c.conn, false});
  }
}

void retry_directs(directory_actor* self) {
  auto& s = self->state;
  const auto now = now_ms();
  const auto interval = static_cast<std::uint64_t>(s.svc->cfg.pubsub.retry_interval.count()) * 1000;
  const auto max_attempts = s.svc->cfg.pubsub.max_delivery_attempts;
  for (auto& [user, list] : s.directs) {
    if (!s.online.contains(user)) continue;
    for (auto it = list.begin(); it != list.end();) {
      auto& d = it->second;
      if (now < d.last_send_ms + interval) {
        ++it;
        continue;
      }
      if (d.attempts >= max_attempts) {
        s.svc->emit(event{event_type::message_failed, std::nullopt, user, it->first,
                          event_data({{"direct", true}, {"attempts", d.attempts}, {"reason", "unacknowledged"}})});
        persistence::write_batch b;
        b.delete_direct(user, d.seq, it->first);
        s.svc->writer->submit(std::move(b), nullptr);
        it = list.erase(it);
        continue;
      }
      deliver_direct(self, user, it->first, d);
      ++it;
    }
  }
}

void clean(directory_actor* self) {
  auto& s = self->state;
  auto& store = *s.svc->store;
  // Load every group that has stored messages or an aged epoch so that its actor expires and
  // rotates, then tell every loaded group to clean.
  const auto now = now_ms();
  const auto rotate_ms = static_cast<std::uint64_t>(s.svc->cfg.pubsub.key_rotation_interval.count()) * 1000;
  std::optional<id16> after;
  for (;;) {
    auto page = store.scan_groups(after, 1000);
    if (!page || page->empty()) break;
    for (auto& g : *page) {
      after = g.id;
      if (s.groups.contains(g.id)) continue;
      auto msgs = store.messages_of(g.id, 0, 1);
      bool aged = g.epoch > 0 && now >= g.epoch_created_ms + rotate_ms;
      if ((msgs && !msgs->empty()) || aged) (void)group_actor_of(self, g.id);
    }
    if (page->size() < 1000) break;
  }
  for (auto& [id, a] : s.groups) self->send(a, clean_atom::value);
  // Directs past the TTL.
  const auto ttl_ms = static_cast<std::uint64_t>(s.svc->cfg.pubsub.max_message_ttl.count()) * 1000;
  std::optional<id16> user_after;
  for (;;) {
    auto users = store.scan_users(user_after, 1000);
    if (!users || users->empty()) break;
    for (auto& u : *users) {
      user_after = u.id;
      auto ds = store.directs_of(u.id, 0, persistence::no_limit);
      if (!ds) continue;
      persistence::write_batch b;
      for (auto& d : *ds) {
        if (d.ts_ms + ttl_ms > now) break;
        if (s.deleting.contains(d.id)) continue;
        b.delete_direct(u.id, d.seq, d.id);
        s.svc->emit(event{event_type::message_failed, std::nullopt, u.id, d.id,
                          event_data({{"direct", true}, {"reason", "expired"}})});
        if (auto it = s.directs.find(u.id); it != s.directs.end()) it->second.erase(d.id);
      }
      if (!b.empty()) s.svc->writer->submit(std::move(b), nullptr);
    }
    if (users->size() < 1000) break;
  }
}

}  // namespace

caf::actor spawn_directory(caf::actor_system& sys, std::shared_ptr<services> svc) {
  // Group actors load lazily, so the pending-messages gauge starts from the store: every stored
  // group message counts until its actor deletes it (publishes add, deletions subtract). Done
  // here, before the listeners start, so the first stats request already sees the backlog.
  if (auto n = svc->store->count_messages())
    svc->counters.pending_messages.store(static_cast<std::int64_t>(*n), std::memory_order_relaxed);
  else
    log::warn("directory", "could not count the stored messages", {{"error", n.err().message}});
  return sys.spawn([svc](directory_actor* self) -> caf::behavior {
    auto& st = self->state;
    st.svc = svc;
    if (auto n = svc->store->get_meta_u64(persistence::meta_names::next_direct_seq)) st.next_direct_seq = *n;
    const auto retry = std::chrono::seconds(std::max<std::int64_t>(1, svc->cfg.pubsub.retry_interval.count()));
    const auto cleanup = std::chrono::seconds(std::max<std::int64_t>(1, svc->cfg.pubsub.cleanup_interval.count()));
    self->delayed_send(self, retry, retry_atom::value);
    self->delayed_send(self, cleanup, clean_atom::value);
    self->set_exit_handler([self](const caf::exit_msg& msg) {
      for (auto& [id, a] : self->state.groups) self->send_exit(a, msg.reason);
      self->quit(msg.reason);
    });
    return {
        [self](hello_done& h) { on_hello(self, h); },
        [self](conn_closed& c) { on_closed(self, c); },
        [self](client_request& req) {
          auto& conn = req.conn;
          const id16 user = req.user;
          std::visit(overloaded{
                         [&](pc::create_group& r) { create_group(self, conn, user, r); },
                         [&](pc::list_groups& r) { list_groups(self, conn, user, r); },
                         [&](pc::list_users& r) { list_users(self, conn, r); },
                         [&](pc::user_keys& r) { user_keys(self, conn, r); },
                         [&](pc::direct& r) { send_direct(self, conn, user, r); },
                         [&](pc::ack_direct& a) { ack_direct(self, user, a); },
                         [&](pc::hello&) {
                           send_json(conn, protocol::to_json(protocol::server::error{
                                               std::nullopt, errc::bad_request, "already authenticated"}));
                         },
                         [&](pc::add_member& r) {
                           const auto* u = find_user(self, r.user);
                           if (!u) return send_error(conn, r.rid, errc::unknown_user, "unknown user " + r.user.hex());
                           req.subject = *u;
                           auto a = group_actor_of(self, r.group);
                           if (!a) return send_error(conn, r.rid, errc::not_found, "unknown group " + r.group.hex());
                           self->send(a, std::move(req));
                         },
                         [&](pc::join& r) {
                           if (const auto* u = find_user(self, user)) req.subject = *u;
                           auto a = group_actor_of(self, r.group);
                           if (!a) return send_error(conn, r.rid, errc::not_found, "unknown group " + r.group.hex());
                           self->send(a, std::move(req));
                         },
                         [&](auto& group_frame) {
                           const id16 gid = group_frame.group;
                           auto a = group_actor_of(self, gid);
                           if (!a) {
                             if constexpr (!std::is_same_v<std::decay_t<decltype(group_frame)>, pc::ack>)
                               send_error(conn, group_frame.rid, errc::not_found, "unknown group " + gid.hex());
                             return;
                           }
                           self->send(a, std::move(req));
                         },
                     },
                     req.frame);
        },
        [self](online_atom, const id16& group, const id16& user) {
          // A group actor asks for a (new) member's connections.
          auto& s = self->state;
          auto it = s.online.find(user);
          if (it == s.online.end()) return;
          auto g = s.groups.find(group);
          if (g == s.groups.end()) return;
          for (auto& c : it->second) self->send(g->second, presence_change{user, c, true});
        },
        [self](inflight_direct& d, const id16& recipient, const id16& id, const id16& sender) {
          auto& s = self->state;
          auto& slot = s.directs[recipient][id];
          slot = d;
          deliver_direct(self, recipient, id, slot);
          s.svc->emit(event{event_type::direct_sent, std::nullopt, sender, id,
                            event_data({{"to", recipient.hex()}})});
        },
        [self](durable_atom, const id16& acked_direct) { self->state.deleting.erase(acked_direct); },
        [self](retry_atom) {
          retry_directs(self);
          const auto again =
              std::chrono::seconds(std::max<std::int64_t>(1, self->state.svc->cfg.pubsub.retry_interval.count()));
          self->delayed_send(self, again, retry_atom::value);
        },
        [self](clean_atom) {
          clean(self);
          if (self->state.svc->event_bus) self->send(self->state.svc->event_bus, clean_atom::value);
          const auto again =
              std::chrono::seconds(std::max<std::int64_t>(1, self->state.svc->cfg.pubsub.cleanup_interval.count()));
          self->delayed_send(self, again, clean_atom::value);
        },
        [self](group_query& q) {
          auto a = group_actor_of(self, q.group);
          if (!a) {
            if (q.done) q.done(std::nullopt);
            return;
          }
          self->send(a, std::move(q));
        },
        [self](message_query& q) {
          auto a = group_actor_of(self, q.group);
          if (!a) {
            if (q.done) q.done(std::nullopt);
            return;
          }
          self->send(a, std::move(q));
        },
        [self](rotate_atom, const id16& group, rotate_request& r) {
          auto a = group_actor_of(self, group);
          if (!a) {
            if (r.done) r.done(0, error{errc::not_found, "unknown group"});
            return;
          }
          self->send(a, std::move(r));
        },
    };
  });
}

}  // namespace sealcast::actors
