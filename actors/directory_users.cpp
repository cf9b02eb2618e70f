// The directory's user-level requests: create_group, list_groups, list_users and user_keys, and
// the table of users they read (actors/detail/directory_state.hpp).

#include <caf/all.hpp>

#include <algorithm>
#include <map>
#include <set>

#include "actors/detail/directory_state.hpp"
#include "actors/group.hpp"
#include "common/time.hpp"
#include "crypto/random.hpp"
#include "protocol/codec.hpp"

namespace sealcast::actors::detail {

namespace pc = protocol::client;

const persistence::user_record* find_user(directory_self self, const id16& id) {
  auto& s = self->state;
  if (auto it = s.users.find(id); it != s.users.end()) return &it->second;
  auto u = s.svc->store->get_user(id);
  if (!u) return nullptr;
  return &s.users.emplace(id, std::move(*u)).first->second;
}

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
  add_route(self, gid, spawn_new_group(self->system(), s.svc, std::move(c)));
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

}  // namespace sealcast::actors::detail
