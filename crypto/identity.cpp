#include "crypto/identity.hpp"

#include <algorithm>

#include "crypto/hash.hpp"
#include "crypto/random.hpp"
#include "crypto/x25519.hpp"

namespace sealcast::crypto {

id16 user_id_of(byte_view sign_pk) {
  const digest32 h = sha256(sign_pk);
  id16 id;
  std::copy_n(h.begin(), id.b.size(), id.b.begin());
  return id;
}

bytes kx_sig_input(byte_view kx_pk) {
  bytes m;
  m.reserve(kx_sig_label.size() + kx_pk.size());
  append(m, kx_sig_label);
  append(m, kx_pk);
  return m;
}

bool verify_kx_sig(byte_view sign_pk, byte_view kx_pk, byte_view kx_sig) noexcept {
  if (kx_pk.size() != x25519_size) {
    return false;
  }
  try {
    return ed25519_verify(sign_pk, kx_sig_input(kx_pk), kx_sig);
  } catch (const std::exception&) {
    return false;
  }
}

status public_identity::validate() const {
  if (sign_pk.size() != ed25519_public_size || kx_pk.size() != x25519_size ||
      kx_sig.size() != ed25519_signature_size) {
    return error{errc::bad_length, "identity keys have wrong lengths"};
  }
  if (!verify_kx_sig(sign_pk, kx_pk, kx_sig)) {
    return error{errc::bad_signature, "kx_sig does not verify"};
  }
  if (!is_acceptable_kx_pk(kx_pk)) {
    return error{errc::bad_key, "kx_pk is a low-order X25519 point"};
  }
  return {};
}

identity::identity(signing_key signer, const kx_secret& kx_sk)
    : signer_(std::move(signer)), kx_sk_(kx_sk) {
  // A 32-byte scalar always has a public key, so the result cannot be an error here.
  const auto kx_pk = *x25519_public_key(kx_sk_.view());
  pub_.sign_pk = signer_.public_key();
  pub_.kx_pk.assign(kx_pk.begin(), kx_pk.end());
  pub_.kx_sig = signer_.sign(kx_sig_input(pub_.kx_pk));
  user_id_ = user_id_of(pub_.sign_pk);
}

identity identity::generate() {
  return identity(signing_key::generate(), random_fixed_secret<kx_secret>());
}

result<identity> identity::from_secrets(byte_view sign_seed_bytes, byte_view kx_sk_bytes) {
  auto seed = sign_seed::from_bytes(sign_seed_bytes);
  auto kx = kx_secret::from_bytes(kx_sk_bytes);
  if (!seed || !kx) {
    return error{errc::bad_length, "identity secrets must be 32 bytes each"};
  }
  return from_secrets(*seed, *kx);
}

identity identity::from_secrets(const sign_seed& seed, const kx_secret& kx_sk) {
  return identity(signing_key::from_seed(seed), kx_sk);
}

}  // namespace sealcast::crypto
