#include <caf/all.hpp>

#include <algorithm>
#include <chrono>

#include "actors/events.hpp"
#include "actors/group_state.hpp"
#include "common/log.hpp"
#include "common/time.hpp"
#include "crypto/random.hpp"
#include "protocol/codec.hpp"

namespace sealcast::actors {

namespace {

constexpr std::uint64_t fetch_default_limit = 100;
constexpr std::uint64_t fetch_max_limit = 1000;
constexpr std::uint64_t fetch_max_scan = 4096;
constexpr auto cursor_flush_delay = std::chrono::milliseconds(50);

protocol::server::message to_frame(const persistence::message_record& m) {
  protocol::server::message f;
  f.group = m.group;
  f.seq = m.seq;
  f.id = m.id;
  f.sender = m.sender;
  f.epoch = m.epoch;
  f.index = m.index;
  f.alg = static_cast<protocol::aead_alg>(m.alg);
  f.nonce = m.nonce;
  f.ct = m.ct;
  f.sig = m.sig;
  f.ts = m.ts_ms;
  return f;
}

}  // namespace

pending_message* group_state::entry(std::uint64_t seq) {
  if (seq < window_base || seq >= window_base + window.size()) return nullptr;
  return &window[seq - window_base];
}

std::shared_ptr<const std::string> group_state::frame_of(pending_message& e) {
  if (e.frame) return e.frame;
  auto m = svc->store->get_message(rec.id, e.seq);
  if (!m) {
    log::warn("group", "stored message missing", {{"group", rec.id.hex()}, {"seq", e.seq}});
    return nullptr;
  }
  auto f = std::make_shared<const std::string>(protocol::to_json(to_frame(*m)));
  cache_frame(e, f);
  return f;
}

void group_state::cache_frame(pending_message& e, std::shared_ptr<const std::string> f) {
  if (e.frame || !f) return;
  const auto n = f->size();
  if (n > services::group_frame_cache_max) return;
  // Room in this group's share first, then in the broker's: the oldest cached frames go.
  while (!cached.empty() && (cached_bytes + n > services::group_frame_cache_max ||
                             svc->frame_cache_bytes.load(std::memory_order_relaxed) + static_cast<std::int64_t>(n) >
                                 services::frame_cache_max)) {
    auto* old = entry(*cached.begin());
    if (old && old->frame) {
      uncache(*old);
    } else {
      cached.erase(cached.begin());
    }
  }
  if (svc->frame_cache_bytes.load(std::memory_order_relaxed) + static_cast<std::int64_t>(n) > services::frame_cache_max)
    return;  // other groups hold the broker's share: served from the store
  e.frame = std::move(f);
  cached.insert(e.seq);
  cached_bytes += n;
  svc->frame_cache_bytes.fetch_add(static_cast<std::int64_t>(n), std::memory_order_relaxed);
}

void group_state::uncache(pending_message& e) {
  if (!e.frame) return;
  const auto n = e.frame->size();
  e.frame.reset();
  cached.erase(e.seq);
  cached_bytes -= n;
  svc->frame_cache_bytes.fetch_sub(static_cast<std::int64_t>(n), std::memory_order_relaxed);
}

void group_state::pop_window() {
  uncache(window.front());
  window.pop_front();
  ++window_base;
}

// -- publish ----------------------------------------------------------------------------------

void group_state::accept_publish(client_request& req, protocol::client::publish& p) {
  const auto& conn = req.conn;
  const id16 user = req.user;
  if (!find_member(user)) return reply_error(conn, p.rid, errc::not_member, "not a member of this group");
  if (!svc->alg_allowed(p.alg))
    return reply_error(conn, p.rid, errc::bad_request,
                       "algorithm '" + std::string(protocol::to_string(p.alg)) + "' is not allowed by this broker");
  if (rec.custody == persistence::key_custody::client &&
      (rec.epoch == 0 || (rec.pending_epoch != 0 && rec.rekey_after_removal)))
    return reply_error(conn, p.rid, errc::rekey_pending, "the group is waiting for a rekey by an admin");
  if (p.epoch != rec.epoch) {
    bool grace = false;
    if (p.epoch + 1 == rec.epoch) {
      const auto* cur = epoch_rec(rec.epoch);
      grace = cur && !cur->removal &&
              now_ms() <= cur->created_ms + static_cast<std::uint64_t>(svc->cfg.pubsub.epoch_grace_ms.count());
    }
    if (!grace)
      return reply_error(conn, p.rid, errc::stale_epoch,
                         "epoch " + std::to_string(p.epoch) + " is not current (current is " +
                             std::to_string(rec.epoch) + ")");
  }

  persistence::message_record m;
  m.group = rec.id;
  m.seq = rec.next_seq++;
  m.id = crypto::random_id();
  m.sender = user;
  m.epoch = p.epoch;
  m.index = p.index;
  m.alg = static_cast<std::uint8_t>(p.alg);
  m.nonce = std::move(p.nonce);
  m.ct = std::move(p.ct);
  m.sig = p.sig;
  m.ts_ms = now_ms();
  if (const auto* er = epoch_rec(p.epoch)) {
    const auto n = er->members.size();
    m.recipient_count = static_cast<std::uint32_t>(epoch_has(p.epoch, user) && n > 0 ? n - 1 : n);
  }
  if (p.epoch == rec.epoch) ++rec.epoch_message_count;

  auto frame = std::make_shared<const std::string>(protocol::to_json(to_frame(m)));
  persistence::write_batch batch;
  batch.put_message(m);
  batch.put_group(rec);
  window.push_back(pending_message{m.seq, m.id, m.sender, m.epoch, m.ts_ms, steady_us(), nullptr, false, false});
  // Cached while the write is in flight so that the fan-out after it needs no read; kept after
  // that only as far as the frame caches allow.
  cache_frame(window.back(), std::move(frame));
  const auto seq = m.seq;
  const auto size = m.ct.size();
  auto rid = p.rid;
  commit(std::move(batch), [this, seq, conn, rid, size](const write_done& w) {
    auto* e = entry(seq);
    if (!e) return;
    if (!w.ok) return publish_not_stored(seq, conn, rid, w.error);
    e->durable = true;
    svc->counters.pending_messages.fetch_add(1, std::memory_order_relaxed);
    reply(conn, protocol::make_ok(rid, protocol::publish_result{e->id, seq, e->ts_ms}));
    svc->emit(event{event_type::message_published, rec.id, e->sender, e->id,
                    event_data({{"seq", seq}, {"epoch", e->epoch}, {"bytes", size}})});
    for (auto& [id, member] : members) {
      if (id == e->sender)
        skip_settled(member);
      else if (!member.conns.empty())
        pump(member);
    }
    maybe_rotate_by_policy();
  });
}

// -- delivery ---------------------------------------------------------------------------------

bool group_state::epoch_has(std::uint64_t e, const id16& user) {
  const auto* er = epoch_rec(e);
  if (!er) return false;
  // Manifest members are kept sorted by user id (they come from the sorted member map).
  auto it = std::lower_bound(er->members.begin(), er->members.end(), user,
                             [](const persistence::manifest_member& a, const id16& b) { return a.user < b; });
  return it != er->members.end() && it->user == user;
}

bool group_state::is_recipient(const pending_message& e, const member_state& m) {
  if (e.dead || e.sender == m.rec.user || e.seq < m.rec.joined_seq) return false;
  return epoch_has(e.epoch, m.rec.user);
}

void group_state::skip_settled(member_state& m) {
  // Everything up to the cursor is settled; so are deleted seqs, failed writes, the member's own
  // messages and those from before it joined: move the cursor over them.
  auto& acked = m.rec.acked_seq;
  const auto before = acked;
  if (acked + 1 < window_base) acked = window_base - 1;
  if (acked + 1 < m.rec.joined_seq) acked = m.rec.joined_seq - 1;
  while (acked + 1 < rec.next_seq) {
    auto* e = entry(acked + 1);
    if (e && is_recipient(*e, m)) break;
    ++acked;
  }
  if (acked != before) {
    m.dirty = true;
    schedule_cursor_flush();
  }
  if (m.sent_seq < acked) m.sent_seq = acked;
}

void group_state::pump(member_state& m) {
  if (m.conns.empty() || m.pump_queued) return;
  m.pump_queued = true;
  pumps.push_back(m.rec.user);
  if (!pump_scheduled) {
    pump_scheduled = true;
    self->send(self, pump_atom::value);
  }
}

void group_state::run_pumps() {
  pump_scheduled = false;
  auto due = std::move(pumps);
  pumps.clear();
  for (const auto& user : due) {
    auto* m = find_member(user);
    if (!m) continue;
    m->pump_queued = false;
    if (!m->conns.empty()) pump_now(*m);
  }
  staged.flush();
}

void group_state::pump_now(member_state& m) {
  bool sent = false;
  for (const auto& c : m.conns) sent |= pump_stream(m, c);
  for (const auto& [id, st] : m.streams) m.sent_seq = std::max(m.sent_seq, st.sent_seq);
  if (sent && m.attempts == 0) {
    m.attempts = 1;
    m.last_send_ms = now_ms();
  }
}

bool group_state::pump_stream(member_state& m, const connection_ptr& conn) {
  auto& st = m.streams[conn->id()];
  const std::uint64_t max_inflight = svc->cfg.limits.max_inflight;
  const auto now_us = steady_us();
  const auto& user = m.rec.user;
  bool sent = false;
  // A full window: wait for the connection to drain. A connection that stopped reading is
  // closed by offer() once its queue has not moved for limits.stall_timeout_ms.
  auto blocked = [&](broker::connection::offer_result r) {
    if (r == broker::connection::offer_result::full && !st.waiting) {
      st.waiting = true;
      conn->when_ready([me = caf::actor_cast<group_actor>(self), user, id = conn->id()] {
        caf::anon_send(me, stream_ready{user, id});
      });
    }
  };
  for (std::uint64_t s = std::max(st.sent_seq, m.rec.acked_seq) + 1; s < rec.next_seq; ++s) {
    auto* e = entry(s);
    if (e && !e->durable && !e->dead) break;  // not durable yet: nothing after it goes out either
    if (e && is_recipient(*e, m)) {
      if (s > m.rec.acked_seq + max_inflight) break;
      // Key catch-up, one epoch at a time as the backlog reaches it: the current epoch's key
      // went out when the connection came online and later ones as they were made.
      if (e->epoch < st.start_epoch &&
          std::find(st.keys_sent.begin(), st.keys_sent.end(), e->epoch) == st.keys_sent.end()) {
        if (auto k = key_frame(e->epoch, user)) {
          const auto r = conn->offer(k, staged);
          if (r != broker::connection::offer_result::sent) {
            blocked(r);
            break;
          }
        }
        st.keys_sent.push_back(e->epoch);
      }
      if (auto f = frame_of(*e)) {
        const auto r = conn->offer(f, staged);
        if (r != broker::connection::offer_result::sent) {
          blocked(r);
          break;
        }
        if (e->attempts == 0 && e->accepted_us) svc->counters.publish_to_deliver.record_us(now_us - e->accepted_us);
        ++e->attempts;
        sent = true;
      }
    }
    st.sent_seq = s;
  }
  return sent;
}

void group_state::on_stream_ready(const id16& user, std::uint64_t conn_id) {
  auto* m = find_member(user);
  if (!m) return;
  auto it = m->streams.find(conn_id);
  if (it == m->streams.end()) return;
  it->second.waiting = false;
  pump(*m);
}

void group_state::on_ack(const id16& user, std::uint64_t seq) {
  auto* m = find_member(user);
  if (!m) return;
  seq = std::min(seq, rec.next_seq - 1);
  if (seq <= m->rec.acked_seq) return;
  // message_delivered is not persisted by default: then only counted, nothing built per message.
  const bool wanted = svc->event_wanted(event_type::message_delivered);
  for (auto s = m->rec.acked_seq + 1; s <= seq; ++s) {
    auto* e = entry(s);
    if (!e || !e->durable || !is_recipient(*e, *m)) continue;
    if (wanted)
      svc->emit(event{event_type::message_delivered, rec.id, user, e->id, event_data({{"seq", s}})});
    else
      svc->counters.bump(event_type::message_delivered);
  }
  m->rec.acked_seq = seq;
  m->dirty = true;
  skip_settled(*m);
  m->attempts = m->sent_seq > m->rec.acked_seq ? 1 : 0;
  m->last_send_ms = now_ms();
  schedule_cursor_flush();
  if (!m->conns.empty()) pump(*m);
}

void group_state::on_online(const id16& user, const connection_ptr& conn, bool restore) {
  auto* m = find_member(user);
  if (!m) return;
  for (auto& c : m->conns)
    if (c == conn) return;
  const bool first = m->conns.empty();
  m->conns.push_back(conn);
  auto& st = m->streams[conn->id()];
  st = member_stream{};
  st.start_epoch = rec.epoch;
  skip_settled(*m);
  st.sent_seq = m->rec.acked_seq;

  // Keys first: the current epoch's now; an older one just before the first backlog message that
  // needs it (pump_stream), so catch-up is streamed like the backlog.
  if (rec.epoch > 0 && !restore)
    if (auto f = key_frame(rec.epoch, user)) conn->send(f);

  if (first && !restore) {
    m->sent_seq = m->rec.acked_seq;
    m->attempts = 0;
    auto frame = std::make_shared<const std::string>(protocol::to_json(protocol::server::presence{rec.id, user, true}));
    push_to_members(frame, &user);
  } else if (first) {
    m->sent_seq = m->rec.acked_seq;
    m->attempts = 0;
  }
  // At once, not at the next pump: the directory sends the direct backlog after the groups'.
  pump_now(*m);
  staged.flush();
  // A client-custody group waiting for an admin who was offline: ask this one.
  if (rec.custody == persistence::key_custody::client && rec.pending_epoch != 0 && !rekey_asked && is_admin(user))
    ask_rekey();
}

void group_state::on_offline(const id16& user, const connection_ptr& conn) {
  auto* m = find_member(user);
  if (!m) return;
  std::erase(m->conns, conn);
  m->streams.erase(conn->id());
  if (!m->conns.empty()) return;
  m->sent_seq = m->rec.acked_seq;
  m->attempts = 0;
  auto frame = std::make_shared<const std::string>(protocol::to_json(protocol::server::presence{rec.id, user, false}));
  push_to_members(frame, &user);
  if (rekey_asked && *rekey_asked == user) {
    rekey_asked.reset();
    ask_rekey();
  }
}

void group_state::retry_tick() {
  const auto now = now_ms();
  const auto interval = static_cast<std::uint64_t>(svc->cfg.pubsub.retry_interval.count()) * 1000;
  const auto max_attempts = svc->cfg.pubsub.max_delivery_attempts;
  for (auto& [id, m] : members) {
    if (m.conns.empty() || m.sent_seq <= m.rec.acked_seq || now < m.last_send_ms + interval) continue;
    // Deliveries still queued behind a full window were not read yet, not refused: no attempt
    // is counted until the connection drains (a stalled one is closed by offer()).
    bool congested = false;
    for (auto& [cid, st] : m.streams) congested |= st.waiting;
    if (congested) {
      pump(m);
      continue;
    }
    if (m.attempts >= max_attempts) {
      for (auto s = m.rec.acked_seq + 1; s <= m.sent_seq; ++s) {
        auto* e = entry(s);
        if (!e || !is_recipient(*e, m)) continue;
        svc->emit(event{event_type::message_failed, rec.id, id, e->id,
                        event_data({{"seq", s}, {"attempts", m.attempts}, {"reason", "unacknowledged"}})});
        note_failed_delivery(*e, id, m.attempts);
      }
      m.rec.acked_seq = m.sent_seq;
      m.dirty = true;
      m.attempts = 0;
      skip_settled(m);
      pump(m);
      continue;
    }
    // Sent again through the streams, from the cursor on, within the send windows.
    for (auto& [cid, st] : m.streams) st.sent_seq = m.rec.acked_seq;
    pump(m);
    ++m.attempts;
    m.last_send_ms = now;
  }
  schedule_cursor_flush();
}

// -- cursors and cleanup ----------------------------------------------------------------------

void group_state::schedule_cursor_flush() {
  if (cursor_flush_scheduled) return;
  cursor_flush_scheduled = true;
  self->delayed_send(self, cursor_flush_delay, flush_atom::value);
}

void group_state::flush_cursors() {
  persistence::write_batch batch;
  for (auto& [id, m] : members) {
    if (!m.dirty) continue;
    batch.put_member_cursor(m.rec);  // roles change only through committed changes
    m.dirty = false;
  }
  if (!batch.empty()) svc->writer->submit(std::move(batch), nullptr);
  delete_delivered();
}

void group_state::delete_delivered() {
  std::uint64_t upto = rec.next_seq - 1;
  for (auto& [id, m] : members) upto = std::min(upto, m.rec.acked_seq);
  const auto retain_ms = static_cast<std::uint64_t>(svc->cfg.pubsub.retain_delivered.count()) * 1000;
  const auto now = now_ms();
  persistence::write_batch batch;
  std::int64_t removed = 0;
  while (!window.empty() && window_base <= upto) {
    auto& e = window.front();
    if (!e.dead && !e.durable) break;
    if (!e.dead) {
      if (retain_ms && e.ts_ms + retain_ms > now) break;
      // Deleted, but its final status stays answerable (admin API) until trimmed.
      batch.settle_message(outcome_of(e, persistence::message_outcome_status::delivered));
      svc->emit(event{event_type::message_cleaned, rec.id, e.sender, e.id,
                      event_data({{"seq", e.seq}, {"reason", "delivered"}})});
      ++removed;
    }
    pop_window();
  }
  if (removed) svc->counters.pending_messages.fetch_sub(removed, std::memory_order_relaxed);
  if (!batch.empty()) svc->writer->submit(std::move(batch), nullptr);
}

void group_state::clean_tick() {
  // Expire messages past the TTL; whoever still had not acknowledged one gets a failed delivery.
  const auto ttl_ms = static_cast<std::uint64_t>(svc->cfg.pubsub.max_message_ttl.count()) * 1000;
  const auto now = now_ms();
  persistence::write_batch batch;
  std::int64_t removed = 0;
  while (!window.empty()) {
    auto& e = window.front();
    if (!e.dead && (!e.durable || e.ts_ms + ttl_ms > now)) break;
    if (!e.dead) {
      for (auto& [id, m] : members) {
        if (m.rec.acked_seq >= e.seq || !is_recipient(e, m)) continue;
        svc->emit(event{event_type::message_failed, rec.id, id, e.id,
                        event_data({{"seq", e.seq}, {"reason", "expired"}})});
      }
      // Past the TTL; one that every recipient acknowledged (kept by retain_delivered) was delivered.
      const auto status = remaining_recipients(e) == 0 ? persistence::message_outcome_status::delivered
                                                       : persistence::message_outcome_status::expired;
      batch.settle_message(outcome_of(e, status));
      svc->emit(event{event_type::message_cleaned, rec.id, e.sender, e.id,
                      event_data({{"seq", e.seq}, {"reason", "expired"}})});
      ++removed;
    }
    pop_window();
  }
  if (removed) svc->counters.pending_messages.fetch_sub(removed, std::memory_order_relaxed);
  if (!batch.empty()) svc->writer->submit(std::move(batch), nullptr);
  for (auto& [id, m] : members) {
    skip_settled(m);
    if (!m.conns.empty()) pump(m);
  }
  flush_cursors();
}

// -- fetch ------------------------------------------------------------------------------------

void group_state::fetch(client_request& req, const protocol::client::fetch& f) {
  auto* m = find_member(req.user);
  if (!m) return reply_error(req.conn, f.rid, errc::not_member, "not a member of this group");
  const auto limit = std::min(f.limit.value_or(fetch_default_limit), fetch_max_limit);
  // Bounded three ways: `limit` messages, half a send window of bytes (at least one message),
  // and fetch_max_scan stored messages looked at; `next` says where to go on.
  const std::size_t max_bytes = svc->send_window() / 2;
  std::vector<std::string> frames;
  std::size_t bytes = 0;
  std::uint64_t scanned = 0;
  auto from = std::max(f.from_seq, m->rec.joined_seq);
  bool more = true;
  while (frames.size() < limit && bytes < max_bytes && scanned < fetch_max_scan) {
    auto batch = svc->store->messages_of(rec.id, from, static_cast<std::size_t>(std::min<std::uint64_t>(limit, 64)));
    if (!batch || batch->empty()) {
      more = false;
      break;
    }
    for (auto& msg : *batch) {
      from = msg.seq + 1;
      ++scanned;
      if (msg.sender == req.user || !epoch_has(msg.epoch, req.user)) continue;
      frames.push_back(protocol::to_json(to_frame(msg)));
      bytes += frames.back().size();
      if (frames.size() >= limit || bytes >= max_bytes || scanned >= fetch_max_scan) break;
    }
  }
  if (from >= rec.next_seq) more = false;
  std::vector<std::string_view> views(frames.begin(), frames.end());
  reply(req.conn, protocol::make_fetch_ok(f.rid, views, more ? std::optional<std::uint64_t>(from) : std::nullopt));
}

}  // namespace sealcast::actors
