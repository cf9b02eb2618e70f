#include "actors/directory.hpp"
#include "actors/directs.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "actors/events.hpp"
#include "actors/group_routes.hpp"
#include "actors/group_state.hpp"
#include "actors/messages.hpp"
#include "common/log.hpp"
#include "common/overloaded.hpp"
#include "common/time.hpp"
#include "crypto/random.hpp"
#include "protocol/codec.hpp"

namespace sealcast::actors {

namespace {

namespace pc = protocol::client;

struct directory_state {
  static inline const char* name = "sealcast.directory";
  std::shared_ptr<services> svc;
  /// Loaded group actors: the directory alone adds and closes routes (actors/group_routes.hpp).
  std::unordered_map<id16, std::shared_ptr<group_route>, id16_hash> groups;
  std::unordered_map<id16, std::vector<connection_ptr>, id16_hash> online;
  /// Users seen since start. A user's record is authoritative here from `hello` on, before its
  /// write is committed, so a request naming a user who just connected never misses it.
  std::unordered_map<id16, persistence::user_record, id16_hash> users;
  /// New users whose first record is not committed yet (list_users adds them to its pages).
  std::set<id16> fresh;
};

using directory_self = directory_actor::stateful_pointer<directory_state>;

void send_json(const connection_ptr& conn, std::string json) {
  conn->send(std::make_shared<const std::string>(std::move(json)));
}

void send_error(const connection_ptr& conn, const protocol::request_id& rid, errc code, std::string message) {
  log::write(code == errc::internal ? log::level::error : log::level::info, "directory", "request refused",
             {{"conn", conn->id()}, {"code", to_string(code)}, {"message", message}});
  send_json(conn, protocol::to_json(protocol::server::error{rid, code, std::move(message)}));
}

/// A known user: from the table of users seen since start, else from the store.
const persistence::user_record* find_user(directory_self self, const id16& id) {
  auto& s = self->state;
  if (auto it = s.users.find(id); it != s.users.end()) return &it->second;
  auto u = s.svc->store->get_user(id);
  if (!u) return nullptr;
  return &s.users.emplace(id, std::move(*u)).first->second;
}

/// The group's route, its actor spawned (and loaded) on first use; null for an unknown group.
std::shared_ptr<group_route> group_actor_of(directory_self self, const id16& group) {
  auto& s = self->state;
  auto it = s.groups.find(group);
  if (it != s.groups.end()) return it->second;
  if (!s.svc->store->get_group(group)) return nullptr;
  auto a = spawn_group(self->system(), s.svc, group);
  return s.groups.emplace(group, std::make_shared<group_route>(std::move(a))).first->second;
}

/// Sends to a loaded group actor, counting the message. A route in `groups` is never closed:
/// only the directory closes one, and it forgets the route in the same step.
template <class... Ts>
void tell(directory_self self, group_route& g, Ts&&... xs) {
  [[maybe_unused]] const bool open = g.count();
  self->send(g.actor(), std::forward<Ts>(xs)...);
}

/// Ends the directory's part in a connection's frame that came with a link: once the frame is
/// forwarded (or answered), the link learns the group's route and stops counting the frame, so
/// the connection's next frames for the group may go straight to the actor.
struct link_release {
  std::shared_ptr<group_link> link;
  std::shared_ptr<group_route> route;  ///< set once the frame went to the group's actor
  explicit link_release(std::shared_ptr<group_link> l) : link(std::move(l)) {}
  link_release(const link_release&) = delete;
  link_release& operator=(const link_release&) = delete;
  ~link_release() {
    if (!link) return;
    if (route) link->route = std::move(route);
    link->in_directory.fetch_sub(1, std::memory_order_release);
  }
};

/// Forwards a connection's group frame to the group's actor (answering not_found for an unknown
/// group; an ack has no rid and gets no answer), and hands the route to the frame's link.
void forward(directory_self self, const id16& group, const std::optional<protocol::request_id>& rid,
             client_request& req, link_release& forwarded) {
  auto a = group_actor_of(self, group);
  if (!a) {
    if (rid) send_error(req.conn, *rid, errc::not_found, "unknown group " + group.hex());
    return;
  }
  tell(self, *a, std::move(req));
  forwarded.route = std::move(a);
}

// -- user-level requests ----------------------------------------------------------------------

void create_group(directory_self self, const connection_ptr& conn, const id16& user, pc::create_group& r) {
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
  s.groups.emplace(gid, std::make_shared<group_route>(spawn_new_group(self->system(), s.svc, std::move(c))));
  quota->keep();
}

void list_groups(directory_self self, const connection_ptr& conn, const id16& user, const pc::list_groups& r) {
  auto& store = *self->state.svc->store;
  const auto limit = r.limit.value_or(protocol::max_list_groups_limit);
  protocol::list_groups_result out;
  auto mine = store.user_groups(user);
  if (!mine) return send_error(conn, r.rid, errc::internal, "could not read the user's groups");
  // Entries come sorted by group id: a page is the `limit` after `after`.
  auto it = mine->begin();
  if (r.after) it = std::upper_bound(mine->begin(), mine->end(), *r.after,
                                     [](const id16& a, const persistence::user_group_entry& e) { return a < e.group; });
  for (; it != mine->end(); ++it) {
    if (out.groups.size() >= limit) {
      out.next = out.groups.back().group;
      break;
    }
    auto g = store.get_group(it->group);
    if (!g) continue;
    auto ms = store.members_of(it->group);
    out.groups.push_back({it->group, g->name, g->epoch, static_cast<protocol::member_role>(it->role),
                          ms ? ms->size() : 0});
  }
  send_json(conn, protocol::make_ok(r.rid, out));
}

void list_users(directory_self self, const connection_ptr& conn, const pc::list_users& r) {
  auto& s = self->state;
  const auto limit = r.limit.value_or(protocol::max_list_users_limit);
  auto users = s.svc->store->scan_users(r.after, limit);
  if (!users) return send_error(conn, r.rid, errc::internal, "could not read users");
  // A page of the store, plus users in its range whose first record is not committed yet.
  const bool full = users->size() >= limit;
  std::map<id16, const persistence::user_record*> all;
  for (auto& u : *users) all.emplace(u.id, &u);
  for (const auto& id : s.fresh) {
    if ((r.after && !(*r.after < id)) || (full && users->back().id < id)) continue;
    if (auto f = s.users.find(id); f != s.users.end()) all.emplace(id, &f->second);
  }
  protocol::list_users_result out;
  for (auto& [id, u] : all) out.users.push_back({id, u->name, s.online.contains(id)});
  if (full) out.next = users->back().id;
  send_json(conn, protocol::make_ok(r.rid, out));
}

void user_keys(directory_self self, const connection_ptr& conn, const pc::user_keys& r) {
  const auto* u = find_user(self, r.user);
  if (!u) return send_error(conn, r.rid, errc::unknown_user, "unknown user " + r.user.hex());
  send_json(conn, protocol::make_ok(r.rid, protocol::user_keys_result{u->sign_pk, u->kx_pk, u->kx_sig}));
}

// -- sessions ---------------------------------------------------------------------------------

void on_hello(directory_self self, hello_done& h) {
  auto& s = self->state;
  auto& store = *s.svc->store;
  const auto now = now_ms();
  auto& u = h.user;
  const auto* old = find_user(self, u.id);
  const bool is_new = old == nullptr;
  if (old) {
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
  tell_user_known(s.svc->directs, u.id);
  persistence::write_batch b;
  b.put_user(u);
  if (is_new) {
    s.fresh.insert(u.id);
    s.svc->writer->submit(std::move(b), [me = caf::actor_cast<directory_actor>(self), id = u.id](const status&) {
      caf::anon_send(me, durable_atom::value, id);
    });
  } else {
    s.svc->writer->submit(std::move(b), nullptr);
  }

  protocol::server::welcome w;
  w.user = u.id;
  auto mine = store.user_groups(u.id);
  if (mine) {
    for (auto& e : *mine) {
      if (w.groups.size() >= protocol::max_welcome_groups) {
        w.more_after = w.groups.back().group;
        break;
      }
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
  // Every group the user is in, listed in the welcome or not.
  std::vector<id16> groups;
  if (mine)
    for (auto& e : *mine) groups.push_back(e.group);
  auto remaining = std::make_shared<std::size_t>(groups.size());
  auto conn = h.conn;
  const auto user = u.id;
  auto then = [self, remaining, conn, user] {
    if (--*remaining == 0) self->send(self->state.svc->directs, presence_change{user, conn, true});
  };
  ++*remaining;  // the loop's own share, so a synchronous answer cannot finish early
  for (const auto& gid : groups) {
    auto a = group_actor_of(self, gid);
    if (!a) {
      then();
      continue;
    }
    [[maybe_unused]] const bool open = a->count();
    self->request(a->actor(), std::chrono::seconds(30), backlog_atom::value, presence_change{user, conn, true})
        .then([then](bool) { then(); }, [then](caf::error&) { then(); });
  }
  then();
  // Every group has been told the connection is online: its frames may now go to them directly.
  if (h.routes) h.routes->ready.store(true, std::memory_order_release);
}

void on_closed(directory_self self, conn_closed& c) {
  auto& s = self->state;
  auto it = s.online.find(c.user);
  if (it == s.online.end()) return;
  std::erase(it->second, c.conn);
  const bool last = it->second.empty();
  if (last) s.online.erase(it);
  self->send(s.svc->directs, presence_change{c.user, c.conn, false});
  s.svc->emit(event{event_type::user_disconnected, std::nullopt, c.user, std::nullopt,
                    event_data({{"remote", c.conn->remote()}, {"last", last}})});
  auto mine = s.svc->store->user_groups(c.user);
  if (!mine) return;
  for (auto& e : *mine) {
    auto g = s.groups.find(e.group);
    if (g != s.groups.end()) tell(self, *g->second, presence_change{c.user, c.conn, false});
  }
}

}  // namespace

directory_actor spawn_directory(caf::actor_system& sys, std::shared_ptr<services> svc) {
  // Group actors load lazily, so the pending-messages gauge starts from the store: every stored
  // group message counts until its actor deletes it (publishes add, deletions subtract). Done
  // here, before the listeners start, so the first stats request already sees the backlog.
  if (auto n = svc->store->count_messages())
    svc->counters.pending_messages.store(static_cast<std::int64_t>(*n), std::memory_order_relaxed);
  else
    log::warn("directory", "could not count the stored messages", {{"error", n.err().message}});
  return sys.spawn([svc](directory_self self) -> directory_actor::behavior_type {
    auto& st = self->state;
    st.svc = svc;
    self->set_exit_handler([self](const caf::exit_msg& msg) {
      for (auto& [id, g] : self->state.groups) self->send_exit(g->actor(), msg.reason);
      self->quit(msg.reason);
    });
    return {
        [self](hello_done& h) { on_hello(self, h); },
        [self](conn_closed& c) { on_closed(self, c); },
        [self](client_request& req) {
          link_release forwarded{std::move(req.link)};
          auto& conn = req.conn;
          const id16 user = req.user;
          std::visit(overloaded{
                         [&](pc::create_group& r) { create_group(self, conn, user, r); },
                         [&](pc::list_groups& r) { list_groups(self, conn, user, r); },
                         [&](pc::list_users& r) { list_users(self, conn, r); },
                         [&](pc::user_keys& r) { user_keys(self, conn, r); },
                         [&](pc::direct&) { self->send(self->state.svc->directs, std::move(req)); },
                         [&](pc::ack_direct&) { self->send(self->state.svc->directs, std::move(req)); },
                         [&](pc::hello&) {
                           send_json(conn, protocol::to_json(protocol::server::error{
                                               std::nullopt, errc::bad_request, "already authenticated"}));
                         },
                         [&](pc::add_member& r) {
                           const auto* u = find_user(self, r.user);
                           if (!u) return send_error(conn, r.rid, errc::unknown_user, "unknown user " + r.user.hex());
                           req.subject = *u;
                           forward(self, r.group, r.rid, req, forwarded);
                         },
                         [&](pc::join& r) {
                           if (const auto* u = find_user(self, user)) req.subject = *u;
                           forward(self, r.group, r.rid, req, forwarded);
                         },
                         [&](auto& group_frame) {
                           if constexpr (std::is_same_v<std::decay_t<decltype(group_frame)>, pc::ack>)
                             forward(self, group_frame.group, std::nullopt, req, forwarded);
                           else
                             forward(self, group_frame.group, group_frame.rid, req, forwarded);
                         },
                     },
                     req.frame);
        },
        [self](idle_atom, const id16& group, std::uint64_t received) {
          // An idle group actor offers to stop. Only if it has received everything sent to it:
          // then nothing is in flight, and the next request loads the group afresh.
          auto& s = self->state;
          auto g = s.groups.find(group);
          if (g == s.groups.end() || !g->second->close(received)) return;
          self->send(g->second->actor(), stop_atom::value);
          s.groups.erase(g);
        },
        [self](durable_atom, const id16& user) { self->state.fresh.erase(user); },
        [self](members_online& m) {
          // A group actor that was (re)loaded learns which members are online.
          auto& s = self->state;
          auto g = s.groups.find(m.group);
          if (g == s.groups.end()) return;
          for (auto& user : m.users) {
            auto it = s.online.find(user);
            if (it == s.online.end()) continue;
            for (auto& c : it->second) tell(self, *g->second, presence_change{user, c, true, true});
          }
        },
        [self](online_atom, const id16& group, const id16& user) {
          // A group actor asks for a (new) member's connections.
          auto& s = self->state;
          auto it = s.online.find(user);
          if (it == s.online.end()) return;
          auto g = s.groups.find(group);
          if (g == s.groups.end()) return;
          for (auto& c : it->second) tell(self, *g->second, presence_change{user, c, true});
        },
        [self](clean_groups& page) {
          // The reaper's sweep: each group with stored messages cleans itself (loaded if it was not).
          for (const auto& id : page.groups)
            if (auto a = group_actor_of(self, id)) tell(self, *a, clean_atom::value);
        },
        [self](group_query& q) {
          auto a = group_actor_of(self, q.group);
          if (!a) {
            if (q.done) q.done(std::nullopt);
            return;
          }
          tell(self, *a, std::move(q));
        },
        [self](message_query& q) {
          auto a = group_actor_of(self, q.group);
          if (!a) {
            if (q.done) q.done(std::nullopt);
            return;
          }
          tell(self, *a, std::move(q));
        },
        [self](rotate_atom, const id16& group, rotate_request& r) {
          auto a = group_actor_of(self, group);
          if (!a) {
            if (r.done) r.done(0, error{errc::not_found, "unknown group"});
            return;
          }
          tell(self, *a, std::move(r));
        },
    };
  });
}

}  // namespace sealcast::actors
