#pragma once

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <memory>

#include "actors/messages.hpp"
#include "common/bytes.hpp"

namespace sealcast::actors {

struct services;

/// The directory: group ids to group actors, users to their connections (docs/design.md).
using directory_actor = caf::typed_actor<
    // From the gateway: a connection authenticated, closed, or sent a request that is not a
    // direct (a group frame with its link when the group has no route on the connection yet).
    caf::reacts_to<hello_done>, caf::reacts_to<conn_closed>, caf::reacts_to<client_request>,
    // From group actors: which members are online after a load, a new member's connections, and
    // the offer to stop an idle group (with the count of messages it received).
    caf::reacts_to<members_online>, caf::reacts_to<online_atom, id16, id16>,
    caf::reacts_to<idle_atom, id16, std::uint64_t>,
    // From the reaper, the scheduler and the admin API, each passed on to the group's actor.
    caf::reacts_to<clean_groups>, caf::reacts_to<rotate_atom, id16, rotate_request>, caf::reacts_to<group_query>,
    caf::reacts_to<message_query>,
    // Sent to itself from the storage writer's thread: a new user's first record is committed.
    caf::reacts_to<durable_atom, id16>>;

/// Spawns the directory: it maps group ids to group actors (loading them on first use), user
/// ids to their open connections, sends `welcome` and the user's backlog after `hello`, answers
/// the user-level requests (create_group, list_groups, list_users, user_keys) and carries direct
/// messages (store, deliver, ack, retry, expire). Everything for a group goes to its actor: a
/// connection's first frame for a group through the directory, which hands the connection the
/// group's route, and its later frames straight to the actor (actors/group_routes.hpp).
[[nodiscard]] directory_actor spawn_directory(caf::actor_system& sys, std::shared_ptr<services> svc);

}  // namespace sealcast::actors
