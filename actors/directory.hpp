#pragma once

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <memory>

#include "actors/services.hpp"

namespace sealcast::actors {

/// Spawns the directory: it maps group ids to group actors (loading them on first use), user
/// ids to their open connections, sends `welcome` and the user's backlog after `hello`, answers
/// the user-level requests (create_group, list_groups, list_users, user_keys) and carries direct
/// messages (store, deliver, ack, retry, expire). Everything for a group goes to its actor: a
/// connection's first frame for a group through the directory, which hands the connection the
/// group's route, and its later frames straight to the actor (actors/group_routes.hpp).
[[nodiscard]] caf::actor spawn_directory(caf::actor_system& sys, std::shared_ptr<services> svc);

}  // namespace sealcast::actors
