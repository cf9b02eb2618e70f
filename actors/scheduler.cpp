// The key-rotation scheduler (design.md, Actors): which groups rotate by age, decided across all
// stored groups, off the directory's mailbox and the groups' own ticks.

#include "actors/scheduler.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <chrono>

#include "actors/group_sweep.hpp"
#include "actors/messages.hpp"
#include "actors/services.hpp"
#include "common/time.hpp"

namespace sealcast::actors {

namespace {

struct scheduler_state {
  static inline const char* name = "sealcast.scheduler";
  std::shared_ptr<services> svc;
  group_sweep sweep;
};

using scheduler_self = scheduler_actor::stateful_pointer<scheduler_state>;

void sweep_step(scheduler_self self) {
  auto& s = self->state;
  const auto now = now_ms();
  for (auto& g : s.sweep.next(*s.svc->store, "scheduler"))
    if (epoch_aged(g, s.svc->cfg.pubsub.key_rotation_interval, now))
      self->send(s.svc->directory, rotate_atom::value, g.id, rotate_request{rotation_by_age, nullptr});
  if (s.sweep.running()) self->send(self, step_atom::value);
}

}  // namespace

scheduler_actor spawn_scheduler(caf::actor_system& sys, std::shared_ptr<services> svc) {
  return sys.spawn([svc](scheduler_self self) -> scheduler_actor::behavior_type {
    self->state.svc = svc;
    const auto tenth = svc->cfg.pubsub.key_rotation_interval.count() / 10;
    const auto every = std::chrono::seconds(std::clamp<std::int64_t>(tenth, 1, 60));
    self->delayed_send(self, every, rotate_atom::value);
    return {
        [self, every](rotate_atom) {
          auto& s = self->state;
          if (!s.sweep.running()) {
            s.sweep.start();
            sweep_step(self);
          }
          self->delayed_send(self, every, rotate_atom::value);
        },
        [self](step_atom) { sweep_step(self); },
    };
  });
}

}  // namespace sealcast::actors
