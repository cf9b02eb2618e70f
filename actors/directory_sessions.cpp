// The directory's sessions: a connection's hello (welcome, keys and backlogs) and its close.

#include <caf/all.hpp>

#include <chrono>
#include <vector>

#include "actors/detail/directory_state.hpp"
#include "actors/directs.hpp"
#include "actors/events.hpp"
#include "common/log.hpp"
#include "common/time.hpp"
#include "protocol/codec.hpp"

namespace sealcast::actors::detail {

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

}  // namespace sealcast::actors::detail
