#pragma once

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <memory>

#include "actors/messages.hpp"

namespace sealcast::actors {

struct services;

/// The cleanup reaper; both messages are its own: the timer (clean) and the next page of a running
/// sweep (step).
using reaper_actor = caf::typed_actor<caf::reacts_to<clean_atom>, caf::reacts_to<step_atom>>;

/// Spawns the cleanup reaper. Every pubsub.cleanup_interval it sweeps the stored groups in steps
/// of 256, reading the store on its own actor (not on the directory's mailbox, which carries the
/// requests), and asks the directory to have each group that holds stored messages clean itself:
/// expire messages past max_message_ttl (their failed deliveries recorded), delete delivered ones
/// and flush cursors. Then it tells the event bus to trim its history and outcomes.
[[nodiscard]] reaper_actor spawn_reaper(caf::actor_system& sys, std::shared_ptr<services> svc);

}  // namespace sealcast::actors
