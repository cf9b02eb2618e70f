#include "client/verify.hpp"

#include <algorithm>

#include "crypto/group_key.hpp"

namespace sealcast::client::detail {

crypto::manifest manifest_of(const protocol::server::key& k) {
  crypto::manifest m;
  m.group = k.group;
  m.epoch = k.epoch;
  m.key_id = k.key_id;
  m.alg = k.alg;
  m.prev_hash = k.manifest.prev_hash;
  m.members.reserve(k.manifest.members.size());
  for (const auto& mm : k.manifest.members) m.members.push_back({mm.user, bytes(mm.kx_pk.begin(), mm.kx_pk.end()), mm.role});
  return m;
}

key_check_result check_key_frame(const protocol::server::key& k, const key_check_context& ctx) {
  key_check_result r;
  auto refuse = [&](warning_kind kind, std::string why) {
    r.kind = kind;
    r.message = "key " + k.group.hex() + "/" + std::to_string(k.epoch) + " refused: " + std::move(why);
    return r;
  };
  if (ctx.me == nullptr) return refuse(warning_kind::bad_manifest, "no identity");
  if (k.epoch == 0) return refuse(warning_kind::bad_manifest, "epoch 0 has no key");

  // Who must have signed the manifest.
  bytes signer_pk;
  if (k.custody == key_custody::broker) {
    if (k.issuer != ctx.broker_id)
      return refuse(warning_kind::bad_manifest, "broker-custody key issued by " + k.issuer.hex() + ", not the broker");
    signer_pk = ctx.broker_pk;
  } else {
    const auto it = std::find_if(k.manifest.members.begin(), k.manifest.members.end(),
                                 [&](const auto& m) { return m.user == k.issuer; });
    if (it == k.manifest.members.end())
      return refuse(warning_kind::bad_manifest, "issuer " + k.issuer.hex() + " is not a member of the epoch");
    if (it->role != member_role::owner && it->role != member_role::admin)
      return refuse(warning_kind::bad_manifest, "issuer " + k.issuer.hex() + " is neither owner nor admin");
    if (!ctx.issuer_sign_pk) return refuse(warning_kind::bad_manifest, "the issuer's signing key is unknown");
    if (crypto::user_id_of(*ctx.issuer_sign_pk) != k.issuer)
      return refuse(warning_kind::bad_manifest, "the issuer's signing key does not match its id");
    signer_pk = *ctx.issuer_sign_pk;
  }

  const auto man = manifest_of(k);
  if (auto v = man.validate(); !v) return refuse(warning_kind::bad_manifest, "malformed manifest: " + v.err().message);
  if (auto v = man.verify(k.manifest.sig, signer_pk); !v)
    return refuse(warning_kind::bad_signature, "manifest signature does not verify");

  if (k.epoch == 1 && k.manifest.prev_hash != crypto::digest32{})
    return refuse(warning_kind::chain_break, "epoch 1 must chain to zeros");
  if (ctx.prev_hash && *ctx.prev_hash != k.manifest.prev_hash)
    return refuse(warning_kind::chain_break, "prev_hash does not match the manifest of epoch " + std::to_string(k.epoch - 1));

  const auto& my_kx = ctx.me->kx_pk();
  const bool listed = std::any_of(k.manifest.members.begin(), k.manifest.members.end(), [&](const auto& m) {
    return m.user == ctx.me->user_id() && std::equal(m.kx_pk.begin(), m.kx_pk.end(), my_kx.begin(), my_kx.end());
  });
  if (!listed) return refuse(warning_kind::bad_manifest, "the manifest does not list this user with its key");

  auto key = crypto::unwrap_group_key(ctx.me->kx_sk(), k.group, k.epoch, k.key_id, k.wrapped);
  if (!key) return refuse(warning_kind::bad_key, key.err().message);
  auto hash = man.hash();
  if (!hash) return refuse(warning_kind::bad_manifest, hash.err().message);
  r.ok = checked_key{*key, *hash};
  return r;
}

}  // namespace sealcast::client::detail
