// The cleanup reaper (design.md, Actors): the periodic sweep over the stored groups, off the
// directory's mailbox.

#include "actors/reaper.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
#include <vector>

#include "actors/messages.hpp"
#include "common/log.hpp"

namespace sealcast::actors {

namespace {

/// Groups read per step: one step is a bounded scan, and other messages run between steps.
constexpr std::size_t sweep_step = 256;

using step_atom = caf::atom_constant<caf::atom("step")>;

struct reaper_state {
  static inline const char* name = "sealcast.reaper";
  std::shared_ptr<services> svc;
  /// Where the running sweep goes on (an empty id: from the start); unset when idle.
  std::optional<std::optional<id16>> after;
};

using reaper_actor = caf::stateful_actor<reaper_state>;

void sweep_step_of(reaper_actor* self) {
  auto& s = self->state;
  if (!s.after) return;
  auto& store = *s.svc->store;
  auto page = store.scan_groups(*s.after, sweep_step);
  if (!page) log::warn("reaper", "cleanup could not read the groups", {{"error", page.err().message}});
  if (!page || page->empty()) {
    s.after.reset();
    return;
  }
  std::vector<id16> due;
  for (auto& g : *page) {
    *s.after = g.id;
    // Only a group with stored messages has anything to expire or delete.
    auto msgs = store.messages_of(g.id, 0, 1);
    if (msgs && !msgs->empty()) due.push_back(g.id);
  }
  if (!due.empty()) self->send(s.svc->directory, clean_groups{std::move(due)});
  if (page->size() < sweep_step) {
    s.after.reset();
    return;
  }
  self->send(self, step_atom::value);
}

}  // namespace

caf::actor spawn_reaper(caf::actor_system& sys, std::shared_ptr<services> svc) {
  return sys.spawn([svc](reaper_actor* self) -> caf::behavior {
    self->state.svc = svc;
    const auto every = std::chrono::seconds(std::max<std::int64_t>(1, svc->cfg.pubsub.cleanup_interval.count()));
    self->delayed_send(self, every, clean_atom::value);
    return {
        [self, every](clean_atom) {
          auto& s = self->state;
          if (!s.after) {  // a sweep still running carries on; none starts twice
            s.after.emplace();
            sweep_step_of(self);
          }
          if (s.svc->event_bus) self->send(s.svc->event_bus, clean_atom::value);
          self->delayed_send(self, every, clean_atom::value);
        },
        [self](step_atom) { sweep_step_of(self); },
    };
  });
}

}  // namespace sealcast::actors
