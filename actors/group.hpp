#pragma once

// The group actor's interface: one actor per loaded group (its state in actors/group_state.hpp).

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <memory>

#include "actors/messages.hpp"
#include "common/bytes.hpp"

namespace sealcast::actors {

struct services;

/// A group actor: members, epochs and keys, the window of stored messages and their delivery.
/// Senders other than the group itself reach it over its route (actors/group_routes.hpp).
using group_actor = caf::typed_actor<
    // A group frame, from a connection over the route or through the directory.
    caf::reacts_to<client_request>,
    // A user connected: its keys and backlog go out, then the answer (the directory sends the
    // direct backlog once every group has answered). Later presence: online (`restore` when
    // online since before this load) or offline, and a connection's drained send window.
    caf::replies_to<backlog_atom, presence_change>::with<bool>, caf::reacts_to<presence_change>,
    caf::reacts_to<stream_ready>,
    // Through the directory: rotation (scheduler, admin), cleanup (reaper), admin queries, and
    // the answer to this actor's idle offer.
    caf::reacts_to<rotate_request>, caf::reacts_to<clean_atom>, caf::reacts_to<group_query>,
    caf::reacts_to<message_query>, caf::reacts_to<stop_atom>,
    // Sent by the group to itself (write_done from the storage writer's thread).
    caf::reacts_to<write_done>, caf::reacts_to<pump_atom>, caf::reacts_to<retry_atom>, caf::reacts_to<flush_atom>,
    caf::reacts_to<deadline_atom, std::uint64_t>>;

/// Spawns the actor of an existing group (it loads itself from the store).
[[nodiscard]] group_actor spawn_group(caf::actor_system& sys, std::shared_ptr<services> svc, const id16& group);
/// Spawns the actor of a new group; it commits the creation and answers the creator.
[[nodiscard]] group_actor spawn_new_group(caf::actor_system& sys, std::shared_ptr<services> svc, group_creation c);

}  // namespace sealcast::actors
