#pragma once

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <memory>

#include "actors/services.hpp"

namespace sealcast::actors {

/// Spawns the direct-message actor: it stores directs (`direct`), streams each online
/// recipient's stored directs to its connections from the store, within their send windows
/// (nothing is kept in memory for an offline recipient but a few counters), takes `ack_direct`,
/// retries and fails unacknowledged deliveries, expires directs past the TTL in bounded steps, and
/// bounds the bytes one sender may have pending to one recipient (limits.direct_pending_bytes).
/// The bridge sends it `direct` and `ack_direct` requests; the directory tells it when a user's
/// connection is ready for its direct backlog (presence_change) and when it closed.
[[nodiscard]] caf::actor spawn_directs(caf::actor_system& sys, std::shared_ptr<services> svc);

/// Tells the directs actor that `user` authenticated (so that directs to it are accepted before
/// its user record is committed).
void tell_user_known(const caf::actor& directs, const id16& user);

}  // namespace sealcast::actors
