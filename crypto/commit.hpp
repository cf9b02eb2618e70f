#pragma once

// The committer's side of a client-custody commit (docs/protocol.md 6.4 step 3): one function
// for every client that answers a rekey_request (the library, the test client, the bench).

#include <cstdint>
#include <map>
#include <span>

#include "common/bytes.hpp"
#include "common/error.hpp"
#include "common/types.hpp"
#include "crypto/group_context.hpp"
#include "crypto/secret.hpp"
#include "crypto/sign.hpp"

namespace sealcast::crypto {

/// A commit ready to send: the new key, its signed manifest and the key wrapped to each member.
struct sealed_commit {
  group_key key;
  manifest man;
  sig64 sig{};
  std::map<id16, wrapped_key> wrapped;
};

/// What a commit covers; `members` is the new set (apply_commit's result).
struct commit_spec {
  id16 group;
  std::uint64_t epoch = 0;
  aead_alg alg = aead_alg::aes_256_gcm;
  group_policy policy = group_policy::invite;
  digest32 prev_hash{};
  std::span<const change> changes;
  const member_set* members = nullptr;
};

/// Draws a fresh K, wraps it to every member of the new set, and signs the client-custody
/// manifest with `issuer` (the issuer id is the signer's user id). bad_key naming the member
/// whose kx_pk cannot be wrapped to.
[[nodiscard]] result<sealed_commit> seal_commit(const signing_key& issuer, const commit_spec& spec);

}  // namespace sealcast::crypto
