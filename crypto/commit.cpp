#include "crypto/commit.hpp"

#include <algorithm>

#include "crypto/group_key.hpp"
#include "crypto/identity.hpp"

namespace sealcast::crypto {

result<sealed_commit> seal_commit(const signing_key& issuer, const commit_spec& spec) {
  if (spec.members == nullptr) return error{errc::bad_request, "a commit needs its new member set"};
  sealed_commit out;
  out.key = generate_group_key();
  auto& m = out.man;
  m.group = spec.group;
  m.epoch = spec.epoch;
  m.key_id = key_id(spec.group, spec.epoch, out.key);
  m.alg = spec.alg;
  m.custody = key_custody::client;
  m.policy = spec.policy;
  m.issuer = user_id_of(issuer.public_key());
  m.prev_hash = spec.prev_hash;
  m.changes_hash = changes_hash(spec.changes);
  m.members_hash = members_hash(*spec.members);
  for (const auto& [user, entry] : *spec.members) {
    auto w = wrap_group_key(entry.kx_pk, spec.group, spec.epoch, out.key);
    if (!w || w->size() != wrapped_key_size)
      return error{errc::bad_key, "cannot wrap the key to " + user.hex() + (w ? "" : ": " + w.err().message)};
    std::copy(w->begin(), w->end(), out.wrapped[user].begin());
  }
  out.sig = m.sign(issuer);
  return out;
}

}  // namespace sealcast::crypto
