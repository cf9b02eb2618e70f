#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/error.hpp"
#include "crypto/aead.hpp"
#include "crypto/hash.hpp"
#include "crypto/sign.hpp"

#include "common/types.hpp"

namespace sealcast::crypto {

/// Domain label that starts every manifest.
inline constexpr std::string_view manifest_label = "sealcast/v1/manifest";

/// A member's role (common/types.hpp): the manifest's role byte.
using sealcast::member_role;

/// The wire name: "owner", "admin" or "member".
[[nodiscard]] std::string_view to_string(member_role role) noexcept;
/// Parses a wire name; bad_request for anything else.
[[nodiscard]] result<member_role> parse_member_role(std::string_view name);
/// Parses a role byte; bad_format for an unknown value.
[[nodiscard]] result<member_role> member_role_from_id(std::uint8_t id);

/// One member line of a manifest.
struct manifest_member {
  id16 user;
  bytes kx_pk;  ///< 32 bytes
  member_role role = member_role::member;

  friend bool operator==(const manifest_member&, const manifest_member&) = default;
};

/// An epoch's manifest (PROTOCOL.md section 6): who holds K_e, chained to the previous epoch.
struct manifest {
  id16 group;
  std::uint64_t epoch = 0;
  id16 key_id;
  aead_alg alg = aead_alg::aes_256_gcm;
  digest32 prev_hash{};  ///< SHA-256 of epoch-1's manifest; zeros for epoch 1
  std::vector<manifest_member> members;

  /// bad_length for a kx_pk that is not 32 bytes, bad_format for an unknown alg or role or a
  /// user listed twice.
  [[nodiscard]] status validate() const;
  /// The canonical signed bytes, members sorted by user id bytes whatever their order here.
  [[nodiscard]] result<bytes> canonical_bytes() const;
  /// SHA-256 of the canonical bytes: the next epoch's prev_hash.
  [[nodiscard]] result<digest32> hash() const;
  /// manifest_sig = Ed25519(issuer, canonical bytes).
  [[nodiscard]] result<bytes> sign(const signing_key& issuer) const;
  /// ok when sig is signer_pk's signature of the canonical bytes; bad_signature otherwise.
  [[nodiscard]] status verify(byte_view sig, byte_view signer_pk) const;

  friend bool operator==(const manifest&, const manifest&) = default;
};

}  // namespace sealcast::crypto
