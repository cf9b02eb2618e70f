#include "actors/directory.hpp"

#include <caf/all.hpp>

#include <optional>

#include "actors/detail/directory_state.hpp"
#include "actors/group.hpp"
#include "common/log.hpp"
#include "common/overloaded.hpp"
#include "protocol/codec.hpp"

namespace sealcast::actors {

namespace detail {

void send_json(const connection_ptr& conn, std::string json) {
  conn->send(std::make_shared<const std::string>(std::move(json)));
}

void send_error(const connection_ptr& conn, const protocol::request_id& rid, errc code, std::string message) {
  log::write(code == errc::internal ? log::level::error : log::level::info, "directory", "request refused",
             {{"conn", conn->id()}, {"code", to_string(code)}, {"message", message}});
  send_json(conn, protocol::to_json(protocol::server::error{rid, code, std::move(message)}));
}

/// The group's route, its actor spawned (and loaded) on first use; null for an unknown group.
std::shared_ptr<group_route> group_actor_of(directory_self self, const id16& group) {
  auto& s = self->state;
  auto it = s.groups.find(group);
  if (it != s.groups.end()) return it->second;
  if (!s.svc->store->get_group(group)) return nullptr;
  return add_route(self, group, spawn_group(self->system(), s.svc, group));
}

std::shared_ptr<group_route> add_route(directory_self self, const id16& group, group_actor a) {
  auto& s = self->state;
  self->monitor(a);
  s.group_of_actor[a->id()] = group;
  return s.groups.insert_or_assign(group, std::make_shared<group_route>(std::move(a))).first->second;
}

namespace {

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

}  // namespace

}  // namespace detail

directory_actor spawn_directory(caf::actor_system& sys, std::shared_ptr<services> svc) {
  using namespace detail;
  namespace pc = protocol::client;
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
    self->set_down_handler([self](const caf::down_msg& msg) {
      // A group actor ended. After the directory's own stop its route is closed and forgotten
      // already; otherwise (it failed) close it now, so that nothing more is sent to it and the
      // next frame for the group loads it afresh.
      auto& s = self->state;
      auto it = s.group_of_actor.find(msg.source.id());
      if (it == s.group_of_actor.end()) return;
      const id16 group = it->second;
      s.group_of_actor.erase(it);
      auto g = s.groups.find(group);
      if (g == s.groups.end() || g->second->actor().address() != msg.source) return;
      log::error("directory", "a group actor failed; its route is closed and the group reloads on its next request",
                 {{"group", group.hex()}, {"reason", to_string(msg.reason)}});
      g->second->close_dead();
      s.groups.erase(g);
    });
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
