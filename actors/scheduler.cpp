// The key-rotation scheduler (design.md, Actors): which groups rotate by age, decided across all
// stored groups, off the directory's mailbox and the groups' own ticks.

#include "actors/scheduler.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <chrono>
#include <optional>

#include "actors/messages.hpp"
#include "common/log.hpp"
#include "common/time.hpp"

namespace sealcast::actors {

namespace {

constexpr std::size_t sweep_step = 256;

using step_atom = caf::atom_constant<caf::atom("step")>;

struct scheduler_state {
  static inline const char* name = "sealcast.scheduler";
  std::shared_ptr<services> svc;
  std::optional<std::optional<id16>> after;  ///< where the running sweep goes on; unset when idle
};

using scheduler_actor = caf::stateful_actor<scheduler_state>;

void sweep_step_of(scheduler_actor* self) {
  auto& s = self->state;
  if (!s.after) return;
  const auto now = now_ms();
  const auto max_age_ms = static_cast<std::uint64_t>(s.svc->cfg.pubsub.key_rotation_interval.count()) * 1000;
  auto page = s.svc->store->scan_groups(*s.after, sweep_step);
  if (!page) log::warn("scheduler", "could not read the groups", {{"error", page.err().message}});
  if (!page || page->empty()) {
    s.after.reset();
    return;
  }
  for (auto& g : *page) {
    *s.after = g.id;
    if (g.epoch == 0 || g.pending_epoch != 0 || now < g.epoch_created_ms + max_age_ms) continue;
    self->send(s.svc->directory, rotate_atom::value, g.id, rotate_request{rotation_by_age, nullptr});
  }
  if (page->size() < sweep_step) {
    s.after.reset();
    return;
  }
  self->send(self, step_atom::value);
}

}  // namespace

caf::actor spawn_scheduler(caf::actor_system& sys, std::shared_ptr<services> svc) {
  return sys.spawn([svc](scheduler_actor* self) -> caf::behavior {
    self->state.svc = svc;
    const auto tenth = svc->cfg.pubsub.key_rotation_interval.count() / 10;
    const auto every = std::chrono::seconds(std::clamp<std::int64_t>(tenth, 1, 60));
    self->delayed_send(self, every, rotate_atom::value);
    return {
        [self, every](rotate_atom) {
          auto& s = self->state;
          if (!s.after) {
            s.after.emplace();
            sweep_step_of(self);
          }
          self->delayed_send(self, every, rotate_atom::value);
        },
        [self](step_atom) { sweep_step_of(self); },
    };
  });
}

}  // namespace sealcast::actors
