#pragma once

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <memory>

#include "actors/messages.hpp"
#include "common/bytes.hpp"

namespace sealcast::actors {

struct services;

namespace detail {
// Private to directs.cpp: messages the directs actor gets from its own store writes and from
// tell_user_known.
struct direct_written;
struct user_known;
}  // namespace detail

/// The direct-message actor (spawn_directs below).
using directs_actor = caf::typed_actor<
    // `direct` and `ack_direct` requests, from the gateway or passed on by the directory.
    caf::reacts_to<client_request>,
    // From the directory: a user's connection is ready for its direct backlog, or closed.
    caf::reacts_to<presence_change>, caf::reacts_to<detail::user_known>,
    caf::reacts_to<stream_ready>,  // a connection's send window drained
    // Sent to itself: a direct's write finished, deletes committed (from the storage writer's
    // thread), the retry and expiry timers, and the next step of an expiry sweep.
    caf::reacts_to<detail::direct_written>, caf::reacts_to<durable_atom, id16>, caf::reacts_to<retry_atom>,
    caf::reacts_to<clean_atom>, caf::reacts_to<sweep_atom>>;

/// Spawns the direct-message actor: it stores directs (`direct`), streams each online
/// recipient's stored directs to its connections from the store, within their send windows
/// (nothing is kept in memory for an offline recipient but a few counters), takes `ack_direct`,
/// retries and fails unacknowledged deliveries, expires directs past the TTL in bounded steps, and
/// bounds the bytes one sender may have pending to one recipient (limits.direct_pending_bytes).
/// The bridge sends it `direct` and `ack_direct` requests; the directory tells it when a user's
/// connection is ready for its direct backlog (presence_change) and when it closed.
[[nodiscard]] directs_actor spawn_directs(caf::actor_system& sys, std::shared_ptr<services> svc);

/// Tells the directs actor that `user` authenticated (so that directs to it are accepted before
/// its user record is committed).
void tell_user_known(const directs_actor& directs, const id16& user);

}  // namespace sealcast::actors
