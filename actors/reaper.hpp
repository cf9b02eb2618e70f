#pragma once

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <memory>

#include "actors/services.hpp"

namespace sealcast::actors {

/// Spawns the cleanup reaper. Every pubsub.cleanup_interval it sweeps the stored groups in steps
/// of 256, reading the store on its own actor (not on the directory's mailbox, which carries the
/// requests), and asks the directory to have each group that holds stored messages clean itself:
/// expire messages past max_message_ttl (their failed deliveries recorded), delete delivered ones
/// and flush cursors. Then it tells the event bus to trim its history and outcomes.
[[nodiscard]] caf::actor spawn_reaper(caf::actor_system& sys, std::shared_ptr<services> svc);

}  // namespace sealcast::actors
