#pragma once

// The signed group context of protocol v2 (docs/protocol.md section 6): change lines, member
// sets, proposals, manifests, and the one function that decides whether a commit is valid. The
// broker (honest checks) and the client (checks against a hostile broker) both call
// apply_commit, so there is one rule in one place.

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/error.hpp"
#include "common/types.hpp"
#include "crypto/hash.hpp"
#include "crypto/sign.hpp"

namespace sealcast::crypto {

/// Domain labels of section 6.
inline constexpr std::string_view manifest_label = "sealcast/v2/manifest";
inline constexpr std::string_view members_label = "sealcast/v2/members";
inline constexpr std::string_view changes_label = "sealcast/v2/changes";
inline constexpr std::string_view proposal_label = "sealcast/v2/proposal";

/// Size of a change line and of a manifest (section 6.1): 50 and 175 bytes. (The text of section
/// 6.1 says "184-byte"; the formula it gives adds up to 175.)
inline constexpr std::size_t change_line_size = 50;
inline constexpr std::size_t manifest_size = 20 + 16 + 8 + 16 + 1 + 1 + 1 + 16 + 32 + 32 + 32;

/// What a change does (common/types.hpp); the values are the change line's action byte.
using sealcast::change_action;
/// A member's role (common/types.hpp); the values are the role byte of change lines and members_hash.
using sealcast::member_role;

/// The wire name ("add", ...).
[[nodiscard]] std::string_view to_string(change_action a) noexcept;
/// Parses a wire name; bad_request for anything else.
[[nodiscard]] result<change_action> parse_change_action(std::string_view name);
/// The wire name of a role ("owner", "admin", "member").
[[nodiscard]] std::string_view to_string(member_role r) noexcept;
/// Parses a role's wire name; bad_request for anything else.
[[nodiscard]] result<member_role> parse_member_role(std::string_view name);

/// One membership step, with the proposal that asked for it when there is one.
struct change {
  change_action action = change_action::add;
  id16 user;
  key32 kx_pk{};                     ///< add and join; zeros otherwise
  std::optional<member_role> role;   ///< add, join and role; absent otherwise
  std::optional<id16> by;            ///< who asked (the proposer)
  std::optional<key32> by_pk;        ///< the proposer's Ed25519 key (client custody)
  std::optional<sig64> sig;          ///< the proposal signature (client custody)

  /// The 50-byte change line: action || user || kx_pk (zeros unless add/join) || role (0 if none).
  [[nodiscard]] bytes line() const;
  friend bool operator==(const change&, const change&) = default;
};

/// A member of an epoch.
struct member_entry {
  key32 kx_pk{};
  member_role role = member_role::member;
  friend bool operator==(const member_entry&, const member_entry&) = default;
};

/// An epoch's member set, sorted by user id bytes.
using member_set = std::map<id16, member_entry>;

/// SHA-256("sealcast/v2/members" || u32be(n) || sorted user_id || kx_pk || role).
[[nodiscard]] digest32 members_hash(const member_set& members);
/// SHA-256("sealcast/v2/changes" || u32be(k) || change lines in order).
[[nodiscard]] digest32 changes_hash(std::span<const change> changes);

/// An epoch's manifest: the signed group context (section 6.1).
struct manifest {
  id16 group;
  std::uint64_t epoch = 0;
  id16 key_id;
  aead_alg alg = aead_alg::aes_256_gcm;
  key_custody custody = key_custody::broker;
  group_policy policy = group_policy::invite;
  id16 issuer;
  digest32 prev_hash{};     ///< SHA-256 of epoch-1's manifest; zeros for epoch 1
  digest32 changes_hash{};
  digest32 members_hash{};

  /// The manifest_size canonical bytes.
  [[nodiscard]] bytes canonical_bytes() const;
  /// SHA-256 of the canonical bytes: the next epoch's prev_hash.
  [[nodiscard]] digest32 hash() const;
  /// sig = Ed25519(issuer, canonical bytes).
  [[nodiscard]] sig64 sign(const signing_key& issuer_key) const;
  /// Strict verification (section 2.1) of sig under signer_pk.
  [[nodiscard]] bool verify(byte_view sig, byte_view signer_pk) const;
  friend bool operator==(const manifest&, const manifest&) = default;
};

/// "sealcast/v2/proposal" || group || u64be(epoch) || change line || proposer.
[[nodiscard]] bytes proposal_tbs(const id16& group, std::uint64_t epoch, const change& c, const id16& proposer);
/// The proposer's signature of proposal_tbs (the proposer is the signer's user id).
[[nodiscard]] sig64 sign_proposal(const signing_key& proposer, const id16& group, std::uint64_t epoch,
                                  const change& c);
/// Strict verification of a proposal signature under proposer_pk, and that proposer_pk is
/// proposer's key (user_id_of). bad_signature / bad_key otherwise.
[[nodiscard]] status verify_proposal(const id16& group, std::uint64_t epoch, const change& c, const id16& proposer,
                                     byte_view proposer_pk, byte_view sig);

/// Whether `proposer` may propose `c` against `prev` (the member set of epoch `epoch`): the
/// entitlement table of section 6.3. forbidden with the reason otherwise.
[[nodiscard]] status check_entitlement(const member_set& prev, group_policy policy, const change& c,
                                       const id16& proposer);

/// Applies one change to a working set (section 6.1); bad_request naming why it is inapplicable.
[[nodiscard]] status apply_change(member_set& set, const change& c);

/// Everything that decides whether a commit is valid, but the manifest signature.
struct commit_input {
  id16 group;
  std::uint64_t epoch = 0;               ///< the new epoch (>= 1)
  key_custody custody = key_custody::broker;
  group_policy policy = group_policy::invite;
  id16 issuer;
  const member_set* prev = nullptr;      ///< epoch-1's set; ignored (empty) for epoch 1
  std::span<const change> changes;
};

/// Checks a commit (sections 6.3 to 6.6): the genesis rule for epoch 1; in client custody the
/// issuer is owner or admin of prev and every change carries a valid proposal (by_pk certifies by,
/// signature over epoch-1) by an entitled proposer; every change applies in order; in client
/// custody the issuer is owner or admin of the result too. Returns the new member set, or an
/// error whose message names the failed check, the change and the user id (bad_signature for a
/// missing or bad proposal, bad_key when by_pk is not by's key, forbidden for the issuer or an
/// entitlement, bad_request for an inapplicable change, a role `owner` outside the genesis, or the
/// genesis rule). In broker custody it checks neither the issuer (it does not know the broker id)
/// nor proposals.
[[nodiscard]] result<member_set> apply_commit(const commit_input& in);

}  // namespace sealcast::crypto
