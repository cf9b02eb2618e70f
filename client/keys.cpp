// The verified chain of each group (docs/protocol.md section 6.6): key frames and `manifests`
// entries checked with detail::check_epoch before anything is installed, missing epochs replayed
// first, and, in client custody, the commits this client makes when the broker asks (6.4).

#include <algorithm>

#include "client/client_impl.hpp"
#include "client/epoch_keys.hpp"
#include "common/detail/coroutine_frame_warning.hpp"
#include "crypto/commit.hpp"
#include "crypto/group_key.hpp"
#include "crypto/identity.hpp"

namespace sealcast::client {

namespace {

std::string epoch_of(const id16& group, std::uint64_t epoch) { return group.hex() + "/" + std::to_string(epoch); }

bool same_bytes(byte_view a, byte_view b) { return std::equal(a.begin(), a.end(), b.begin(), b.end()); }

}  // namespace

detail::check_context client::impl::check_ctx() const {
  return detail::check_context{&id, state.broker, state.broker_pk};
}

asio::awaitable<result<std::vector<detail::epoch_frame>>> client::impl::fetch_manifests(id16 g, std::uint64_t from,
                                                                                        std::uint64_t to) {
  // Bounded: a broker naming epoch 2^60 must not make this client fetch until memory runs out.
  if (to >= from && to - from + 1 > detail::max_catch_up_epochs)
    co_return error{errc::too_large, "the broker asks this client to replay " + std::to_string(to - from + 1) +
                                         " epochs; more than " + std::to_string(detail::max_catch_up_epochs) +
                                         " at once are refused"};
  std::vector<detail::epoch_frame> out;
  std::uint64_t next = from;
  while (next <= to) {
    const std::uint64_t limit = std::min<std::uint64_t>(to - next + 1, protocol::max_manifests_limit);
    protocol::client_frame f(protocol::client::manifests{{}, g, next, limit});
    auto r = co_await call_as<protocol::manifests_result>(std::move(f));
    if (!r) co_return r.err();
    const auto asked = next;
    for (const auto& m : r->manifests) {
      if (m.epoch > to) break;
      if (m.epoch != next)
        co_return error{errc::bad_request, "the broker's manifests jump from epoch " + std::to_string(next) + " to " +
                                               std::to_string(m.epoch)};
      out.push_back(detail::frame_of(g, m));
      ++next;
    }
    if (next > to) break;
    if (next == asked || !r->next)
      co_return error{errc::not_found, "the broker's manifests end at epoch " + std::to_string(next - 1) +
                                           ", before epoch " + std::to_string(to)};
    if (*r->next != next)
      co_return error{errc::bad_request, "the broker's manifests continue at epoch " + std::to_string(*r->next) +
                                             ", not " + std::to_string(next)};
  }
  co_return out;
}

asio::awaitable<status> client::impl::verify_to(id16 g, std::uint64_t target) {
  const auto v = group(g).chain.epoch;
  if (v >= target) co_return status{};
  auto frames = co_await fetch_manifests(g, v + 1, target);
  if (!frames) {
    const auto why = "cannot verify epochs " + std::to_string(v + 1) + " to " + std::to_string(target) + " of group " +
                     g.hex() + ": " + frames.err().message;
    warn(warning_kind::chain_break, g, target, why);
    co_return error{frames.err().code, why};
  }
  // From here on nothing is awaited: the chain cannot move under the checks.
  auto chain = group(g).chain;
  std::vector<detail::verified_step> steps;
  const auto ctx = check_ctx();
  for (const auto& f : *frames) {
    if (f.epoch <= chain.epoch) continue;  // verified meanwhile
    auto r = detail::check_epoch(chain, f, ctx);
    if (!r.ok) {
      warn(r.kind, g, f.epoch, r.message);
      co_return error{errc::bad_signature, r.message};
    }
    detail::advance(chain, *r.ok);
    steps.push_back(std::move(*r.ok));
  }
  if (!steps.empty()) (void)accept(g, std::move(chain), steps, true, false);
  co_return status{};
}

asio::awaitable<bool> client::impl::install_key(const protocol::server::key& k, bool announce) {
  const auto installed = [&] {
    auto it = state.groups.find(k.group);
    if (it == state.groups.end()) return false;
    auto ek = it->second.epochs.find(k.epoch);
    return ek != it->second.epochs.end() && ek->second.key_id == k.key_id;
  };
  if (installed()) co_return false;  // e.g. our own commit, or a key sent again on reconnect
  co_await learn_group(k.group);

  // Step 1: epochs v+1 .. e-1 come from `manifests` and are checked like the key, minus the unwrap.
  std::vector<detail::epoch_frame> replay;
  if (const auto v = group(k.group).chain.epoch; k.epoch > v + 1) {
    auto got = co_await fetch_manifests(k.group, v + 1, k.epoch - 1);
    if (!got) {
      ++stats.keys_rejected;
      warn(warning_kind::chain_break, k.group, k.epoch,
           "key " + epoch_of(k.group, k.epoch) + " refused: epochs " + std::to_string(v + 1) + " to " +
               std::to_string(k.epoch - 1) + " cannot be replayed: " + got.err().message);
      co_return false;
    }
    replay = std::move(*got);
  }

  // From here on nothing is awaited: the chain cannot move under the checks, and nothing of a
  // refused frame (nor of the epochs replayed for it) is kept.
  if (installed()) co_return false;
  const auto frame = detail::frame_of(k);
  auto chain = group(k.group).chain;
  std::vector<detail::verified_step> steps;
  const auto ctx = check_ctx();
  for (const auto& f : replay) {
    if (f.epoch <= chain.epoch) continue;
    if (f.epoch >= k.epoch) break;
    auto r = detail::check_epoch(chain, f, ctx);
    if (!r.ok) {
      ++stats.keys_rejected;
      warn(r.kind, k.group, f.epoch,
           r.message + " (replaying the chain before key " + epoch_of(k.group, k.epoch) + ")");
      co_return false;
    }
    detail::advance(chain, *r.ok);
    steps.push_back(std::move(*r.ok));
  }
  auto r = detail::check_epoch(chain, frame, ctx);
  if (!r.ok) {
    ++stats.keys_rejected;
    warn(r.kind, k.group, k.epoch, r.message);
    co_return false;
  }
  detail::advance(chain, *r.ok);
  steps.push_back(std::move(*r.ok));
  co_return accept(k.group, std::move(chain), steps, announce, false);
}

bool client::impl::accept(const id16& g, detail::chain_state chain, std::vector<detail::verified_step>& steps,
                          bool announce, bool issued_by_me) {
  auto& ge = group(g);
  ge.chain = std::move(chain);
  if (ge.chain.epoch > 0) {
    if (auto me = ge.chain.members.find(id.user_id()); me != ge.chain.members.end()) {
      ge.role = me->second.role;
      ge.member = true;
    }
    ge.member_count = ge.chain.members.size();
    ge.epoch = std::max(ge.epoch, ge.chain.epoch);
  }
  std::optional<key_event> installed;
  if (!steps.empty() && steps.back().key) {
    auto& s = steps.back();
    const std::uint64_t newest = ge.epochs.empty() ? 0 : ge.epochs.rbegin()->first;
    if (s.epoch + detail::max_epochs_kept > newest) {
      // Every member's chain_0, then K_e goes (it is wiped when the step's optional is reset).
      ge.epochs.insert_or_assign(s.epoch,
                                 detail::make_epoch_keys(*s.key, s.key_id, s.alg, s.issuer, s.roster, id.user_id()));
      while (ge.epochs.size() > detail::max_epochs_kept) ge.epochs.erase(ge.epochs.begin());
      if (auto rec = ge.chain.history.find(s.epoch); rec != ge.chain.history.end()) rec->second.roster.clear();
      ++stats.keys_installed;
      // The broker's key frame for a commit of ours can be installed (by keys(), a publish or a
      // message catching up) before the rekey's ok arrives: count the answer now, so that
      // rekeys_answered already includes it when on_key reports issued_by_me.
      const bool mine = s.issuer == id.user_id();
      if (auto fl = rekeys_in_flight.find({g, s.epoch}); fl != rekeys_in_flight.end() && mine &&
                                                         fl->second.key_id == s.key_id && !fl->second.counted &&
                                                         !issued_by_me) {
        fl->second.counted = true;
        ++stats.rekeys_answered;
      }
      installed = key_event{g, s.epoch, s.key_id, s.alg, s.custody, s.issuer, mine};
    }
    s.key.reset();
  }
  mark_dirty();
  wake(key_waiters);
  if (installed && announce && h.on_key && !closed) h.on_key(*installed);
  if (announce)
    for (const auto& s : steps) report_changes(g, s);
  return installed.has_value();
}

void client::impl::report_changes(const id16& g, const detail::verified_step& step) {
  // A step checked against its record was reported when it was first verified; epochs this user
  // did not belong to are the group's history before it, not news.
  if (step.recorded || !step.member) return;
  for (const auto& c : step.changes) {
    if (closed || !h.on_membership) return;
    membership_event ev;
    ev.group = g;
    ev.epoch = step.epoch;
    ev.action = static_cast<change_action>(static_cast<std::uint8_t>(c.action));
    ev.user = c.user;
    ev.by = c.by;
    ev.role = c.role;
    h.on_membership(ev);
  }
}

asio::awaitable<std::size_t> client::impl::catch_up_keys(id16 g, std::uint64_t from_epoch) {
  std::size_t n = 0;
  // The broker bounds each reply and says where to go on; `next` must move forward.
  for (std::optional<std::uint64_t> from = from_epoch; from;) {
    protocol::client_frame f(protocol::client::keys{{}, g, *from});
    auto r = co_await call_as<protocol::keys_result>(std::move(f));
    if (!r) co_return n;
    std::sort(r->keys.begin(), r->keys.end(), [](const auto& a, const auto& b) { return a.epoch < b.epoch; });
    for (const auto& k : r->keys)
      if (co_await install_key(k, true)) ++n;
    from = r->next && *r->next > *from ? r->next : std::nullopt;
  }
  co_return n;
}

// -- client custody: commits ------------------------------------------------------------------

asio::awaitable<void> client::impl::on_rekey_request(const protocol::server::rekey_request& rq) {
  if (!opts.auto_rekey) co_return;
  const auto refuse = [&](warning_kind kind, const std::string& why) {
    warn(kind, rq.group, rq.epoch, "rekey_request for epoch " + epoch_of(rq.group, rq.epoch) + " refused: " + why);
  };
  if (rq.epoch == 0) co_return refuse(warning_kind::bad_manifest, "epoch 0 has no commit");
  if (group(rq.group).chain.epoch >= rq.epoch) co_return;  // committed already (a request sent again)

  // 1. The verified set of epoch e (rq.epoch - 1), catching up first; verify_to warns itself.
  if (rq.epoch > 1) {
    auto verified = co_await verify_to(rq.group, rq.epoch - 1);
    if (!verified) co_return;
  }
  std::optional<group_policy> policy_hint;
  if (!group(rq.group).chain.pinned) {
    // Only a creator that lost its state gets here (for the genesis): the broker's word on the
    // policy, which the manifest this client signs then states.
    protocol::client_frame f(protocol::client::group_info{{}, rq.group});
    auto info = co_await call_as<protocol::group_info_result>(std::move(f));
    if (!info) co_return refuse(warning_kind::rekey_failed, "group_info: " + info.err().message);
    if (info->custody != key_custody::client)
      co_return refuse(warning_kind::bad_manifest, "the group is in broker custody");
    policy_hint = info->policy;
  }

  // 2. Each add or join names the subject's own key: sign_pk certifies the user, kx_sig binds kx_pk.
  std::vector<crypto::change> changes;
  changes.reserve(rq.changes.size());
  for (const auto& c : rq.changes) {
    if (c.action == change_action::add || c.action == change_action::join) {
      const auto who = std::string(protocol::to_string(c.action)) + " of " + c.user.hex();
      if (!c.kx_pk) co_return refuse(warning_kind::bad_manifest, who + " carries no kx_pk");
      if (c.user == id.user_id()) {
        if (!same_bytes(*c.kx_pk, id.kx_pk()))
          co_return refuse(warning_kind::bad_manifest, who + " names another kx_pk for this user");
      } else {
        if (!c.sign_pk || !c.kx_sig)
          co_return refuse(warning_kind::bad_manifest, who + " carries no sign_pk and kx_sig");
        if (crypto::user_id_of(*c.sign_pk) != c.user)
          co_return refuse(warning_kind::bad_manifest, who + ": sign_pk is not the key of the user");
        if (!crypto::verify_kx_sig(*c.sign_pk, *c.kx_pk, *c.kx_sig))
          co_return refuse(warning_kind::bad_manifest, who + ": kx_sig does not bind kx_pk to the user");
      }
    }
    changes.push_back(detail::to_crypto(c));
  }

  // From here to the send nothing is awaited. Proposals, entitlement and the delta: apply_commit.
  const auto& chain = group(rq.group).chain;
  if (chain.epoch >= rq.epoch) co_return;
  if (chain.epoch + 1 != rq.epoch)
    co_return refuse(warning_kind::chain_break,
                     "this client verified the chain up to epoch " + std::to_string(chain.epoch) + " only");
  if (rq.prev_hash != chain.manifest_hash())
    co_return refuse(warning_kind::chain_break, "prev_hash is not the hash of epoch " + std::to_string(chain.epoch) +
                                                    " as this client verified it");
  if (chain.pinned && chain.custody != key_custody::client)
    co_return refuse(warning_kind::bad_manifest, "the group is in broker custody");
  const group_policy policy = chain.pinned ? chain.policy : *policy_hint;
  crypto::commit_input in;
  in.group = rq.group;
  in.epoch = rq.epoch;
  in.custody = key_custody::client;
  in.policy = policy;
  in.issuer = id.user_id();
  in.prev = rq.epoch == 1 ? nullptr : &chain.members;
  in.changes = changes;
  auto next = crypto::apply_commit(in);
  if (!next) co_return refuse(warning_kind::bad_manifest, next.err().message);

  // 3. A fresh K, wrapped to every member of the new set, and the signed manifest.
  crypto::commit_spec spec{rq.group, rq.epoch, opts.rekey_alg, policy, rq.prev_hash, changes, &*next};
  auto sealed = crypto::seal_commit(id.signer(), spec);
  if (!sealed) co_return refuse(warning_kind::rekey_failed, sealed.err().message);
  detail::verified_step step;
  step.epoch = rq.epoch;
  step.alg = opts.rekey_alg;
  step.custody = key_custody::client;
  step.policy = policy;
  step.issuer = id.user_id();
  step.key = sealed->key;
  step.key_id = sealed->man.key_id;
  step.members_hash = sealed->man.members_hash;
  step.manifest_hash = sealed->man.hash();
  protocol::client::rekey r;
  r.group = rq.group;
  r.epoch = rq.epoch;
  r.key_id = step.key_id;
  r.alg = step.alg;
  r.changes = changes.size();
  r.sig = sealed->sig;
  r.wrapped = std::move(sealed->wrapped);
  for (const auto& [user, entry] : *next) step.roster.push_back(user);
  step.member = true;
  step.changes = std::move(changes);
  step.members = std::move(*next);

  const std::pair<id16, std::uint64_t> flight_key{rq.group, rq.epoch};
  rekeys_in_flight.insert_or_assign(flight_key, rekey_flight{step.key_id, false});
  protocol::client_frame ok_frame(std::move(r));
  auto ok = co_await call_as<protocol::empty_result>(std::move(ok_frame));
  bool counted = false;
  if (auto fl = rekeys_in_flight.find(flight_key); fl != rekeys_in_flight.end()) {
    counted = fl->second.counted;
    rekeys_in_flight.erase(fl);
  }
  // A bad_rekey for a stale commit is followed by a fresh rekey_request, handled as this one.
  if (!ok && !counted)
    co_return refuse(warning_kind::rekey_failed, "the broker refused the commit: " + ok.err().message);
  // Counted once per accepted commit, before on_key reports the epoch (whichever of the ok and
  // the broker's key frame came first). A key frame with our key_id proves acceptance even if
  // the ok itself was lost (e.g. to a reconnect).
  if (!counted) ++stats.rekeys_answered;
  auto after = group(rq.group).chain;
  if (after.epoch + 1 != rq.epoch) co_return;  // installed from the key frame meanwhile; on_key fired there
  detail::advance(after, step);
  std::vector<detail::verified_step> steps;
  steps.push_back(std::move(step));
  (void)accept(rq.group, std::move(after), steps, true, true);
}

}  // namespace sealcast::client
