// The cleanup reaper (design.md, Actors): the periodic sweep over the stored groups, off the
// directory's mailbox.

#include "actors/reaper.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <chrono>
#include <vector>

#include "actors/group_sweep.hpp"
#include "actors/messages.hpp"
#include "actors/services.hpp"

namespace sealcast::actors {

namespace {

struct reaper_state {
  static inline const char* name = "sealcast.reaper";
  std::shared_ptr<services> svc;
  group_sweep sweep;
};

using reaper_self = reaper_actor::stateful_pointer<reaper_state>;

void sweep_step(reaper_self self) {
  auto& s = self->state;
  auto& store = *s.svc->store;
  std::vector<id16> due;
  for (auto& g : s.sweep.next(store, "reaper")) {
    // Only a group with stored messages has anything to expire or delete.
    auto msgs = store.messages_of(g.id, 0, 1);
    if (msgs && !msgs->empty()) due.push_back(g.id);
  }
  if (!due.empty()) self->send(s.svc->directory, clean_groups{std::move(due)});
  if (s.sweep.running()) self->send(self, step_atom::value);
}

}  // namespace

reaper_actor spawn_reaper(caf::actor_system& sys, std::shared_ptr<services> svc) {
  return sys.spawn([svc](reaper_self self) -> reaper_actor::behavior_type {
    self->state.svc = svc;
    const auto every = std::chrono::seconds(std::max<std::int64_t>(1, svc->cfg.pubsub.cleanup_interval.count()));
    self->delayed_send(self, every, clean_atom::value);
    return {
        [self, every](clean_atom) {
          auto& s = self->state;
          if (!s.sweep.running()) {  // a sweep still running carries on; none starts twice
            s.sweep.start();
            sweep_step(self);
          }
          if (s.svc->event_bus) self->send(s.svc->event_bus, clean_atom::value);
          self->delayed_send(self, every, clean_atom::value);
        },
        [self](step_atom) { sweep_step(self); },
    };
  });
}

}  // namespace sealcast::actors
