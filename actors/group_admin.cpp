// What the admin API reads from a group actor: its snapshot, the status of one stored message,
// and the outcome row kept when a message is deleted.

#include <algorithm>
#include <set>

#include "actors/group_state.hpp"
#include "common/log.hpp"
#include "common/time.hpp"

namespace sealcast::actors {

group_snapshot group_state::snapshot() {
  group_snapshot out;
  out.rec = rec;
  if (const auto* e = epoch_rec(rec.epoch)) out.key_id = e->key_id;
  for (const auto& [id, m] : members)
    out.members.push_back({id, m.rec.role, !m.conns.empty(), m.rec.acked_seq, m.rec.joined_ms});
  for (const auto& e : window)
    if (e.durable && !e.dead) ++out.pending_messages;
  // A member lacks an epoch key when none is stored for it: the current epoch's (a member
  // admitted while a client-custody rekey is pending) and the pending epoch's (not issued yet).
  std::vector<std::uint64_t> wanted;
  if (rec.epoch > 0) wanted.push_back(rec.epoch);
  if (rec.pending_epoch != 0 && rec.pending_epoch != rec.epoch) wanted.push_back(rec.pending_epoch);
  static const std::set<id16> nobody;
  for (auto e : wanted) {
    const auto it = key_holders.find(e);
    const auto& holders = it == key_holders.end() ? nobody : it->second;
    for (const auto& [id, m] : members)
      if (!holders.contains(id)) out.missing_keys.push_back({id, e});
  }
  return out;
}

std::uint32_t group_state::remaining_recipients(const pending_message& e) {
  std::uint32_t n = 0;
  for (auto& [id, m] : members)
    if (m.rec.acked_seq < e.seq && is_recipient(e, m)) ++n;
  return n;
}

std::optional<message_snapshot> group_state::message_status(std::uint64_t seq, const id16& id) {
  auto* e = entry(seq);
  if (!e || e->dead || !e->durable || e->id != id) return std::nullopt;
  message_snapshot out;
  out.id = e->id;
  out.group = rec.id;
  out.seq = e->seq;
  out.sender = e->sender;
  out.epoch = e->epoch;
  out.ts_ms = e->ts_ms;
  if (const auto* er = epoch_rec(e->epoch)) {
    const auto n = er->members.size();
    out.recipient_count = static_cast<std::uint32_t>(epoch_has(e->epoch, e->sender) && n > 0 ? n - 1 : n);
  }
  out.delivery_attempts = e->attempts;
  auto split = split_recipients(*e);
  out.remaining_recipients = static_cast<std::uint32_t>(split.failed.size() + split.unacked.size());
  out.delivered = std::move(split.delivered);
  out.failed = std::move(split.failed);
  out.pending = std::move(split.unacked);
  return out;
}

recipient_split group_state::split_recipients(const pending_message& e) {
  recipient_split out;
  // Who ran out of attempts stays failed, also after leaving the group; the others are the
  // recipients among the members, by their cursors.
  static const std::vector<id16> none;
  const auto it = failed_deliveries.find(e.seq);
  const auto& failed = it == failed_deliveries.end() ? none : it->second;
  out.failed = failed;
  for (auto& [id, m] : members) {
    if (std::binary_search(failed.begin(), failed.end(), id) || !is_recipient(e, m)) continue;
    (m.rec.acked_seq >= e.seq ? out.delivered : out.unacked).push_back(id);
  }
  return out;
}

persistence::message_outcome group_state::outcome_of(const pending_message& e,
                                                     persistence::message_outcome_status how) {
  (void)how;  // settled by the TTL or because every cursor passed it: either way, whoever had
              // not acknowledged it by now never will (`unacked` is empty in the second case)
  persistence::message_outcome o;
  o.settled_ms = now_ms();
  o.id = e.id;
  o.group = rec.id;
  o.seq = e.seq;
  o.sender = e.sender;
  o.epoch = e.epoch;
  o.ts_ms = e.ts_ms;
  if (const auto* er = epoch_rec(e.epoch)) {
    const auto n = er->members.size();
    o.recipient_count = static_cast<std::uint32_t>(epoch_has(e.epoch, e.sender) && n > 0 ? n - 1 : n);
  }
  o.delivery_attempts = e.attempts;
  auto split = split_recipients(e);
  o.per_recipient = true;
  o.delivered = std::move(split.delivered);
  o.failed = std::move(split.failed);
  o.expired = std::move(split.unacked);
  o.status = settled_status(o.delivered.size(), o.failed.size(), o.expired.size());
  o.remaining_recipients = static_cast<std::uint32_t>(o.failed.size() + o.expired.size());
  failed_deliveries.erase(e.seq);  // settle_message deletes the rows with the outcome
  return o;
}

void group_state::note_failed_delivery(const pending_message& e, const id16& user, std::uint32_t attempts) {
  // Failures of messages deleted meanwhile are settled already.
  failed_deliveries.erase(failed_deliveries.begin(), failed_deliveries.lower_bound(window_base));
  auto& list = failed_deliveries[e.seq];
  auto at = std::lower_bound(list.begin(), list.end(), user);
  if (at != list.end() && *at == user) return;
  list.insert(at, user);
  // Submitted before the cursor that moves past the message is flushed, so a restart never
  // finds the cursor moved without the failure recorded.
  persistence::write_batch b;
  b.put_delivery_failure(rec.id, persistence::delivery_failure{e.seq, user, now_ms(), attempts});
  svc->writer->submit(std::move(b), nullptr);
}

void group_state::publish_not_stored(std::uint64_t seq, const connection_ptr& conn, const protocol::request_id& rid,
                                     const std::string& why) {
  log::error("group", "publish write failed", {{"group", rec.id.hex()}, {"seq", seq}, {"error", why}});
  if (auto* e = entry(seq)) {
    e->dead = true;  // never delivered, never counted as pending
    uncache(*e);
    // While a change is being written, its group record (next_seq, count) is in flight too:
    // leave both alone then; the seq stays a gap like a deleted one.
    if (!changing) {
      // Counted only when published in the current epoch (a new epoch resets the count).
      if (e->epoch == rec.epoch && rec.epoch_message_count > 0) --rec.epoch_message_count;
      unstored_seqs.insert(seq);
      // Give back the newest seqs that were never stored, so that the next publish takes them
      // and no member sees a gap. A failed seq with a stored one after it stays a gap.
      while (!window.empty() && rec.next_seq > window_base && unstored_seqs.contains(rec.next_seq - 1)) {
        unstored_seqs.erase(rec.next_seq - 1);
        window.pop_back();
        --rec.next_seq;
      }
      std::erase_if(unstored_seqs, [this](std::uint64_t s) { return s < window_base || s >= rec.next_seq; });
      // No cursor may stand past a seq given back (skip_settled moves the sender's over its own
      // message), and a member admitted meanwhile is a recipient of what takes that seq.
      for (auto& [id, m] : members) {
        // Streams skip a dead seq: one given back is offered again when it is taken.
        for (auto& [cid, st] : m.streams) st.sent_seq = std::min(st.sent_seq, rec.next_seq - 1);
        m.sent_seq = std::min(m.sent_seq, rec.next_seq - 1);
        auto& r = m.rec;
        if (r.acked_seq < rec.next_seq && r.joined_seq <= rec.next_seq) continue;
        r.acked_seq = std::min(r.acked_seq, rec.next_seq - 1);
        r.joined_seq = std::min(r.joined_seq, rec.next_seq);
        m.sent_seq = std::min(m.sent_seq, rec.next_seq - 1);
        m.dirty = true;
        schedule_cursor_flush();
      }
    }
  }
  reply_error(conn, rid, errc::internal, "the message could not be stored: " + why);
}

}  // namespace sealcast::actors
