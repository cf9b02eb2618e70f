#include "crypto/manifest.hpp"

#include <algorithm>

#include "crypto/x25519.hpp"

namespace sealcast::crypto {

std::string_view to_string(member_role role) noexcept {
  switch (role) {
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
  for (auto role : {member_role::owner, member_role::admin, member_role::member}) {
    if (name == to_string(role)) {
      return role;
    }
  }
  return error{errc::bad_request, "unknown role '" + std::string(name) + "'"};
}

result<member_role> member_role_from_id(std::uint8_t id) {
  if (id < 1 || id > 3) {
    return error{errc::bad_format, "unknown role id " + std::to_string(id)};
  }
  return static_cast<member_role>(id);
}

status manifest::validate() const {
  if (!aead_alg_from_id(alg_id(alg))) {
    return error{errc::bad_format, "manifest has an unknown algorithm"};
  }
  std::vector<id16> users;
  users.reserve(members.size());
  for (const auto& m : members) {
    if (m.kx_pk.size() != x25519_size) {
      return error{errc::bad_length, "member " + m.user.hex() + " has a kx_pk of wrong length"};
    }
    if (!member_role_from_id(static_cast<std::uint8_t>(m.role))) {
      return error{errc::bad_format, "member " + m.user.hex() + " has an unknown role"};
    }
    users.push_back(m.user);
  }
  std::sort(users.begin(), users.end());
  if (std::adjacent_find(users.begin(), users.end()) != users.end()) {
    return error{errc::bad_format, "manifest lists a user twice"};
  }
  return {};
}

result<bytes> manifest::canonical_bytes() const {
  if (auto s = validate(); !s) {
    return s.err();
  }
  std::vector<const manifest_member*> sorted;
  sorted.reserve(members.size());
  for (const auto& m : members) {
    sorted.push_back(&m);
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const manifest_member* a, const manifest_member* b) { return a->user < b->user; });

  bytes out;
  out.reserve(manifest_label.size() + 16 + 8 + 16 + 1 + 32 + 4 + members.size() * (16 + 32 + 1));
  append(out, manifest_label);
  append(out, group.view());
  put_u64be(out, epoch);
  append(out, key_id.view());
  out.push_back(alg_id(alg));
  append(out, prev_hash);
  put_u32be(out, static_cast<std::uint32_t>(members.size()));
  for (const auto* m : sorted) {
    append(out, m->user.view());
    append(out, m->kx_pk);
    out.push_back(static_cast<std::uint8_t>(m->role));
  }
  return out;
}

result<digest32> manifest::hash() const {
  auto b = canonical_bytes();
  if (!b) {
    return std::move(b).err();
  }
  return sha256(*b);
}

result<bytes> manifest::sign(const signing_key& issuer) const {
  auto b = canonical_bytes();
  if (!b) {
    return std::move(b).err();
  }
  return issuer.sign(*b);
}

status manifest::verify(byte_view sig, byte_view signer_pk) const {
  auto b = canonical_bytes();
  if (!b) {
    return std::move(b).err();
  }
  if (!ed25519_verify(signer_pk, *b, sig)) {
    return error{errc::bad_signature, "manifest signature does not verify"};
  }
  return {};
}

}  // namespace sealcast::crypto
