#include "bench/committer.hpp"

#include <utility>

#include "client/verify.hpp"
#include "crypto/commit.hpp"

namespace sealcast::bench {

namespace {

bool carries_key(change_action a) { return a == change_action::add || a == change_action::join; }

using client::detail::to_crypto;

crypto::change line_of(change_action action, const id16& user, const key32& kx_pk, std::optional<member_role> role) {
  crypto::change c;
  c.action = static_cast<crypto::change_action>(static_cast<std::uint8_t>(action));
  c.user = user;
  c.kx_pk = kx_pk;
  c.role = role;
  return c;
}

}  // namespace

protocol::client::add_member committer::propose_add(const id16& user, const key32& kx_pk, member_role role) const {
  protocol::client::add_member a;
  a.group = group_;
  a.user = user;
  a.role = role;
  a.epoch = epoch_.load();
  a.proposal = crypto::sign_proposal(owner_.identity().signer(), group_, *a.epoch,
                                     line_of(change_action::add, user, kx_pk, role));
  return a;
}

protocol::client::remove_member committer::propose_remove(const id16& user) const {
  protocol::client::remove_member r;
  r.group = group_;
  r.user = user;
  r.epoch = epoch_.load();
  r.proposal = crypto::sign_proposal(owner_.identity().signer(), group_, *r.epoch,
                                     line_of(change_action::remove, user, key32{}, std::nullopt));
  return r;
}

void committer::set_group(const id16& group) {
  group_ = group;
  if (auto rq = std::exchange(early_, std::nullopt); rq && rq->group == group) on_rekey_request(*rq);
}

void committer::on_rekey_request(const protocol::server::rekey_request& rq) {
  if (group_.is_zero()) {
    early_ = rq;  // the genesis request can overtake the scenario's reading of create_group's ok
    return;
  }
  if (rq.group != group_ || rq.epoch != epoch_.load() + 1) return;
  if (in_flight_) {
    waiting_ = rq;  // the newest one wins; looked at when the commit in flight is answered
    return;
  }
  if (rq.changes.size() < expected_) return;  // more proposals are on their way
  commit(rq);
}

void committer::fail(std::string why) {
  failures_.fetch_add(1);
  std::lock_guard lock(error_mutex_);
  last_error_ = std::move(why);
}

void committer::commit(const protocol::server::rekey_request& rq) {
  // Section 6.4 step 1: the request continues the chain this committer holds.
  if (rq.prev_hash != manifest_hash_) return fail("rekey_request: prev_hash is not the last manifest's hash");
  // Step 2: every change checked and applied (for an add, kx_pk is the subject's: the bench
  // proposes only users whose keys it made, and the broker sends sign_pk and kx_sig to check).
  std::vector<crypto::change> changes;
  changes.reserve(rq.changes.size());
  for (const auto& c : rq.changes) {
    auto cc = to_crypto(c);
    if (carries_key(c.action)) {
      if (!c.kx_pk && c.user == owner_.user_id()) {
        cc.kx_pk = to_array<32>(owner_.identity().kx_pk());  // the genesis names the creator
      } else if (!c.kx_pk || !c.sign_pk || !c.kx_sig || crypto::user_id_of(*c.sign_pk) != c.user ||
                 !crypto::verify_kx_sig(*c.sign_pk, *c.kx_pk, *c.kx_sig)) {
        return fail("rekey_request: an add without a kx_pk bound to its subject");
      }
    }
    changes.push_back(std::move(cc));
  }
  crypto::commit_input in;
  in.group = rq.group;
  in.epoch = rq.epoch;
  in.custody = key_custody::client;
  in.policy = policy_;
  in.issuer = owner_.user_id();
  in.prev = rq.epoch > 1 ? &members_ : nullptr;
  in.changes = changes;
  auto set = crypto::apply_commit(in);
  if (!set) return fail("rekey_request refused: " + set.err().message);
  // Step 3: a fresh K wrapped to the new set, the manifest signed, the changes counted.
  crypto::commit_spec spec{rq.group, rq.epoch, aead_alg::aes_256_gcm, policy_, rq.prev_hash, changes, &*set};
  auto sealed = crypto::seal_commit(owner_.identity().signer(), spec);
  if (!sealed) return fail("rekey_request refused: " + sealed.err().message);
  protocol::client::rekey r;
  r.group = rq.group;
  r.epoch = rq.epoch;
  r.key_id = sealed->man.key_id;
  r.alg = sealed->man.alg;
  r.changes = rq.changes.size();
  r.sig = sealed->sig;
  r.wrapped = std::move(sealed->wrapped);
  const auto& m = sealed->man;

  in_flight_ = true;
  owner_.request(std::move(r), [this, e = rq.epoch, members = std::move(*set), hash = m.hash()](reply&& rep) mutable {
    in_flight_ = false;
    if (rep.is_ok()) {
      members_ = std::move(members);
      manifest_hash_ = hash;
      epoch_.store(e);
      commits_.fetch_add(1);
    } else {
      // bad_rekey because proposals arrived meanwhile: the broker sends a fresh request.
      fail("rekey for epoch " + std::to_string(e) + ": " + rep.describe());
    }
    if (auto next = std::exchange(waiting_, std::nullopt)) on_rekey_request(*next);
  });
}

}  // namespace sealcast::bench
