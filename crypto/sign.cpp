#include "crypto/sign.hpp"

#include <botan/ed25519.h>
#include <botan/pubkey.h>

#include "crypto/detail/botan_rng.hpp"
#include "crypto/detail/ed25519_strict.hpp"
#include "crypto/random.hpp"

namespace sealcast::crypto {

struct signing_key::impl {
  sign_seed seed;
  Botan::Ed25519_PrivateKey key;  // holds seed || public key in Botan's wiped storage
  bytes public_key;

  explicit impl(const sign_seed& s)
      : seed(s),
        key(Botan::secure_vector<std::uint8_t>(s.view().begin(), s.view().end())),
        public_key(key.get_public_key()) {}
};

signing_key::signing_key(std::shared_ptr<const impl> p) noexcept : impl_(std::move(p)) {}

signing_key signing_key::generate() { return from_seed(random_fixed_secret<sign_seed>()); }

result<signing_key> signing_key::from_seed(byte_view seed) {
  auto s = sign_seed::from_bytes(seed);
  if (!s) {
    return error{errc::bad_length, "Ed25519 seed must be 32 bytes"};
  }
  return from_seed(*s);
}

signing_key signing_key::from_seed(const sign_seed& seed) {
  // A 32-byte secret_key makes Botan derive the key pair from the seed (RFC 8032 5.1.5).
  return signing_key(std::make_shared<const impl>(seed));
}

const bytes& signing_key::public_key() const noexcept { return impl_->public_key; }

const sign_seed& signing_key::seed() const noexcept { return impl_->seed; }

bytes signing_key::sign(byte_view msg) const {
  // "Pure" is plain Ed25519 (no prehash, no context), the variant PROTOCOL.md and RFC 8032 7.1
  // mean. A signer object is cheap: it only references the expanded key.
  Botan::PK_Signer signer(impl_->key, detail::rng(), "Pure");
  return signer.sign_message(msg.data(), msg.size(), detail::rng());
}

bool ed25519_verify(byte_view public_key, byte_view msg, byte_view sig) noexcept {
  if (public_key.size() != ed25519_public_size || sig.size() != ed25519_signature_size) {
    return false;
  }
  // Botan 2.19 checks S < 2^253, that A decodes to a point, and the cofactorless equation (R
  // compared byte for byte); the precheck adds the rest of the strict rule. An A that is not a
  // point is left to Botan's decoder, so verification skips ed25519_public_key_ok's
  // exponentiation.
  const auto refusal =
      detail::ed25519_precheck(public_key.first<ed25519_public_size>(), sig.first<ed25519_signature_size>());
  if (refusal != detail::ed25519_refusal::none) {
    return false;
  }
  try {
    const Botan::Ed25519_PublicKey pk(public_key.data(), public_key.size());
    Botan::PK_Verifier verifier(pk, "Pure");
    return verifier.verify_message(msg.data(), msg.size(), sig.data(), sig.size());
  } catch (const std::exception&) {
    return false;  // a malformed key is just a failed verification to our callers
  }
}

bool ed25519_public_key_ok(byte_view public_key) noexcept {
  if (public_key.size() != ed25519_public_size) {
    return false;
  }
  const auto pk = public_key.first<ed25519_public_size>();
  return detail::ed25519_is_canonical_point(pk) && !detail::ed25519_has_small_order(pk) &&
         detail::ed25519_is_on_curve(pk);
}

}  // namespace sealcast::crypto
