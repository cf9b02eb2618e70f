#include "actors/directs.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <chrono>
#include <limits>
#include <map>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "actors/events.hpp"
#include "actors/messages.hpp"
#include "actors/services.hpp"
#include "common/log.hpp"
#include "common/time.hpp"
#include "crypto/random.hpp"
#include "protocol/codec.hpp"

namespace sealcast::actors::detail {

/// A direct's store write finished (sent by the storage writer's thread to the directs actor).
struct direct_written {
  bool ok = false;
  connection_ptr conn;
  protocol::request_id rid;
  id16 recipient;
  id16 sender;
  id16 id;
  std::uint64_t ts_ms = 0;
  std::uint64_t bytes = 0;
};

/// A user authenticated: directs to it are accepted even before its record is committed.
struct user_known {
  id16 user;
};

}  // namespace sealcast::actors::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sealcast::actors::detail::direct_written)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sealcast::actors::detail::user_known)

namespace sealcast::actors {

namespace {

using detail::direct_written;
using detail::user_known;
using offer_result = broker::connection::offer_result;
namespace pc = protocol::client;

constexpr std::size_t stream_page = 32;   ///< directs read from the store per step of a stream
constexpr std::size_t sweep_page = 512;   ///< directs looked at per step of the expiry sweep
constexpr std::size_t count_page = 256;   ///< directs read per step when counting pending bytes

/// One connection of a recipient and how far its stream of stored directs has got.
struct stream {
  connection_ptr conn;
  std::uint64_t next_seq = 0;  ///< the next stored seq to offer
  bool waiting = false;        ///< its send window is full: a wake-up is registered
  bool closed = false;         ///< offer() said closed: dropped at the next pump
};

/// A direct written to a connection and not acknowledged yet.
struct unacked {
  id16 id;
  id16 sender;
  std::uint64_t bytes = 0;
  std::uint64_t last_send_ms = 0;
  std::uint32_t attempts = 0;
};

/// What is kept of one recipient: its connections' streams and unacknowledged directs while it is
/// online, and, once counted, the bytes each sender has pending to it.
struct recipient_state {
  std::vector<stream> streams;
  std::map<std::uint64_t, unacked> sent;  ///< by seq
  std::optional<std::unordered_map<id16, std::uint64_t, id16_hash>> pending;  ///< bytes by sender
};

struct directs_state {
  static inline const char* name = "sealcast.directs";
  std::shared_ptr<services> svc;
  std::unordered_map<id16, recipient_state, id16_hash> users;
  std::unordered_set<id16, id16_hash> known;     ///< users authenticated since start
  std::unordered_set<id16, id16_hash> deleting;  ///< acknowledged; the delete is not committed yet
  std::uint64_t next_seq = 1;
  std::optional<std::pair<id16, std::uint64_t>> sweep;  ///< where the running expiry sweep goes on
};

using directs_self = directs_actor::stateful_pointer<directs_state>;

void send_json(const connection_ptr& conn, std::string json) {
  conn->send(std::make_shared<const std::string>(std::move(json)));
}

void send_error(const connection_ptr& conn, const protocol::request_id& rid, errc code, std::string message) {
  log::write(code == errc::internal ? log::level::error : log::level::info, "directs", "request refused",
             {{"conn", conn->id()}, {"code", to_string(code)}, {"message", message}});
  send_json(conn, protocol::to_json(protocol::server::error{rid, code, std::move(message)}));
}

std::shared_ptr<const std::string> direct_frame(const persistence::direct_record& d) {
  return std::make_shared<const std::string>(
      protocol::to_json(protocol::server::direct{d.id, d.sender, d.sealed, d.sig, d.ts_ms}));
}

/// The bytes each sender has pending to `user`, counted from the store on first use.
std::unordered_map<id16, std::uint64_t, id16_hash>& pending_of(directs_self self, const id16& user) {
  auto& s = self->state;
  auto& rs = s.users[user];
  if (rs.pending) return *rs.pending;
  rs.pending.emplace();
  for (std::uint64_t from = 0;;) {
    auto page = s.svc->store->directs_of(user, from, count_page);
    if (!page || page->empty()) break;
    for (auto& d : *page)
      if (!s.deleting.contains(d.id)) (*rs.pending)[d.sender] += d.sealed.size();
    from = page->back().seq + 1;
    if (page->size() < count_page) break;
  }
  return *rs.pending;
}

void settle_pending(directs_self self, const id16& recipient, const id16& sender, std::uint64_t bytes) {
  auto it = self->state.users.find(recipient);
  if (it == self->state.users.end() || !it->second.pending) return;
  auto& p = *it->second.pending;
  auto ps = p.find(sender);
  if (ps == p.end()) return;
  ps->second -= std::min(ps->second, bytes);
  if (ps->second == 0) p.erase(ps);
}

/// Forgets a recipient that holds nothing worth keeping.
void maybe_forget(directs_self self, const id16& user) {
  auto it = self->state.users.find(user);
  if (it == self->state.users.end()) return;
  auto& rs = it->second;
  if (rs.streams.empty() && rs.sent.empty() && (!rs.pending || rs.pending->empty())) self->state.users.erase(it);
}

// -- streaming --------------------------------------------------------------------------------

/// Offers `user`'s stored directs to one connection from its position on, until its send window
/// is full, max_inflight directs are unacknowledged, or nothing is left.
void pump_stream(directs_self self, const id16& user, recipient_state& rs, stream& st) {
  auto& s = self->state;
  const std::size_t max_inflight = s.svc->cfg.limits.max_inflight;
  const auto now = now_ms();
  for (;;) {
    auto page = s.svc->store->directs_of(user, st.next_seq, stream_page);
    if (!page || page->empty()) return;
    for (auto& d : *page) {
      if (s.deleting.contains(d.id)) {
        st.next_seq = d.seq + 1;
        continue;
      }
      auto known = rs.sent.find(d.seq);
      if (known == rs.sent.end() && rs.sent.size() >= max_inflight) return;  // an ack makes room
      const auto r = st.conn->offer(direct_frame(d));
      if (r == offer_result::full) {
        if (!st.waiting) {
          st.waiting = true;
          st.conn->when_ready([me = caf::actor_cast<directs_actor>(self), user, id = st.conn->id()] {
            caf::anon_send(me, stream_ready{user, id});
          });
        }
        return;
      }
      if (r == offer_result::closed) {
        st.closed = true;
        return;
      }
      if (known == rs.sent.end()) {
        rs.sent.emplace(d.seq, unacked{d.id, d.sender, d.sealed.size(), now, 1});
      } else {
        known->second.last_send_ms = now;
      }
      st.next_seq = d.seq + 1;
    }
    if (page->size() < stream_page) return;
  }
}

void pump(directs_self self, const id16& user) {
  auto it = self->state.users.find(user);
  if (it == self->state.users.end()) return;
  for (auto& st : it->second.streams) pump_stream(self, user, it->second, st);
  std::erase_if(it->second.streams, [](const stream& st) { return st.closed; });
}

// -- requests ---------------------------------------------------------------------------------

void send_direct(directs_self self, const connection_ptr& conn, const id16& user, pc::direct& r) {
  auto& s = self->state;
  if (!s.known.contains(r.to)) {
    if (!s.svc->store->get_user(r.to)) return send_error(conn, r.rid, errc::unknown_user, "unknown user " + r.to.hex());
    s.known.insert(r.to);
  }
  const std::uint64_t bytes = r.sealed.size();
  const std::uint64_t limit = s.svc->cfg.limits.direct_pending_bytes;
  auto& pending = pending_of(self, r.to)[user];
  if (limit != 0 && pending + bytes > limit)
    return send_error(conn, r.rid, errc::rate_limited,
                      "user " + r.to.hex() + " has " + std::to_string(pending) +
                          " bytes of your direct messages unread (limits.direct_pending_bytes is " +
                          std::to_string(limit) + "); send more once it has read them");
  pending += bytes;  // reserved now, so that sends racing the write are counted
  persistence::direct_record d;
  d.recipient = r.to;
  d.seq = s.next_seq++;
  d.id = crypto::random_id();
  d.sender = user;
  d.sealed = std::move(r.sealed);
  d.sig = r.sig;
  d.ts_ms = now_ms();
  persistence::write_batch b;
  b.put_direct(d);
  b.put_meta_u64(persistence::meta_names::next_direct_seq, s.next_seq);
  auto me = caf::actor_cast<directs_actor>(self);
  direct_written w{false, conn, r.rid, d.recipient, user, d.id, d.ts_ms, bytes};
  s.svc->writer->submit(std::move(b), [me, w = std::move(w)](const status& st) mutable {
    w.ok = st.ok();
    caf::anon_send(me, std::move(w));
  });
}

void on_written(directs_self self, direct_written& w) {
  auto& s = self->state;
  if (!w.ok) {
    settle_pending(self, w.recipient, w.sender, w.bytes);
    return send_error(w.conn, w.rid, errc::internal, "the direct message could not be stored");
  }
  send_json(w.conn, protocol::make_ok(w.rid, protocol::direct_result{w.id, w.ts_ms}));
  s.svc->emit(event{event_type::direct_sent, std::nullopt, w.sender, w.id,
                    event_data({{"to", w.recipient.hex()}})});
  pump(self, w.recipient);
}

void ack_direct(directs_self self, const id16& user, const pc::ack_direct& a) {
  auto& s = self->state;
  auto loc = s.svc->store->find_message(a.id);
  if (!loc || loc->kind != persistence::message_kind::direct || loc->owner != user) return;
  if (!s.deleting.insert(a.id).second) return;  // a repeated ack
  std::optional<unacked> was;
  auto& rs = s.users[user];
  if (auto it = rs.sent.find(loc->seq); it != rs.sent.end()) {
    was = it->second;
    rs.sent.erase(it);
  } else if (auto d = s.svc->store->get_direct(user, loc->seq)) {
    was = unacked{d->id, d->sender, d->sealed.size(), 0, 0};
  }
  if (was) settle_pending(self, user, was->sender, was->bytes);
  persistence::write_batch b;
  b.delete_direct(user, loc->seq, a.id);
  auto me = caf::actor_cast<directs_actor>(self);
  const auto id = a.id;
  s.svc->writer->submit(std::move(b), [me, id](const status&) { caf::anon_send(me, durable_atom::value, id); });
  s.svc->emit(event{event_type::direct_delivered, std::nullopt, user, a.id, "{}"});
  pump(self, user);
}

// -- sessions ---------------------------------------------------------------------------------

void on_presence(directs_self self, presence_change& p) {
  auto& s = self->state;
  if (p.online) {
    s.known.insert(p.user);
    if (p.conn->closing()) return;  // closed before its backlog turn: its offline came first
    auto& rs = s.users[p.user];
    for (auto& st : rs.streams)
      if (st.conn == p.conn) return;
    rs.streams.push_back(stream{p.conn, 0, false});
    pump_stream(self, p.user, rs, rs.streams.back());
    return;
  }
  auto it = s.users.find(p.user);
  if (it == s.users.end()) return;
  auto& rs = it->second;
  std::erase_if(rs.streams, [&](const stream& st) { return st.conn == p.conn; });
  if (rs.streams.empty()) rs.sent.clear();  // sent again from the store when it is back
  maybe_forget(self, p.user);
}

void on_ready(directs_self self, const stream_ready& r) {
  auto it = self->state.users.find(r.user);
  if (it == self->state.users.end()) return;
  for (auto& st : it->second.streams) {
    if (st.conn->id() != r.conn) continue;
    st.waiting = false;
    pump_stream(self, r.user, it->second, st);
    return;
  }
}

/// Deletes one stored direct that will not be delivered, with its event.
void fail_direct(directs_self self, persistence::write_batch& b, const id16& recipient, std::uint64_t seq,
                 const id16& id, const id16& sender, std::uint64_t bytes, std::string data) {
  b.delete_direct(recipient, seq, id);
  settle_pending(self, recipient, sender, bytes);
  self->state.svc->emit(event{event_type::message_failed, std::nullopt, recipient, id, std::move(data)});
}

void retry(directs_self self) {
  auto& s = self->state;
  const auto now = now_ms();
  const auto interval = static_cast<std::uint64_t>(s.svc->cfg.pubsub.retry_interval.count()) * 1000;
  const auto max_attempts = s.svc->cfg.pubsub.max_delivery_attempts;
  persistence::write_batch b;
  std::vector<id16> room;
  std::vector<id16> failed;
  for (auto& [user, rs] : s.users) {
    if (rs.streams.empty()) continue;
    for (auto it = rs.sent.begin(); it != rs.sent.end();) {
      auto& u = it->second;
      if (now < u.last_send_ms + interval) {
        ++it;
        continue;
      }
      if (u.attempts >= max_attempts) {
        s.deleting.insert(u.id);
        failed.push_back(u.id);
        fail_direct(self, b, user, it->first, u.id, u.sender, u.bytes,
                    event_data({{"direct", true}, {"attempts", u.attempts}, {"reason", "unacknowledged"}}));
        it = rs.sent.erase(it);
        room.push_back(user);
        continue;
      }
      // Sent again to each connection with room; a full window is not the reader's refusal.
      auto d = s.svc->store->get_direct(user, it->first);
      if (!d) {
        it = rs.sent.erase(it);
        continue;
      }
      auto frame = direct_frame(*d);
      bool sent = false;
      for (auto& st : rs.streams) sent |= st.conn->offer(frame) == offer_result::sent;
      if (sent) {
        ++u.attempts;
        u.last_send_ms = now;
      }
      ++it;
    }
  }
  if (!b.empty()) {
    auto me = caf::actor_cast<directs_actor>(self);
    s.svc->writer->submit(std::move(b), [me, failed = std::move(failed)](const status&) {
      for (auto& id : failed) caf::anon_send(me, durable_atom::value, id);
    });
  }
  for (auto& u : room) pump(self, u);
}

/// One bounded step of the expiry sweep over every stored direct; sends itself the next step so
/// that requests are served in between.
void sweep_step(directs_self self) {
  auto& s = self->state;
  if (!s.sweep) return;
  const auto ttl_ms = static_cast<std::uint64_t>(s.svc->cfg.pubsub.max_message_ttl.count()) * 1000;
  const auto now = now_ms();
  auto page = s.svc->store->directs_from(s.sweep->first, s.sweep->second, sweep_page);
  if (!page) {
    log::warn("directs", "expiry sweep could not read", {{"error", page.err().message}});
    s.sweep.reset();
    return;
  }
  persistence::write_batch b;
  std::optional<id16> skip;  // a recipient whose remaining directs are younger
  for (auto& d : *page) {
    if (skip && d.recipient == *skip) continue;
    s.sweep = std::pair{d.recipient, d.seq + 1};
    if (d.ts_ms + ttl_ms > now) {
      // Seqs grow with time, so the rest of this recipient's directs are younger still.
      skip = d.recipient;
      s.sweep = std::pair{d.recipient, std::numeric_limits<std::uint64_t>::max()};
      continue;
    }
    if (s.deleting.contains(d.id)) continue;
    s.deleting.insert(d.id);
    if (auto it = s.users.find(d.recipient); it != s.users.end()) it->second.sent.erase(d.seq);
    fail_direct(self, b, d.recipient, d.seq, d.id, d.sender, d.sealed.size(),
                event_data({{"direct", true}, {"reason", "expired"}}));
  }
  if (!b.empty()) {
    // The ids stay in `deleting` until the delete is committed, so no stream sends them meanwhile.
    std::vector<id16> ids;
    for (auto& d : *page)
      if (s.deleting.contains(d.id)) ids.push_back(d.id);
    auto me = caf::actor_cast<directs_actor>(self);
    s.svc->writer->submit(std::move(b), [me, ids = std::move(ids)](const status&) {
      for (auto& id : ids) caf::anon_send(me, durable_atom::value, id);
    });
  }
  if (page->size() < sweep_page) {
    s.sweep.reset();
    return;
  }
  self->send(self, sweep_atom::value);
}

}  // namespace

directs_actor spawn_directs(caf::actor_system& sys, std::shared_ptr<services> svc) {
  return sys.spawn([svc](directs_self self) -> directs_actor::behavior_type {
    auto& st = self->state;
    st.svc = svc;
    if (auto n = svc->store->get_meta_u64(persistence::meta_names::next_direct_seq)) st.next_seq = *n;
    const auto retry_every = std::chrono::seconds(std::max<std::int64_t>(1, svc->cfg.pubsub.retry_interval.count()));
    const auto clean_every = std::chrono::seconds(std::max<std::int64_t>(1, svc->cfg.pubsub.cleanup_interval.count()));
    self->delayed_send(self, retry_every, retry_atom::value);
    self->delayed_send(self, clean_every, clean_atom::value);
    return {
        [self](client_request& req) {
          if (auto* d = std::get_if<pc::direct>(&req.frame)) return send_direct(self, req.conn, req.user, *d);
          if (auto* a = std::get_if<pc::ack_direct>(&req.frame)) return ack_direct(self, req.user, *a);
        },
        [self](direct_written& w) { on_written(self, w); },
        [self](user_known& u) { self->state.known.insert(u.user); },
        [self](presence_change& p) { on_presence(self, p); },
        [self](stream_ready& r) { on_ready(self, r); },
        [self](durable_atom, const id16& id) { self->state.deleting.erase(id); },
        [self, retry_every](retry_atom) {
          retry(self);
          self->delayed_send(self, retry_every, retry_atom::value);
        },
        [self, clean_every](clean_atom) {
          if (!self->state.sweep) {
            self->state.sweep = std::pair{id16{}, std::uint64_t{0}};
            sweep_step(self);
          }
          self->delayed_send(self, clean_every, clean_atom::value);
        },
        [self](sweep_atom) { sweep_step(self); },
    };
  });
}

void tell_user_known(const directs_actor& directs, const id16& user) { caf::anon_send(directs, user_known{user}); }

}  // namespace sealcast::actors
