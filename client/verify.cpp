#include "client/verify.hpp"

#include <algorithm>

#include "crypto/group_key.hpp"

namespace sealcast::client::detail {

namespace {

/// "epoch 3 of group 4f17..." / "key 4f17.../3": how a refusal names what it refused.
std::string what_of(const epoch_frame& f) {
  return (f.wrapped ? "key " : "manifest ") + f.group.hex() + "/" + std::to_string(f.epoch);
}

bool same_key(byte_view a, byte_view b) { return std::equal(a.begin(), a.end(), b.begin(), b.end()); }

std::string_view custody_name(key_custody c) { return c == key_custody::client ? "client" : "broker"; }
std::string_view policy_name(group_policy p) { return p == group_policy::open ? "open" : "invite"; }

/// Step 6: the set lists this user with its own kx_pk; K_e opens and matches key_id.
bool unwrap_into(verified_step& step, const epoch_frame& f, const check_context& ctx, epoch_check& r) {
  if (!f.wrapped) return true;
  if (!step.member) {
    r.kind = warning_kind::bad_manifest;
    r.message = "the members of the epoch do not include this user with its key";
    return false;
  }
  auto key = crypto::unwrap_group_key(ctx.me->kx_sk(), f.group, f.epoch, f.key_id, *f.wrapped);
  if (!key) {
    r.kind = warning_kind::bad_key;
    r.message = "the wrapped key does not open or does not match key_id: " + key.err().message;
    return false;
  }
  step.key = std::move(*key);
  return true;
}

crypto::manifest rebuild(const epoch_frame& f, key_custody custody, group_policy policy,
                         const crypto::digest32& prev_hash, const crypto::digest32& members_hash) {
  crypto::manifest m;
  m.group = f.group;
  m.epoch = f.epoch;
  m.key_id = f.key_id;
  m.alg = f.alg;
  m.custody = custody;
  m.policy = policy;
  m.issuer = f.issuer;
  m.prev_hash = prev_hash;
  m.changes_hash = crypto::changes_hash(f.changes);
  m.members_hash = members_hash;
  return m;
}

/// e <= v: the epoch must be the one recorded when it was verified.
bool check_recorded(const chain_state& st, const epoch_frame& f, const check_context& ctx, epoch_check& r) {
  const auto rec = st.history.find(f.epoch);
  const auto prev = st.history.find(f.epoch - 1);
  if (rec == st.history.end() || (f.epoch > 1 && prev == st.history.end())) {
    r.kind = warning_kind::bad_manifest;
    r.message = "epoch " + std::to_string(f.epoch) + " is older than the verified history this client keeps";
    return false;
  }
  if (f.custody != st.custody || f.policy != st.policy) {
    r.kind = warning_kind::bad_manifest;
    r.message = "custody or policy differ from the group's pinned context";
    return false;
  }
  const crypto::digest32 prev_hash = f.epoch == 1 ? crypto::digest32{} : prev->second.manifest_hash;
  const auto m = rebuild(f, st.custody, st.policy, prev_hash, rec->second.members_hash);
  if (m.hash() != rec->second.manifest_hash) {
    r.kind = warning_kind::chain_break;
    r.message = "it differs from the epoch " + std::to_string(f.epoch) + " verified before";
    return false;
  }
  verified_step step;
  step.epoch = f.epoch;
  step.key_id = f.key_id;
  step.alg = f.alg;
  step.custody = st.custody;
  step.policy = st.policy;
  step.issuer = f.issuer;
  step.manifest_hash = rec->second.manifest_hash;
  step.members_hash = rec->second.members_hash;
  step.member = rec->second.member;
  step.roster = rec->second.roster;
  step.changes = f.changes;
  step.recorded = true;
  if (!unwrap_into(step, f, ctx, r)) return false;
  r.ok = std::move(step);
  return true;
}

}  // namespace

crypto::digest32 chain_state::manifest_hash() const {
  if (epoch == 0) return {};
  auto it = history.find(epoch);
  return it == history.end() ? crypto::digest32{} : it->second.manifest_hash;
}

crypto::change to_crypto(const protocol::change& c) {
  crypto::change out;
  out.action = static_cast<crypto::change_action>(static_cast<std::uint8_t>(c.action));
  out.user = c.user;
  out.kx_pk = c.kx_pk.value_or(key32{});
  out.role = c.role;
  out.by = c.by;
  out.by_pk = c.by_pk;
  out.sig = c.sig;
  return out;
}

epoch_frame frame_of(const protocol::server::key& k) {
  epoch_frame f;
  f.group = k.group;
  f.epoch = k.epoch;
  f.key_id = k.key_id;
  f.alg = k.alg;
  f.custody = k.custody;
  f.policy = k.policy;
  f.issuer = k.issuer;
  f.issuer_pk = k.issuer_pk;
  f.sig = k.sig;
  f.changes.reserve(k.changes.size());
  for (const auto& c : k.changes) f.changes.push_back(to_crypto(c));
  f.wrapped = k.wrapped;
  return f;
}

epoch_frame frame_of(const id16& group, const protocol::manifest_entry& m) {
  epoch_frame f;
  f.group = group;
  f.epoch = m.epoch;
  f.key_id = m.key_id;
  f.alg = m.alg;
  f.custody = m.custody;
  f.policy = m.policy;
  f.issuer = m.issuer;
  f.issuer_pk = m.issuer_pk;
  f.sig = m.sig;
  f.changes.reserve(m.changes.size());
  for (const auto& c : m.changes) f.changes.push_back(to_crypto(c));
  return f;
}

epoch_check check_epoch(const chain_state& st, const epoch_frame& f, const check_context& ctx) {
  epoch_check r;
  const auto refused = [&](warning_kind kind, const std::string& why) {
    r.ok.reset();
    r.kind = kind;
    r.message = what_of(f) + " refused: " + why;
    return r;
  };
  if (ctx.me == nullptr) return refused(warning_kind::bad_manifest, "no identity");
  if (f.epoch == 0) return refused(warning_kind::bad_manifest, "epoch 0 has no manifest");
  if (f.changes.size() > max_changes_per_epoch)
    return refused(warning_kind::bad_manifest, std::to_string(f.changes.size()) + " changes in one epoch (at most " +
                                                   std::to_string(max_changes_per_epoch) + ")");
  if (f.epoch <= st.epoch) {
    if (!check_recorded(st, f, ctx, r)) return refused(r.kind, r.message);
    return r;
  }
  if (f.epoch != st.epoch + 1)
    return refused(warning_kind::chain_break, "epochs " + std::to_string(st.epoch + 1) + " to " +
                                                  std::to_string(f.epoch - 1) + " were not verified before it");

  // Step 2: the pinned context; the broker never signs for a client-custody group.
  if (st.pinned && f.custody != st.custody)
    return refused(warning_kind::bad_manifest, "custody " + std::string(custody_name(f.custody)) +
                                                   " differs from the group's pinned custody " +
                                                   std::string(custody_name(st.custody)));
  if (st.pinned && f.policy != st.policy)
    return refused(warning_kind::bad_manifest, "policy " + std::string(policy_name(f.policy)) +
                                                   " differs from the group's pinned policy " +
                                                   std::string(policy_name(st.policy)));
  const key_custody custody = st.pinned ? st.custody : f.custody;
  const group_policy policy = st.pinned ? st.policy : f.policy;
  if (custody == key_custody::client) {
    if (f.issuer == ctx.broker_id)
      return refused(warning_kind::bad_manifest, "a client-custody epoch issued by the broker");
    if (f.issuer_pk && same_key(*f.issuer_pk, ctx.broker_pk))
      return refused(warning_kind::bad_manifest, "a client-custody epoch signed with the broker's key");
  }

  // Step 3: who must have signed.
  bytes signer_pk;
  if (custody == key_custody::broker) {
    if (f.issuer != ctx.broker_id)
      return refused(warning_kind::bad_manifest,
                     "a broker-custody epoch issued by " + f.issuer.hex() + ", not the broker");
    signer_pk = ctx.broker_pk;
  } else {
    if (!f.issuer_pk) return refused(warning_kind::bad_manifest, "a client-custody epoch without issuer_pk");
    if (crypto::user_id_of(*f.issuer_pk) != f.issuer)
      return refused(warning_kind::bad_manifest, "issuer_pk is not the key of issuer " + f.issuer.hex());
    signer_pk.assign(f.issuer_pk->begin(), f.issuer_pk->end());
  }

  // A group this client created: the genesis is its own (docs/protocol.md 6.5).
  if (f.epoch == 1 && st.creator && (f.changes.empty() || f.changes.front().user != *st.creator))
    return refused(warning_kind::bad_manifest, "the genesis does not add this group's creator " +
                                                   st.creator->hex() + " as its first member");

  // Step 4: the issuer's entitlement, the proposals and the delta (one rule: apply_commit).
  crypto::commit_input in;
  in.group = f.group;
  in.epoch = f.epoch;
  in.custody = custody;
  in.policy = policy;
  in.issuer = f.issuer;
  in.prev = f.epoch == 1 ? nullptr : &st.members;
  in.changes = f.changes;
  auto next = crypto::apply_commit(in);
  if (!next) return refused(warning_kind::bad_manifest, next.err().message);

  // Step 5: the manifest rebuilt from what this client knows verifies under the issuer's key.
  verified_step step;
  step.epoch = f.epoch;
  step.key_id = f.key_id;
  step.alg = f.alg;
  step.custody = custody;
  step.policy = policy;
  step.issuer = f.issuer;
  step.members_hash = crypto::members_hash(*next);
  const auto m = rebuild(f, custody, policy, st.manifest_hash(), step.members_hash);
  if (!m.verify(f.sig, signer_pk))
    return refused(warning_kind::bad_signature,
                   "the manifest signature of " + f.issuer.hex() +
                       " does not verify over this client's chain and the frame's changes");
  step.manifest_hash = m.hash();
  const auto& my_kx = ctx.me->kx_pk();
  if (auto it = next->find(ctx.me->user_id()); it != next->end()) step.member = same_key(it->second.kx_pk, my_kx);
  step.roster.reserve(next->size());
  for (const auto& [user, entry] : *next) step.roster.push_back(user);
  step.changes = f.changes;
  step.members = std::move(*next);

  // Step 6.
  if (!unwrap_into(step, f, ctx, r)) return refused(r.kind, r.message);
  r.ok = std::move(step);
  return r;
}

void advance(chain_state& st, const verified_step& step) {
  if (step.recorded || step.epoch != st.epoch + 1) return;
  st.pinned = true;
  st.custody = step.custody;
  st.policy = step.policy;
  st.epoch = step.epoch;
  st.members = step.members;
  verified_epoch rec{step.manifest_hash, step.members_hash, step.member, {}};
  if (step.member && !step.key) rec.roster = step.roster;
  st.history.insert_or_assign(step.epoch, std::move(rec));
  while (st.history.size() > max_history_kept) st.history.erase(st.history.begin());
}

}  // namespace sealcast::client::detail
