#pragma once

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <memory>

#include "actors/messages.hpp"

namespace sealcast::actors {

struct services;
struct event;  // actors/services.hpp

namespace detail {
struct event_subscription;  // private to event_bus.cpp: a subscribe_events call (actors/events.hpp)
}  // namespace detail

/// The event bus (spawn_event_bus below).
using event_bus_actor = caf::typed_actor<
    // From services::emit (any thread), subscribe_events and unsubscribe_events (actors/events.hpp).
    caf::reacts_to<event>, caf::reacts_to<listen_atom, detail::event_subscription>,
    caf::reacts_to<unlisten_atom, std::uint64_t>,
    // From the reaper: trim history and outcomes. Sent to itself: hand batched events to the writer.
    caf::reacts_to<clean_atom>, caf::reacts_to<flush_atom>>;  // sent to itself: hand the batched events to the writer

/// Spawns the event bus: assigns each event a sequence number, persists the types chosen in
/// [events] (batched through the storage writer), trims history past retention or max_events,
/// and forwards every event to the live listeners.
[[nodiscard]] event_bus_actor spawn_event_bus(caf::actor_system& sys, std::shared_ptr<services> svc);

}  // namespace sealcast::actors
