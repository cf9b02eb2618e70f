#include <caf/all.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>
#include <vector>

#include "actors/ephemeral_pool.hpp"
#include "actors/events.hpp"
#include "actors/group_state.hpp"
#include "common/log.hpp"
#include "common/time.hpp"
#include "crypto/group_context.hpp"
#include "crypto/group_key.hpp"
#include "protocol/codec.hpp"

namespace sealcast::actors {

// -- conversions between the stored, wire and crypto forms of the group context -----------------

crypto::change to_crypto(const persistence::change_record& c) {
  crypto::change out;
  out.action = static_cast<crypto::change_action>(c.action);
  out.user = c.user;
  out.kx_pk = c.kx_pk;
  if (c.role != 0) out.role = static_cast<member_role>(c.role);
  if (c.has_by) out.by = c.by;
  if (c.has_proposal) {
    out.by_pk = c.by_pk;
    out.sig = c.sig;
  }
  return out;
}

protocol::change to_wire(const persistence::change_record& c) {
  protocol::change out;
  out.action = static_cast<protocol::change_action>(c.action);
  out.user = c.user;
  const auto a = static_cast<crypto::change_action>(c.action);
  if (a == crypto::change_action::add || a == crypto::change_action::join) out.kx_pk = c.kx_pk;
  if (c.role != 0) out.role = static_cast<protocol::member_role>(c.role);
  if (c.has_by) out.by = c.by;
  if (c.has_proposal) {
    out.by_pk = c.by_pk;
    out.sig = c.sig;
  }
  return out;
}

persistence::change_record make_change(crypto::change_action action, const id16& user, const key32& kx_pk,
                                       std::uint8_t role, const std::optional<id16>& by) {
  persistence::change_record c;
  c.action = static_cast<std::uint8_t>(action);
  c.user = user;
  if (action == crypto::change_action::add || action == crypto::change_action::join) c.kx_pk = kx_pk;
  c.role = role;
  if (by) {
    c.has_by = true;
    c.by = *by;
  }
  return c;
}

crypto::member_set member_set_of(const std::vector<persistence::manifest_member>& members) {
  crypto::member_set out;
  for (const auto& m : members) out.emplace(m.user, crypto::member_entry{m.kx_pk, m.role});
  return out;
}

std::vector<crypto::change> crypto_changes(const std::vector<persistence::change_record>& changes) {
  std::vector<crypto::change> out;
  out.reserve(changes.size());
  for (const auto& c : changes) out.push_back(to_crypto(c));
  return out;
}

crypto::manifest manifest_of(const persistence::epoch_record& er) {
  crypto::manifest m;
  m.group = er.group;
  m.epoch = er.epoch;
  m.key_id = er.key_id;
  m.alg = static_cast<aead_alg>(er.alg);
  m.custody = er.custody;
  m.policy = er.policy;
  m.issuer = er.issuer;
  m.prev_hash = er.prev_hash;
  const auto changes = crypto_changes(er.changes);
  m.changes_hash = crypto::changes_hash(changes);
  m.members_hash = crypto::members_hash(member_set_of(er.members));
  return m;
}

namespace {

std::vector<persistence::manifest_member> members_of_set(const crypto::member_set& set) {
  std::vector<persistence::manifest_member> out;
  out.reserve(set.size());
  for (const auto& [user, e] : set) out.push_back({user, e.kx_pk, e.role});
  return out;
}

/// The fields of a key frame or manifests entry that are the same for every member.
template <class Frame>
void fill_context(Frame& f, const persistence::epoch_record& er) {
  f.epoch = er.epoch;
  f.key_id = er.key_id;
  f.alg = static_cast<protocol::aead_alg>(er.alg);
  f.custody = static_cast<protocol::key_custody>(er.custody);
  f.policy = static_cast<protocol::group_policy>(er.policy);
  f.issuer = er.issuer;
  if (er.has_issuer_pk) f.issuer_pk = er.issuer_pk;
  f.sig = er.signature;
  f.changes.reserve(er.changes.size());
  for (const auto& c : er.changes) f.changes.push_back(to_wire(c));
}

}  // namespace

std::vector<persistence::manifest_member> group_state::manifest_members() const {
  std::vector<persistence::manifest_member> out;
  out.reserve(members.size());
  for (auto& [id, m] : members) out.push_back({id, m.kx_pk, m.rec.role});
  return out;
}

const persistence::epoch_record* group_state::epoch_rec(std::uint64_t e) {
  if (e == 0) return nullptr;
  auto it = epochs.find(e);
  if (it != epochs.end()) return &it->second;
  auto r = svc->store->get_epoch(rec.id, e);
  if (!r) return nullptr;
  return &epochs.emplace(e, std::move(*r)).first->second;
}

crypto::member_set group_state::epoch_set(std::uint64_t e) {
  const auto* er = epoch_rec(e);
  return er ? member_set_of(er->members) : crypto::member_set{};
}

bool group_state::is_epoch_admin(const id16& user) {
  const auto* er = epoch_rec(rec.epoch);
  if (!er) return rec.epoch == 0 && user == rec.owner;  // the genesis commit is the creator's
  for (const auto& m : er->members)
    if (m.user == user) return m.role == member_role::owner || m.role == member_role::admin;
  return false;
}

std::shared_ptr<const std::string> group_state::key_frame(std::uint64_t e, const id16& user) {
  auto wrapped = svc->store->get_wrapped_key(rec.id, e, user);
  if (!wrapped) return nullptr;
  return key_frame(e, *wrapped);
}

std::shared_ptr<const std::string> group_state::key_frame(std::uint64_t e, const wrapped_key& wrapped) {
  auto it = key_templates.find(e);
  if (it == key_templates.end()) {
    const auto* er = epoch_rec(e);
    if (!er) return nullptr;
    protocol::server::key k;
    k.group = rec.id;
    fill_context(k, *er);
    // The shared part is serialized once per epoch; only `wrapped` (written last) differs.
    it = key_templates.emplace(e, protocol::key_frame_prefix(k)).first;
  }
  return std::make_shared<const std::string>(protocol::finish_key_frame(it->second, wrapped));
}

void group_state::keys_request(client_request& req, const protocol::client::keys& k) {
  // Membership first, from memory: a non-member's request reads nothing from the store.
  if (!find_member(req.user)) return reply_error(req.conn, k.rid, errc::not_member, "not a member of this group");
  auto entries = svc->store->wrapped_keys_of_user(rec.id, req.user, k.from_epoch);
  if (!entries) return reply_error(req.conn, k.rid, errc::internal, "could not read keys");
  // Bounded like fetch: at most 256 frames and half a send window (at least one); `next` goes on.
  constexpr std::size_t max_frames = 256;
  const std::size_t max_bytes = svc->send_window() / 2;
  std::vector<std::string> frames;
  std::size_t bytes = 0;
  std::optional<std::uint64_t> next;
  for (auto& w : *entries) {
    if (frames.size() >= max_frames || (!frames.empty() && bytes >= max_bytes)) {
      next = w.epoch;
      break;
    }
    if (auto f = key_frame(w.epoch, w.blob)) {
      bytes += f->size();
      frames.push_back(*f);
    }
  }
  std::vector<std::string_view> views(frames.begin(), frames.end());
  reply(req.conn, protocol::make_keys_ok(k.rid, views, next));
}

void group_state::manifests_request(client_request& req, const protocol::client::manifests& m) {
  constexpr std::uint64_t default_limit = 64;
  if (!find_member(req.user)) return reply_error(req.conn, m.rid, errc::not_member, "not a member of this group");
  const std::uint64_t limit = m.limit.value_or(default_limit);
  std::vector<std::string_view> views;
  std::uint64_t e = m.from_epoch;
  // Old epochs are read from the store and not cached: a member paging the whole history must not
  // pin every epoch's record in the actor. The two newest (what joiners ask for) are cached.
  std::erase_if(manifest_entries, [this](const auto& kv) { return kv.first + 1 < rec.epoch; });
  std::vector<std::string> uncached;
  uncached.reserve(limit);
  for (; e <= rec.epoch && views.size() < limit; ++e) {
    auto it = manifest_entries.find(e);
    if (it != manifest_entries.end()) {
      views.push_back(it->second);
      continue;
    }
    const bool recent = e + 1 >= rec.epoch;
    auto stored = recent ? result<persistence::epoch_record>(error{errc::not_found, ""}) : svc->store->get_epoch(rec.id, e);
    const auto* er = recent ? epoch_rec(e) : (stored ? &*stored : nullptr);
    if (!er) return reply_error(req.conn, m.rid, errc::internal, "epoch " + std::to_string(e) + " is missing");
    protocol::manifest_entry entry;
    fill_context(entry, *er);
    if (recent) {
      views.push_back(manifest_entries.emplace(e, protocol::to_json(entry)).first->second);
    } else {
      uncached.push_back(protocol::to_json(entry));
      views.push_back(uncached.back());
    }
  }
  std::optional<std::uint64_t> next;
  if (e <= rec.epoch) next = e;
  reply(req.conn, protocol::make_manifests_ok(m.rid, views, next));
}

// -- starting epochs --------------------------------------------------------------------------

void group_state::load_key_holders(std::uint64_t e) {
  if (e == 0) return;
  auto& holders = key_holders[e];
  holders.clear();
  if (auto keys = svc->store->wrapped_keys_of_epoch(rec.id, e))
    for (const auto& w : *keys) holders.insert(w.user);
}

void group_state::prune_key_holders() {
  std::erase_if(key_holders, [this](const auto& kv) { return kv.first != rec.epoch && kv.first != rec.pending_epoch; });
}

void group_state::start_epoch(std::string reason, bool removal, std::vector<persistence::change_record> changes,
                              std::vector<persistence::manifest_member> next_members, persistence::write_batch extra,
                              epoch_done done, std::function<void()> stored) {
  const auto now = now_ms();
  if (rec.custody == persistence::key_custody::client) {
    // The broker never sees K_e: queue the signed changes and ask an admin to commit them.
    auto next = rec;
    if (next.pending_epoch == 0) next.pending_epoch = next.epoch + 1;
    next.rekey_reason = reason;
    next.rekey_after_removal = next.rekey_after_removal || removal || next.epoch == 0;
    next.rekey_requested_ms = now;
    next.pending_changes.insert(next.pending_changes.end(), changes.begin(), changes.end());
    extra.put_group(next);
    commit(std::move(extra), [this, next, done = std::move(done), stored = std::move(stored)](const write_done& w) {
      if (!w.ok) {
        log::error("group", "membership write failed", {{"group", rec.id.hex()}, {"error", w.error}});
        done(rec.epoch, error{errc::internal, "the change could not be stored: " + w.error});
        return;
      }
      if (stored) stored();
      rec = next;
      key_holders.try_emplace(rec.pending_epoch);  // nobody holds the pending epoch's key yet
      rekey_tried.clear();
      rekey_asked.reset();
      done(rec.pending_epoch, std::nullopt);
      ask_rekey();
    });
    return;
  }

  const auto started_us = steady_us();
  const std::uint64_t e = rec.epoch + 1;
  auto key = crypto::generate_group_key();
  persistence::epoch_record er;
  er.group = rec.id;
  er.epoch = e;
  er.key_id = crypto::key_id(rec.id, e, key);
  er.alg = static_cast<std::uint8_t>(svc->default_alg);
  er.custody = rec.custody;
  er.policy = rec.policy;
  if (const auto* prev = epoch_rec(rec.epoch)) er.prev_hash = prev->manifest_hash;
  er.members = std::move(next_members);
  er.changes = std::move(changes);
  er.issuer = svc->broker_id;
  er.created_ms = now;
  er.expires_ms = now + static_cast<std::uint64_t>(svc->cfg.pubsub.key_rotation_interval.count()) * 1000;
  er.removal = removal;
  const auto man = manifest_of(er);
  er.manifest_hash = man.hash();
  er.signature = man.sign(svc->broker->signer());
  // HPKE wrap to every member of the new epoch: two X25519 multiplications each, so spread
  // over the cores.
  const auto& order = er.members;
  std::vector<std::optional<persistence::wrapped_key>> blobs(order.size());
  auto wrap_range = [&](std::size_t from, std::size_t to) {
    auto ready = svc->ephemerals ? svc->ephemerals->take(to - from) : std::vector<crypto::hpke_ephemeral>{};
    for (std::size_t i = from; i < to; ++i) {
      result<bytes> w = error{errc::internal, "not wrapped"};
      if (!ready.empty()) {
        w = crypto::wrap_group_key(std::move(ready.back()), order[i].kx_pk, rec.id, e, key);
        ready.pop_back();
      } else {
        w = crypto::wrap_group_key(order[i].kx_pk, rec.id, e, key);
      }
      if (!w || w->size() != 80) continue;
      persistence::wrapped_key blob{};
      std::copy(w->begin(), w->end(), blob.begin());
      blobs[i] = blob;
    }
  };
  const std::size_t threads =
      order.size() < 64 ? 1 : std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 8);
  {
    std::vector<std::thread> pool;
    const std::size_t chunk = (order.size() + threads - 1) / threads;
    for (std::size_t t = 1; t < threads; ++t)
      pool.emplace_back(wrap_range, std::min(order.size(), t * chunk), std::min(order.size(), (t + 1) * chunk));
    wrap_range(0, std::min(order.size(), chunk));
    for (auto& th : pool) th.join();
  }
  std::size_t wrapped = 0;
  std::vector<std::pair<id16, persistence::wrapped_key>> fresh;
  fresh.reserve(order.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    const auto& id = order[i].user;
    if (!blobs[i]) {
      log::error("group", "could not wrap the group key", {{"group", rec.id.hex()}, {"user", id.hex()}});
      continue;
    }
    extra.put_wrapped_key(rec.id, e, id, *blobs[i]);
    fresh.emplace_back(id, *blobs[i]);
    ++wrapped;
  }
  auto next = rec;
  next.epoch = e;
  next.epoch_created_ms = now;
  next.epoch_message_count = 0;
  extra.put_epoch(er);
  extra.put_group(next);
  const auto build_us = steady_us() - started_us;
  commit(std::move(extra), [this, er = std::move(er), next, wrapped, reason = std::move(reason), done = std::move(done),
                            stored = std::move(stored), build_us, fresh = std::move(fresh)](const write_done& w) mutable {
    if (!w.ok) {
      log::error("group", "epoch write failed", {{"group", rec.id.hex()}, {"error", w.error}});
      done(rec.epoch, error{errc::internal, "the new epoch could not be stored: " + w.error});
      return;
    }
    if (stored) stored();
    // Keep the prior epoch's grace bookkeeping: only the new epoch's rules matter now.
    rec.epoch = next.epoch;
    rec.epoch_created_ms = next.epoch_created_ms;
    rec.epoch_message_count = 0;
    const auto epoch = er.epoch;
    epochs[epoch] = std::move(er);
    auto& holders = key_holders[epoch];
    holders.clear();
    for (const auto& [id, blob] : fresh) holders.insert(id);
    prune_key_holders();
    svc->counters.keys_generated.fetch_add(1, std::memory_order_relaxed);
    svc->counters.keys_distributed.fetch_add(wrapped, std::memory_order_relaxed);
    svc->emit(event{event_type::key_rotated, rec.id, std::nullopt, std::nullopt,
                    event_data({{"epoch", epoch}, {"reason", reason}, {"members", wrapped}, {"custody", "broker"}})});
    log::info("group", "key rotated",
              {{"group", rec.id.hex()}, {"epoch", epoch}, {"reason", reason}, {"members", wrapped}, {"build_us", build_us}});
    // Keys before the reply: a client that publishes as soon as its change is acknowledged
    // must already hold the new epoch, or its message would miss the member it just added.
    for (auto& [id, blob] : fresh) {
      auto* m = find_member(id);
      if (!m || m->conns.empty()) continue;
      if (auto f = key_frame(epoch, blob))
        for (auto& c : m->conns) c->send(f);
    }
    done(epoch, std::nullopt);
  });
}

void group_state::maybe_rotate_by_policy() {
  if (changing || rec.epoch == 0 || rec.pending_epoch != 0) return;
  const auto& p = svc->cfg.pubsub;
  std::string reason;
  // By count only: the key-rotation scheduler (actors/scheduler.cpp) decides rotations by age.
  if (p.rotate_after_messages > 0 && rec.epoch_message_count >= p.rotate_after_messages)
    reason = "message count";
  if (reason.empty()) return;
  rotate_request r{reason, nullptr};
  rotate(r);
}

void group_state::rotate(rotate_request& r) {
  if (rec.custody == persistence::key_custody::client && rec.pending_epoch != 0) {
    if (r.done) r.done(rec.pending_epoch, std::nullopt);
    return;
  }
  changing = true;
  log::info("group", "rotation started", {{"group", rec.id.hex()}, {"reason", r.reason},
                                          {"custody", rec.custody == persistence::key_custody::client ? "client" : "broker"}});
  auto done = std::move(r.done);
  start_epoch(r.reason, false, {}, manifest_members(), {},
              [this, done = std::move(done)](std::uint64_t epoch, std::optional<error> err) {
                // Counted once stored: a rotation that could not be written did not happen.
                if (!err) svc->counters.key_rotations.fetch_add(1, std::memory_order_relaxed);
                if (done) done(epoch, std::move(err));
                finish_change();
              });
}

// -- client custody ---------------------------------------------------------------------------

void group_state::ask_rekey() {
  if (rec.custody != persistence::key_custody::client || rec.pending_epoch == 0) return;
  // Prefer an online owner or admin of the current epoch (the commit needs one) not asked yet
  // for this epoch; start over when all were.
  const member_state* pick = nullptr;
  id16 pick_id;
  for (int round = 0; round < 2 && !pick; ++round) {
    for (auto& [id, m] : members) {
      // Admin in the current epoch (the commit rule) and still after the pending changes: an
      // admin demoted by a pending change could not commit them.
      if (m.conns.empty() || !is_epoch_admin(id) || !is_admin(id)) continue;
      if (round == 0 && std::find(rekey_tried.begin(), rekey_tried.end(), id) != rekey_tried.end()) continue;
      pick = &m;
      pick_id = id;
      break;
    }
    if (!pick) rekey_tried.clear();
  }
  if (!pick) {
    rekey_asked.reset();  // asked again when an admin comes online
    return;
  }
  const auto deadline_ms = static_cast<std::uint64_t>(svc->cfg.pubsub.rekey_deadline_ms.count());
  protocol::server::rekey_request rq;
  rq.group = rec.id;
  rq.epoch = rec.pending_epoch;
  rq.reason = rec.rekey_reason;
  if (const auto* cur = epoch_rec(rec.epoch)) rq.prev_hash = cur->manifest_hash;
  rq.changes.reserve(rec.pending_changes.size());
  for (const auto& c : rec.pending_changes) {
    auto w = to_wire(c);
    const auto a = static_cast<crypto::change_action>(c.action);
    if (a == crypto::change_action::add || a == crypto::change_action::join) {
      // The committer checks that kx_pk is the subject's own: send what certifies it.
      if (auto u = svc->store->get_user(c.user)) {
        w.sign_pk = u->sign_pk;
        w.kx_sig = u->kx_sig;
      }
    }
    rq.changes.push_back(std::move(w));
  }
  rec.rekey_requested_ms = now_ms();
  rq.deadline = rec.rekey_requested_ms + deadline_ms;
  auto frame = std::make_shared<const std::string>(protocol::to_json(rq));
  for (auto& c : pick->conns) c->send(frame);
  rekey_asked = pick_id;
  rekey_tried.push_back(pick_id);
  log::info("group", "rekey requested", {{"group", rec.id.hex()}, {"epoch", rec.pending_epoch},
                                         {"admin", pick_id.hex()}, {"reason", rec.rekey_reason},
                                         {"changes", rec.pending_changes.size()}});
  svc->emit(event{event_type::rekey_requested, rec.id, pick_id, std::nullopt,
                  event_data({{"epoch", rec.pending_epoch}, {"reason", rec.rekey_reason}})});
  self->delayed_send(self, std::chrono::milliseconds(deadline_ms), deadline_atom::value, rec.pending_epoch);
}

void group_state::on_rekey_deadline(std::uint64_t epoch) {
  if (rec.pending_epoch != epoch || changing) return;
  // A request re-sent for the same epoch (admin reconnect) has its own timer; only act once
  // the latest request's deadline has passed.
  const auto deadline_ms = static_cast<std::uint64_t>(svc->cfg.pubsub.rekey_deadline_ms.count());
  if (now_ms() + 50 < rec.rekey_requested_ms + deadline_ms) return;
  log::warn("group", "rekey deadline passed; asking another admin", {{"group", rec.id.hex()}, {"epoch", epoch}});
  ask_rekey();
}

void group_state::on_rekey(client_request& req, protocol::client::rekey& r) {
  const auto& conn = req.conn;
  auto bad = [&](std::string why) { reply_error(conn, r.rid, errc::bad_rekey, std::move(why)); };
  if (rec.custody != persistence::key_custody::client) return bad("the group's keys are in broker custody");
  auto* sender = find_member(req.user);
  if (!sender) return reply_error(conn, r.rid, errc::not_member, "not a member of this group");
  if (rec.pending_epoch == 0) return bad("no rekey is pending");
  if (r.epoch != rec.epoch + 1) return bad("epoch " + std::to_string(r.epoch) + " is not the next epoch (" +
                                           std::to_string(rec.epoch + 1) + ")");
  if (!svc->alg_allowed(r.alg)) return bad("algorithm not allowed");
  if (r.changes != rec.pending_changes.size()) {
    bad("the commit applies " + std::to_string(r.changes) + " changes but " +
        std::to_string(rec.pending_changes.size()) + " are pending; a new rekey_request follows");
    ask_rekey();
    return;
  }
  // The same rule the members apply (docs/protocol.md 6.6): an honest broker stores nothing a
  // member would refuse.
  const auto prev = epoch_set(rec.epoch);
  const auto changes = crypto_changes(rec.pending_changes);
  crypto::commit_input in;
  in.group = rec.id;
  in.epoch = r.epoch;
  in.custody = key_custody::client;
  in.policy = rec.policy;
  in.issuer = req.user;
  in.prev = &prev;
  in.changes = changes;
  auto next_set = crypto::apply_commit(in);
  if (!next_set) return bad("the commit is invalid: " + next_set.err().message);
  if (r.wrapped.size() != next_set->size()) return bad("the wrapped keys must name exactly the members of the new epoch");
  for (const auto& [id, e] : *next_set)
    if (!r.wrapped.contains(id)) return bad("no wrapped key for member " + id.hex());
  persistence::epoch_record er;
  er.group = rec.id;
  er.epoch = r.epoch;
  er.key_id = r.key_id;
  er.alg = static_cast<std::uint8_t>(r.alg);
  er.custody = rec.custody;
  er.policy = rec.policy;
  if (const auto* cur = epoch_rec(rec.epoch)) er.prev_hash = cur->manifest_hash;
  er.members = members_of_set(*next_set);
  er.changes = rec.pending_changes;
  er.issuer = req.user;
  er.has_issuer_pk = true;
  er.issuer_pk = sender->sign_pk;
  const auto man = manifest_of(er);
  if (!man.verify(r.sig, sender->sign_pk)) return bad("the manifest signature does not verify");
  const auto now = now_ms();
  er.manifest_hash = man.hash();
  er.signature = r.sig;
  er.created_ms = now;
  er.expires_ms = now + static_cast<std::uint64_t>(svc->cfg.pubsub.key_rotation_interval.count()) * 1000;
  er.removal = rec.rekey_after_removal;
  persistence::write_batch batch;
  for (auto& [user, blob] : r.wrapped) batch.put_wrapped_key(rec.id, r.epoch, user, blob);
  batch.put_epoch(er);
  auto next = rec;
  next.epoch = r.epoch;
  next.epoch_created_ms = now;
  next.epoch_message_count = 0;
  next.pending_epoch = 0;
  next.rekey_reason.clear();
  next.rekey_after_removal = false;
  next.pending_changes.clear();
  batch.put_group(next);
  changing = true;
  auto rid = r.rid;
  const auto issuer = req.user;
  const auto count = r.wrapped.size();
  std::vector<id16> wrapped;
  wrapped.reserve(r.wrapped.size());
  for (const auto& [user, blob] : r.wrapped) wrapped.push_back(user);
  commit(std::move(batch), [this, conn, rid, next, er = std::move(er), issuer, count,
                            wrapped = std::move(wrapped)](const write_done& w) mutable {
    if (!w.ok) {
      // Nothing changed: the pending epoch stays pending and is asked for again at its deadline.
      log::error("group", "rekey write failed", {{"group", rec.id.hex()}, {"epoch", er.epoch}, {"error", w.error}});
      reply_error(conn, rid, errc::internal, "the rekey could not be stored: " + w.error);
      finish_change();
      return;
    }
    rec = next;
    const auto e = er.epoch;
    epochs[e] = std::move(er);
    auto& holders = key_holders[e];
    holders.clear();
    holders.insert(wrapped.begin(), wrapped.end());
    prune_key_holders();
    rekey_asked.reset();
    rekey_tried.clear();
    svc->counters.keys_distributed.fetch_add(count, std::memory_order_relaxed);
    svc->emit(event{event_type::key_rotated, rec.id, issuer, std::nullopt,
                    event_data({{"epoch", e}, {"members", count}, {"custody", "client"}})});
    log::info("group", "client rekey accepted", {{"group", rec.id.hex()}, {"epoch", e}, {"issuer", issuer.hex()}});
    reply(conn, protocol::make_ok(rid));
    for (auto& [id, m] : members) {
      if (m.conns.empty()) continue;
      if (auto f = key_frame(e, id))
        for (auto& c : m.conns) c->send(f);
    }
    finish_change();
  });
}

}  // namespace sealcast::actors
