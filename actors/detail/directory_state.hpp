#pragma once

// Private to the directory (actors/directory*.cpp): its state and what its files share.
// directory.cpp is the actor itself and the group routes (loading group actors, forwarding
// frames to them, unloading idle ones); directory_users.cpp answers the user-level requests;
// directory_sessions.cpp handles hello and closed connections.

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "actors/directory.hpp"
#include "actors/group_routes.hpp"
#include "actors/messages.hpp"
#include "actors/services.hpp"
#include "common/bytes.hpp"
#include "common/error.hpp"
#include "persistence/records.hpp"
#include "protocol/client_frames.hpp"

namespace sealcast::actors::detail {

struct directory_state {
  static inline const char* name = "sealcast.directory";
  std::shared_ptr<services> svc;
  /// Loaded group actors: the directory alone adds and closes routes (actors/group_routes.hpp).
  std::unordered_map<id16, std::shared_ptr<group_route>, id16_hash> groups;
  /// The group of each loaded actor, by actor id: the directory monitors them, and one that
  /// ends other than by the directory's stop (a failure) has its route closed and forgotten.
  std::unordered_map<caf::actor_id, id16> group_of_actor;
  std::unordered_map<id16, std::vector<connection_ptr>, id16_hash> online;
  /// Users seen since start. A user's record is authoritative here from `hello` on, before its
  /// write is committed, so a request naming a user who just connected never misses it.
  std::unordered_map<id16, persistence::user_record, id16_hash> users;
  /// New users whose first record is not committed yet (list_users adds them to its pages).
  std::set<id16> fresh;
};

using directory_self = directory_actor::stateful_pointer<directory_state>;

// -- directory.cpp ----------------------------------------------------------------------------

void send_json(const connection_ptr& conn, std::string json);
/// Answers `rid` with an error (logged at info, internal errors at error).
void send_error(const connection_ptr& conn, const protocol::request_id& rid, errc code, std::string message);
/// The group's route, its actor spawned (and loaded) on first use; null for an unknown group.
std::shared_ptr<group_route> group_actor_of(directory_self self, const id16& group);
/// Makes `a` the loaded actor of `group`, monitored (see group_of_actor), and returns its route.
std::shared_ptr<group_route> add_route(directory_self self, const id16& group, group_actor a);

/// Sends to a loaded group actor, counting the message. A route in `groups` is never closed:
/// only the directory closes one, and it forgets the route in the same step.
template <class... Ts>
void tell(directory_self self, group_route& g, Ts&&... xs) {
  [[maybe_unused]] const bool open = g.count();
  self->send(g.actor(), std::forward<Ts>(xs)...);
}

// -- directory_users.cpp ----------------------------------------------------------------------

/// A known user: from the table of users seen since start, else from the store.
const persistence::user_record* find_user(directory_self self, const id16& id);
void create_group(directory_self self, const connection_ptr& conn, const id16& user, protocol::client::create_group& r);
void list_groups(directory_self self, const connection_ptr& conn, const id16& user,
                 const protocol::client::list_groups& r);
void list_users(directory_self self, const connection_ptr& conn, const protocol::client::list_users& r);
void user_keys(directory_self self, const connection_ptr& conn, const protocol::client::user_keys& r);

// -- directory_sessions.cpp -------------------------------------------------------------------

/// A connection authenticated: record the user, send `welcome`, and have each of its groups
/// (then the directs actor) send it keys and backlog.
void on_hello(directory_self self, hello_done& h);
/// A connection closed: its user's groups and the directs actor stop streaming to it.
void on_closed(directory_self self, conn_closed& c);

}  // namespace sealcast::actors::detail
