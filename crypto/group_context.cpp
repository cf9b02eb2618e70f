#include "crypto/group_context.hpp"

#include <algorithm>
#include <set>

#include "crypto/aead.hpp"
#include "crypto/identity.hpp"

namespace sealcast::crypto {
namespace {

constexpr std::uint8_t role_byte(const std::optional<member_role>& r) noexcept {
  return r ? static_cast<std::uint8_t>(*r) : 0;
}

std::string_view role_name(const std::optional<member_role>& r) noexcept { return r ? to_string(*r) : "none"; }

bool carries_key(change_action a) noexcept { return a == change_action::add || a == change_action::join; }

bool is_owner_or_admin(const member_set& set, const id16& user) {
  auto it = set.find(user);
  return it != set.end() && (it->second.role == member_role::owner || it->second.role == member_role::admin);
}

bool is_owner(const member_set& set, const id16& user) {
  auto it = set.find(user);
  return it != set.end() && it->second.role == member_role::owner;
}

// "add 4f17..." : how every message names a change, so a warning says what was refused.
std::string describe(const change& c) { return std::string(to_string(c.action)) + " of " + c.user.hex(); }

// "change 2 (add of 4f17...): " + the reason, keeping the reason's code.
error in_change(std::size_t i, const change& c, const error& e) {
  return error{e.code, "change " + std::to_string(i + 1) + " (" + describe(c) + "): " + e.message};
}

bool valid_custody(key_custody c) noexcept { return c == key_custody::broker || c == key_custody::client; }
bool valid_policy(group_policy p) noexcept { return p == group_policy::invite || p == group_policy::open; }

// Section 6.5, the genesis rule: epoch 1 applies to the empty set and its first change adds the
// creator as owner; in client custody the creator issues it and it is the only change.
result<member_set> apply_genesis(const commit_input& in) {
  if (in.changes.empty()) {
    return error{errc::bad_request, "genesis: epoch 1 has no change adding the creator"};
  }
  const change& first = in.changes.front();
  if (first.action != change_action::add || first.role != member_role::owner) {
    return error{errc::bad_request, "genesis: the first change of epoch 1 must add the creator as owner, not " +
                                        describe(first) + " as " + std::string(role_name(first.role))};
  }
  for (std::size_t i = 1; i < in.changes.size(); ++i) {
    if (in.changes[i].role == member_role::owner) {
      return in_change(i, in.changes[i], error{errc::bad_request, "genesis: only the creator may be owner"});
    }
  }
  if (in.custody == key_custody::client) {
    if (in.issuer != first.user) {
      return error{errc::bad_request, "genesis: issuer " + in.issuer.hex() + " is not the creator " + first.user.hex()};
    }
    if (in.changes.size() != 1) {
      return error{errc::bad_request, "genesis: epoch 1 in client custody must have exactly one change, not " +
                                          std::to_string(in.changes.size())};
    }
  }
  member_set set;
  for (std::size_t i = 0; i < in.changes.size(); ++i) {
    if (auto s = apply_change(set, in.changes[i]); !s) {
      return in_change(i, in.changes[i], s.err());
    }
  }
  return set;
}

}  // namespace

std::string_view to_string(change_action a) noexcept {
  switch (a) {
    case change_action::add:
      return "add";
    case change_action::remove:
      return "remove";
    case change_action::role:
      return "role";
    case change_action::join:
      return "join";
    case change_action::leave:
      return "leave";
  }
  return "unknown";
}

result<change_action> parse_change_action(std::string_view name) {
  for (auto a :
       {change_action::add, change_action::remove, change_action::role, change_action::join, change_action::leave}) {
    if (name == to_string(a)) {
      return a;
    }
  }
  return error{errc::bad_request, "unknown change action '" + std::string(name) + "'"};
}

std::string_view to_string(member_role r) noexcept {
  switch (r) {
    case member_role::owner:
      return "owner";
    case member_role::admin:
      return "admin";
    case member_role::member:
      return "member";
  }
  return "unknown";
}

result<member_role> parse_member_role(std::string_view name) {
  for (auto r : {member_role::owner, member_role::admin, member_role::member}) {
    if (name == to_string(r)) {
      return r;
    }
  }
  return error{errc::bad_request, "unknown role '" + std::string(name) + "'"};
}

bytes change::line() const {
  static constexpr key32 no_key{};
  bytes out;
  out.reserve(change_line_size);
  out.push_back(static_cast<std::uint8_t>(action));
  append(out, user.view());
  append(out, carries_key(action) ? kx_pk : no_key);
  const bool has_role = carries_key(action) || action == change_action::role;
  out.push_back(has_role ? role_byte(role) : 0);
  return out;
}

digest32 members_hash(const member_set& members) {
  bytes m;
  m.reserve(members_label.size() + 4 + members.size() * (16 + 32 + 1));
  append(m, members_label);
  put_u32be(m, static_cast<std::uint32_t>(members.size()));
  for (const auto& [user, entry] : members) {  // std::map orders ids by their bytes
    append(m, user.view());
    append(m, entry.kx_pk);
    m.push_back(static_cast<std::uint8_t>(entry.role));
  }
  return sha256(m);
}

digest32 changes_hash(std::span<const change> changes) {
  bytes m;
  m.reserve(changes_label.size() + 4 + changes.size() * change_line_size);
  append(m, changes_label);
  put_u32be(m, static_cast<std::uint32_t>(changes.size()));
  for (const auto& c : changes) {
    append(m, c.line());
  }
  return sha256(m);
}

bytes manifest::canonical_bytes() const {
  bytes out;
  out.reserve(manifest_size);
  append(out, manifest_label);
  append(out, group.view());
  put_u64be(out, epoch);
  append(out, key_id.view());
  out.push_back(alg_id(alg));
  out.push_back(static_cast<std::uint8_t>(custody));
  out.push_back(static_cast<std::uint8_t>(policy));
  append(out, issuer.view());
  append(out, prev_hash);
  append(out, changes_hash);
  append(out, members_hash);
  return out;
}

digest32 manifest::hash() const { return sha256(canonical_bytes()); }

sig64 manifest::sign(const signing_key& issuer_key) const { return to_array<64>(issuer_key.sign(canonical_bytes())); }

bool manifest::verify(byte_view sig, byte_view signer_pk) const {
  return ed25519_verify(signer_pk, canonical_bytes(), sig);
}

bytes proposal_tbs(const id16& group, std::uint64_t epoch, const change& c, const id16& proposer) {
  bytes m;
  m.reserve(proposal_label.size() + 16 + 8 + change_line_size + 16);
  append(m, proposal_label);
  append(m, group.view());
  put_u64be(m, epoch);
  append(m, c.line());
  append(m, proposer.view());
  return m;
}

sig64 sign_proposal(const signing_key& proposer, const id16& group, std::uint64_t epoch, const change& c) {
  return to_array<64>(proposer.sign(proposal_tbs(group, epoch, c, user_id_of(proposer.public_key()))));
}

status verify_proposal(const id16& group, std::uint64_t epoch, const change& c, const id16& proposer,
                       byte_view proposer_pk, byte_view sig) {
  if (proposer_pk.size() != ed25519_public_size || user_id_of(proposer_pk) != proposer) {
    return error{errc::bad_key, "by_pk is not the key of proposer " + proposer.hex()};
  }
  if (!ed25519_verify(proposer_pk, proposal_tbs(group, epoch, c, proposer), sig)) {
    return error{errc::bad_signature,
                 "proposal by " + proposer.hex() + " does not verify against epoch " + std::to_string(epoch)};
  }
  return {};
}

status check_entitlement(const member_set& prev, group_policy policy, const change& c, const id16& proposer) {
  const auto refuse = [&](const std::string& why) { return error{errc::forbidden, why}; };
  const auto manager_only = [&]() -> status {
    if (!is_owner_or_admin(prev, proposer)) {
      return refuse("proposer " + proposer.hex() + " is not owner or admin");
    }
    return {};
  };
  switch (c.action) {
    case change_action::add:
      if (auto s = manager_only(); !s) {
        return s;
      }
      if (prev.contains(c.user)) {
        return refuse(c.user.hex() + " is already a member");
      }
      if (c.role != member_role::member && c.role != member_role::admin) {
        return refuse("an add may make " + c.user.hex() + " member or admin, not " + std::string(role_name(c.role)));
      }
      return {};
    case change_action::remove:
    case change_action::role:
      if (auto s = manager_only(); !s) {
        return s;
      }
      if (is_owner(prev, c.user)) {
        return refuse("the owner " + c.user.hex() + " cannot be removed or demoted");
      }
      if (c.action == change_action::role && c.role != member_role::member && c.role != member_role::admin) {
        return refuse("a role change may make " + c.user.hex() + " member or admin, not " +
                      std::string(role_name(c.role)));
      }
      return {};
    case change_action::join:
      if (proposer != c.user) {
        return refuse("proposer " + proposer.hex() + " cannot join for " + c.user.hex());
      }
      if (policy != group_policy::open) {
        return refuse(c.user.hex() + " cannot join a group that is not open");
      }
      if (c.role != member_role::member) {
        return refuse("a join makes " + c.user.hex() + " member, not " + std::string(role_name(c.role)));
      }
      return {};
    case change_action::leave:
      if (proposer != c.user) {
        return refuse("proposer " + proposer.hex() + " cannot leave for " + c.user.hex());
      }
      if (!prev.contains(c.user)) {
        return refuse(c.user.hex() + " is not a member");
      }
      if (is_owner(prev, c.user)) {
        return refuse("the owner " + c.user.hex() + " cannot leave");
      }
      return {};
  }
  return refuse("unknown change action " + std::to_string(static_cast<int>(c.action)) + " for " + c.user.hex());
}

status apply_change(member_set& set, const change& c) {
  const auto inapplicable = [&](const std::string& why) { return error{errc::bad_request, why}; };
  switch (c.action) {
    case change_action::add:
    case change_action::join:
      if (!c.role) {
        return inapplicable(describe(c) + " has no role");
      }
      if (c.action == change_action::join && c.role != member_role::member) {
        return inapplicable("a join makes " + c.user.hex() + " member, not " + std::string(role_name(c.role)));
      }
      if (set.contains(c.user)) {
        return inapplicable(c.user.hex() + " is already a member");
      }
      set.emplace(c.user, member_entry{c.kx_pk, *c.role});
      return {};
    case change_action::remove:
    case change_action::leave: {
      auto it = set.find(c.user);
      if (it == set.end()) {
        return inapplicable(c.user.hex() + " is not a member");
      }
      if (it->second.role == member_role::owner) {
        return inapplicable("the owner " + c.user.hex() + " cannot be removed or leave");
      }
      set.erase(it);
      return {};
    }
    case change_action::role: {
      if (c.role != member_role::member && c.role != member_role::admin) {
        return inapplicable("a role change makes " + c.user.hex() + " member or admin, not " +
                            std::string(role_name(c.role)));
      }
      auto it = set.find(c.user);
      if (it == set.end()) {
        return inapplicable(c.user.hex() + " is not a member");
      }
      if (it->second.role == member_role::owner) {
        return inapplicable("the owner " + c.user.hex() + " cannot be demoted");
      }
      if (it->second.role == *c.role) {
        return inapplicable(c.user.hex() + " already has the role " + std::string(to_string(*c.role)));
      }
      it->second.role = *c.role;
      return {};
    }
  }
  return inapplicable("unknown change action " + std::to_string(static_cast<int>(c.action)) + " for " + c.user.hex());
}

result<member_set> apply_commit(const commit_input& in) {
  if (in.epoch == 0) {
    return error{errc::bad_request, "epoch 0 has no commit"};
  }
  if (!valid_custody(in.custody) || !valid_policy(in.policy)) {
    return error{errc::bad_request, "unknown custody or policy"};
  }
  if (in.epoch == 1) {
    return apply_genesis(in);
  }
  const std::string prev_epoch = std::to_string(in.epoch - 1);
  if (in.prev == nullptr) {
    return error{errc::bad_request,
                 "no member set of epoch " + prev_epoch + " to apply epoch " + std::to_string(in.epoch) + " to"};
  }
  const member_set& prev = *in.prev;
  const bool client = in.custody == key_custody::client;
  if (client && !is_owner_or_admin(prev, in.issuer)) {
    return error{errc::forbidden, "issuer " + in.issuer.hex() + " is not owner or admin of epoch " + prev_epoch};
  }

  member_set next = prev;
  // A proposal is a one-time statement: repeated in one commit (say add, remove, add again by
  // replaying the first add), it would let the broker undo a removal its admin asked for.
  std::set<bytes> seen;
  for (std::size_t i = 0; i < in.changes.size(); ++i) {
    const change& c = in.changes[i];
    if (c.role == member_role::owner) {
      return in_change(i, c, error{errc::bad_request, "only the genesis may give the role owner"});
    }
    if (client) {
      if (!c.by || !c.by_pk || !c.sig) {
        return in_change(i, c, error{errc::bad_signature, "carries no proposal"});
      }
      auto key = c.line();
      key.insert(key.end(), c.by->b.begin(), c.by->b.end());
      if (!seen.insert(std::move(key)).second) {
        return in_change(i, c, error{errc::bad_request, "repeats an earlier proposal of the same commit (a replay)"});
      }
      // Proposals are made against the epoch whose manifest entitles the proposer: the previous one.
      if (auto s = verify_proposal(in.group, in.epoch - 1, c, *c.by, *c.by_pk, *c.sig); !s) {
        return in_change(i, c, s.err());
      }
      if (auto s = check_entitlement(prev, in.policy, c, *c.by); !s) {
        return in_change(i, c, s.err());
      }
    }
    if (auto s = apply_change(next, c); !s) {
      return in_change(i, c, s.err());
    }
  }
  if (client && !is_owner_or_admin(next, in.issuer)) {
    return error{errc::forbidden,
                 "issuer " + in.issuer.hex() + " is not owner or admin of epoch " + std::to_string(in.epoch)};
  }
  return next;
}

}  // namespace sealcast::crypto
