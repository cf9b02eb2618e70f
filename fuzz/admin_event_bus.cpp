// The admin fuzz target runs the admin routes without an actor system (fuzz_admin_http.cpp). This
// stands in for actors/event_bus.cpp's subscription calls, which the event-stream route makes: an
// idle bus, for which every event before the store's next_event_seq is stored and nothing new
// comes, so /admin/events/stream replays the store and then only sends heartbeats.
//
// (The real event_bus.cpp is not linked: clang 14, the fuzz compiler, cannot compile its lambda
// that captures a structured binding, a C++20 feature clang supports from version 16.)

#include <atomic>

#include "actors/events.hpp"
#include "persistence/store.hpp"

namespace sealcast::actors {

std::uint64_t subscribe_events(const services& svc, event_listener, subscription_ready ready) {
  static std::atomic<std::uint64_t> next_token{1};
  auto next_seq = svc.store->get_meta_u64(persistence::meta_names::next_event_seq);
  if (ready) ready(next_seq ? *next_seq : 1);
  return next_token.fetch_add(1, std::memory_order_relaxed);
}

void unsubscribe_events(const services&, std::uint64_t) {}

}  // namespace sealcast::actors
