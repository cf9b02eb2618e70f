// What the admin API reads from a group actor: its snapshot, the status of one stored message,
// and the outcome row kept when a message is deleted.

#include <algorithm>
#include <set>

#include "actors/group_state.hpp"
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
  out.remaining_recipients = remaining_recipients(*e);
  return out;
}

persistence::message_outcome group_state::outcome_of(const pending_message& e,
                                                     persistence::message_outcome_status status) {
  persistence::message_outcome o;
  o.settled_ms = now_ms();
  o.id = e.id;
  o.group = rec.id;
  o.seq = e.seq;
  o.sender = e.sender;
  o.epoch = e.epoch;
  o.ts_ms = e.ts_ms;
  o.status = status;
  if (const auto* er = epoch_rec(e.epoch)) {
    const auto n = er->members.size();
    o.recipient_count = static_cast<std::uint32_t>(epoch_has(e.epoch, e.sender) && n > 0 ? n - 1 : n);
  }
  o.delivery_attempts = e.attempts;
  o.remaining_recipients = status == persistence::message_outcome_status::delivered ? 0 : remaining_recipients(e);
  return o;
}

}  // namespace sealcast::actors
