#include <caf/all.hpp>

#include <boost/json.hpp>

#include <chrono>
#include <map>
#include <vector>

#include "actors/events.hpp"
#include "actors/messages.hpp"
#include "common/log.hpp"
#include "common/time.hpp"

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sealcast::actors::event)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sealcast::actors::event_listener)

namespace sealcast::actors {

namespace {

using listen_atom = caf::atom_constant<caf::atom("listen")>;
using unlisten_atom = caf::atom_constant<caf::atom("unlisten")>;
constexpr auto flush_delay = std::chrono::milliseconds(20);

struct bus_state {
  static inline const char* name = "sealcast.events";
  std::shared_ptr<services> svc;
  std::uint64_t next_seq = 1;
  persistence::write_batch pending;
  bool flush_scheduled = false;
  std::map<std::uint64_t, event_listener> listeners;
  std::uint64_t next_listener = 1;
};

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

caf::actor spawn_event_bus(caf::actor_system& sys, std::shared_ptr<services> svc) {
  return sys.spawn([svc](caf::stateful_actor<bus_state>* self) -> caf::behavior {
    auto& st = self->state;
    st.svc = svc;
    if (auto n = svc->store->get_meta_u64(persistence::meta_names::next_event_seq)) st.next_seq = *n;
    else if (auto last = svc->store->last_event_seq()) st.next_seq = *last + 1;
    auto flush = [self] {
      auto& s = self->state;
      s.flush_scheduled = false;
      if (s.pending.empty()) return;
      s.pending.put_meta_u64(persistence::meta_names::next_event_seq, s.next_seq);
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
          if (i < s.svc->persist_event.size() && s.svc->persist_event[i]) {
            s.pending.put_event(r);
            if (!s.flush_scheduled) {
              s.flush_scheduled = true;
              self->delayed_send(self, flush_delay, flush_atom::value);
            }
          }
          for (auto& [id, l] : s.listeners) l(r);
        },
        [flush](flush_atom) { flush(); },
        [self](listen_atom, event_listener& l) -> std::uint64_t {
          auto& s = self->state;
          auto id = s.next_listener++;
          s.listeners.emplace(id, std::move(l));
          s.svc->live_event_listeners.store(true);
          return id;
        },
        [self](unlisten_atom, std::uint64_t id) {
          auto& s = self->state;
          s.listeners.erase(id);
          s.svc->live_event_listeners.store(!s.listeners.empty());
        },
        [self](clean_atom) {
          // Trim by age and by count; both bounds come from [events].
          auto& s = self->state;
          const auto& cfg = s.svc->cfg.events;
          const auto cutoff = now_ms() - static_cast<std::uint64_t>(cfg.retention.count()) * 1000;
          std::uint64_t before = 0;
          if (s.next_seq > cfg.max_events + 1) before = s.next_seq - cfg.max_events;
          // Walk the oldest events until one is young enough.
          for (;;) {
            auto first = s.svc->store->first_event_seq();
            if (!first) break;
            auto page = s.svc->store->events_from(std::max(*first, before), 256);
            if (!page || page->empty()) break;
            bool stop = false;
            for (auto& ev : *page) {
              if (ev.ts_ms >= cutoff) {
                stop = true;
                break;
              }
              before = ev.seq + 1;
            }
            if (stop || page->size() < 256) break;
          }
          if (before > 0) {
            persistence::write_batch b;
            b.trim_events(before);
            s.svc->writer->submit(std::move(b), nullptr);
          }
        },
    };
  });
}

}  // namespace sealcast::actors
