#pragma once

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <chrono>
#include <cstdint>
#include <memory>

#include "actors/messages.hpp"
#include "persistence/records.hpp"

namespace sealcast::actors {

struct services;

/// The key-rotation scheduler; both messages are its own: the timer (rotate) and the next page of
/// a running sweep (step).
using scheduler_actor = caf::typed_actor<caf::reacts_to<rotate_atom>, caf::reacts_to<step_atom>>;

/// Spawns the key-rotation scheduler: it decides which groups rotate by age. It sweeps the
/// stored groups in steps of 256 every tenth of pubsub.key_rotation_interval (at least every
/// second, at most every minute) and asks the directory to rotate each group whose current
/// epoch is older than the interval, loaded or not (`rotate_request` with reason "age"; the
/// group checks the age again, so a group that rotated meanwhile does not rotate twice).
/// Rotation after pubsub.rotate_after_messages stays with the group, which counts its publishes.
[[nodiscard]] scheduler_actor spawn_scheduler(caf::actor_system& sys, std::shared_ptr<services> svc);

/// The reason the scheduler gives, which makes a group check its epoch's age first.
inline constexpr const char* rotation_by_age = "age";

/// Whether `g`'s current epoch is due for rotation by age at `now_ms`: keyed, no rekey pending,
/// and older than `max_age`. The scheduler asks it of the stored record, the group of its own.
[[nodiscard]] inline bool epoch_aged(const persistence::group_record& g, std::chrono::seconds max_age,
                                     std::uint64_t now_ms) noexcept {
  return g.epoch != 0 && g.pending_epoch == 0 &&
         now_ms >= g.epoch_created_ms + static_cast<std::uint64_t>(max_age.count()) * 1000;
}

}  // namespace sealcast::actors
