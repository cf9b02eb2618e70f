#include "actors/event_bus.hpp"

#include <caf/all.hpp>

#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <vector>

#include "actors/events.hpp"
#include "actors/messages.hpp"
#include "common/log.hpp"
#include "common/time.hpp"

namespace sealcast::actors::detail {
/// A subscribe_events call on its way to the bus.
struct event_subscription {
  std::uint64_t token = 0;
  event_listener listener;
  subscription_ready ready;
};
}  // namespace sealcast::actors::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sealcast::actors::event)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sealcast::actors::detail::event_subscription)

namespace sealcast::actors {

namespace {

/// Events walked and outcomes trimmed per cleanup pass, so one pass stays a bounded scan and write.
constexpr std::size_t trim_max = 100000;

/// The outcome rows the trim believes are stored; touched only on the storage writer thread.
struct outcome_tally {
  bool counted = false;
  std::uint64_t rows = 0;
  std::uint64_t cleaned_seen = 0;  ///< the message_cleaned counter at the last pass
};
std::atomic<std::uint64_t> next_subscription{1};

constexpr auto flush_delay = std::chrono::milliseconds(20);

struct bus_state {
  static inline const char* name = "sealcast.events";
  std::shared_ptr<services> svc;
  std::uint64_t next_seq = 1;
  std::uint64_t saved_seq = 0;  ///< next_seq as last handed to the writer
  persistence::write_batch pending;
  bool flush_scheduled = false;
  std::map<std::uint64_t, event_listener> listeners;  ///< by subscription token
  std::shared_ptr<outcome_tally> outcomes = std::make_shared<outcome_tally>();
};

using bus_self = event_bus_actor::stateful_pointer<bus_state>;

/// Builds one trim pass: events past retention or beyond max_events, and message outcomes
/// past retention or beyond max_events rows (the oldest first), each bounded per pass.
persistence::write_batch stage_trim(const services& svc, persistence::store& store, std::uint64_t next_seq,
                                    outcome_tally& tally) {
  const auto& cfg = svc.cfg.events;
  const auto cutoff = now_ms() - static_cast<std::uint64_t>(cfg.retention.count()) * 1000;
  std::uint64_t before = 0;
  if (next_seq > cfg.max_events + 1) before = next_seq - cfg.max_events;
  // Walk the oldest events until one is young enough, at most one pass's worth.
  std::size_t walked = 0;
  while (walked < trim_max) {
    auto first = store.first_event_seq();
    if (!first) break;
    auto page = store.events_from(std::max(*first, before), 256);
    if (!page || page->empty()) break;
    bool stop = false;
    for (auto& ev : *page) {
      if (ev.ts_ms >= cutoff) {
        stop = true;
        break;
      }
      before = ev.seq + 1;
    }
    walked += page->size();
    if (stop || page->size() < 256) break;
  }
  persistence::write_batch b;
  if (before > 0) b.trim_events(before);

  // Outcomes of deleted messages: counted once, then followed by the cleaned-message counter
  // (each deletion writes one outcome), so the count bound needs no scan per pass.
  const auto cleaned = svc.counters.count(event_type::message_cleaned);
  if (!tally.counted) {
    if (auto n = store.count_outcomes()) {
      tally.rows = *n;
      tally.counted = true;
    }
  } else {
    tally.rows += cleaned - tally.cleaned_seen;
  }
  tally.cleaned_seen = cleaned;
  auto aged = store.stage_outcome_trim(b, cutoff, trim_max);
  if (!aged) {
    log::warn("events", "could not trim message outcomes", {{"error", aged.err().message}});
    return b;
  }
  std::size_t trimmed = *aged;
  const std::uint64_t excess = tally.rows > cfg.max_events ? tally.rows - cfg.max_events : 0;
  if (excess > trimmed) {
    // Deleting the oldest `excess` rows covers the aged ones again: deletes are idempotent.
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(excess, trim_max));
    if (auto n = store.stage_outcome_trim(b, UINT64_MAX, want)) trimmed = std::max(trimmed, *n);
  }
  tally.rows -= std::min<std::uint64_t>(tally.rows, trimmed);
  return b;
}

}  // namespace

std::string event_data(std::initializer_list<std::pair<std::string_view, data_value>> kv) {
  boost::json::object o;
  for (auto& [k, v] : kv) {
    std::visit(
        [&](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, std::string_view>)
            o[k] = boost::json::string(x);
          else
            o[k] = x;
        },
        v);
  }
  return boost::json::serialize(o);
}

void services::emit(event e) {
  counters.bump(e.type);
  const auto i = static_cast<std::size_t>(e.type);
  const bool persist = i < persist_event.size() && persist_event[i];
  if ((persist || live_event_listeners.load(std::memory_order_relaxed)) && event_bus)
    caf::anon_send(event_bus, std::move(e));
}

bool services::alg_allowed(protocol::aead_alg a) const noexcept {
  for (auto x : allowed_algs)
    if (x == a) return true;
  return false;
}

std::uint64_t subscribe_events(const services& svc, event_listener listener, subscription_ready ready) {
  const auto token = next_subscription.fetch_add(1, std::memory_order_relaxed);
  if (svc.event_bus)
    caf::anon_send(svc.event_bus, listen_atom::value,
                   detail::event_subscription{token, std::move(listener), std::move(ready)});
  return token;
}

void unsubscribe_events(const services& svc, std::uint64_t token) {
  if (svc.event_bus) caf::anon_send(svc.event_bus, unlisten_atom::value, token);
}

event_bus_actor spawn_event_bus(caf::actor_system& sys, std::shared_ptr<services> svc) {
  return sys.spawn([svc](bus_self self) -> event_bus_actor::behavior_type {
    auto& st = self->state;
    st.svc = svc;
    if (auto n = svc->store->get_meta_u64(persistence::meta_names::next_event_seq)) st.next_seq = *n;
    else if (auto last = svc->store->last_event_seq()) st.next_seq = *last + 1;
    st.saved_seq = st.next_seq;
    // Streamed-only events (not persisted) use seqs too: next_seq is saved whenever it moved,
    // or a restart would hand the same seqs out again.
    auto flush = [self] {
      auto& s = self->state;
      s.flush_scheduled = false;
      if (s.pending.empty() && s.saved_seq == s.next_seq) return;
      s.pending.put_meta_u64(persistence::meta_names::next_event_seq, s.next_seq);
      s.saved_seq = s.next_seq;
      s.svc->writer->submit(std::move(s.pending), nullptr);
      s.pending = {};
    };
    self->set_exit_handler([self, flush](const caf::exit_msg& msg) {
      flush();
      self->quit(msg.reason);
    });
    return {
        [self](event& e) {
          auto& s = self->state;
          persistence::event_record r;
          r.seq = s.next_seq++;
          r.type = std::string(to_string(e.type));
          r.ts_ms = now_ms();
          r.group = e.group;
          r.user = e.user;
          r.message = e.message;
          r.data = std::move(e.data);
          const auto i = static_cast<std::size_t>(e.type);
          if (i < s.svc->persist_event.size() && s.svc->persist_event[i]) s.pending.put_event(r);
          if (!s.flush_scheduled) {
            s.flush_scheduled = true;
            self->delayed_send(self, flush_delay, flush_atom::value);
          }
          for (auto& [id, l] : s.listeners) l(r);
        },
        [flush](flush_atom) { flush(); },
        [self](listen_atom, detail::event_subscription& sub) {
          auto& s = self->state;
          s.listeners.emplace(sub.token, std::move(sub.listener));
          s.svc->live_event_listeners.store(true);
          // Everything numbered before next_seq goes to the writer now; it commits in order, so
          // once this batch is durable the history below next_seq is complete in the store.
          const auto first_live = s.next_seq;
          s.pending.put_meta_u64(persistence::meta_names::next_event_seq, s.next_seq);
          s.saved_seq = s.next_seq;
          s.svc->writer->submit(std::move(s.pending), [ready = std::move(sub.ready), first_live](const status&) {
            if (ready) ready(first_live);
          });
          s.pending = {};
        },
        [self](unlisten_atom, std::uint64_t id) {
          auto& s = self->state;
          s.listeners.erase(id);
          s.svc->live_event_listeners.store(!s.listeners.empty());
        },
        [self](clean_atom) {
          // The scans run on the storage writer thread, never in this actor.
          auto& s = self->state;
          s.svc->writer->submit_staged(
              [svc = s.svc, next_seq = s.next_seq, tally = s.outcomes](persistence::store& store) {
                return stage_trim(*svc, store, next_seq, *tally);
              },
              nullptr);
        },
    };
  });
}

}  // namespace sealcast::actors
