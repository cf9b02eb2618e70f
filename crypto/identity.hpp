#pragma once

#include <string_view>

#include "common/bytes.hpp"
#include "common/error.hpp"
#include "crypto/secret.hpp"
#include "crypto/sign.hpp"

namespace sealcast::crypto {

/// Domain label of the signature that binds an X25519 key to an identity.
inline constexpr std::string_view kx_sig_label = "sealcast/v2/kx";

/// user_id = SHA-256(sign_pk)[0:16] (docs/protocol.md section 2); the broker_id is derived the same way.
[[nodiscard]] id16 user_id_of(byte_view sign_pk);

/// The signed bytes of kx_sig: "sealcast/v2/kx" || kx_pk.
[[nodiscard]] bytes kx_sig_input(byte_view kx_pk);

/// True when kx_sig is sign_pk's Ed25519 signature of "sealcast/v2/kx" || kx_pk.
[[nodiscard]] bool verify_kx_sig(byte_view sign_pk, byte_view kx_pk, byte_view kx_sig) noexcept;

/// The public half of an identity, as it travels in hello and user_keys.
struct public_identity {
  bytes sign_pk;
  bytes kx_pk;
  bytes kx_sig;

  /// bad_length for wrong sizes, bad_signature when kx_sig does not verify, bad_key for a
  /// low-order kx_pk. A hello whose keys fail this is auth_failed.
  [[nodiscard]] status validate() const;
  /// The self-certifying user id of sign_pk.
  [[nodiscard]] id16 user_id() const { return user_id_of(sign_pk); }

  friend bool operator==(const public_identity&, const public_identity&) = default;
};

/// A user's (or the broker's) two key pairs: Ed25519 for signing, X25519 for key agreement.
class identity {
 public:
  /// Fresh keys from the system RNG.
  [[nodiscard]] static identity generate();
  /// Rebuilds an identity from its 32-byte Ed25519 seed and 32-byte X25519 scalar (given
  /// clamped or not); bad_length otherwise.
  [[nodiscard]] static result<identity> from_secrets(byte_view sign_seed_bytes,
                                                     byte_view kx_sk_bytes);
  /// Same, from secrets already held in wiped types.
  [[nodiscard]] static identity from_secrets(const sign_seed& seed, const kx_secret& kx_sk);

  /// The Ed25519 key, for signing messages, manifests and hellos.
  [[nodiscard]] const signing_key& signer() const noexcept { return signer_; }
  /// The Ed25519 seed, for keystores.
  [[nodiscard]] const sign_seed& sign_sk() const noexcept { return signer_.seed(); }
  /// The X25519 private scalar, as given (unclamped if it was), for unwrapping and keystores.
  [[nodiscard]] const kx_secret& kx_sk() const noexcept { return kx_sk_; }
  /// The 32-byte Ed25519 public key.
  [[nodiscard]] const bytes& sign_pk() const noexcept { return signer_.public_key(); }
  /// The 32-byte X25519 public key.
  [[nodiscard]] const bytes& kx_pk() const noexcept { return pub_.kx_pk; }
  /// The 64-byte signature binding kx_pk to sign_pk.
  [[nodiscard]] const bytes& kx_sig() const noexcept { return pub_.kx_sig; }
  /// hex(SHA-256(sign_pk)[0:16]) as an id.
  [[nodiscard]] const id16& user_id() const noexcept { return user_id_; }
  /// sign_pk, kx_pk and kx_sig together, as sent in hello.
  [[nodiscard]] const public_identity& public_part() const noexcept { return pub_; }

  /// Ed25519 signature of msg with this identity's signing key.
  [[nodiscard]] bytes sign(byte_view msg) const { return signer_.sign(msg); }

 private:
  identity(signing_key signer, const kx_secret& kx_sk);

  signing_key signer_;
  kx_secret kx_sk_;
  public_identity pub_;
  id16 user_id_;
};

}  // namespace sealcast::crypto
