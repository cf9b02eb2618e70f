#pragma once

#include <cstddef>

#include "common/bytes.hpp"
#include "common/error.hpp"
#include "crypto/secret.hpp"
#include "crypto/x25519.hpp"

namespace sealcast::crypto {

// RFC 9180 HPKE, base mode, single-shot, with the one suite Sealcast uses:
// DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / AES-128-GCM (kem 0x0020, kdf 0x0001, aead 0x0001).

/// Size of enc, the serialized ephemeral public key.
inline constexpr std::size_t hpke_enc_size = 32;
/// Size of the AEAD tag HPKE appends.
inline constexpr std::size_t hpke_tag_size = 16;

/// The secrets of a base-mode context (sequence number 0), exposed for known-answer tests.
struct hpke_context {
  bytes enc;                   ///< pkE, 32 bytes
  secure_bytes shared_secret;  ///< the KEM's shared_secret, 32 bytes
  secure_bytes key;            ///< AES-128-GCM key, 16 bytes
  secure_bytes base_nonce;     ///< 12 bytes
};

/// An ephemeral X25519 key pair for exactly one Seal. Computing its public key is half the cost
/// of a Seal, so a broker can generate these ahead of time (in idle time, on another thread) and
/// spend one X25519 per member when a rotation is due. Move-only; sealing consumes it, and a
/// moved-from or used one is refused, so one ephemeral can never encrypt twice.
class hpke_ephemeral {
 public:
  /// A fresh key pair from the system RNG.
  [[nodiscard]] static hpke_ephemeral generate();
  /// The key pair of a given private key (deterministic; tests and vectors only).
  [[nodiscard]] static result<hpke_ephemeral> from_secret(byte_view sk);

  hpke_ephemeral(hpke_ephemeral&& other) noexcept;
  hpke_ephemeral& operator=(hpke_ephemeral&& other) noexcept;
  hpke_ephemeral(const hpke_ephemeral&) = delete;
  hpke_ephemeral& operator=(const hpke_ephemeral&) = delete;
  ~hpke_ephemeral() = default;

  /// pkE, which becomes enc.
  [[nodiscard]] const x25519_public& public_key() const noexcept { return pk_; }
  /// False once moved from or used.
  [[nodiscard]] bool usable() const noexcept { return usable_; }

 private:
  hpke_ephemeral() = default;
  friend result<bytes> hpke_seal(hpke_ephemeral ephemeral, byte_view pk_r, byte_view info,
                                 byte_view aad, byte_view pt);

  kx_secret sk_;
  x25519_public pk_{};
  bool usable_ = false;
};

/// SetupBaseS with a caller-chosen ephemeral private key (deterministic; tests and vectors).
/// bad_length for wrong key sizes, bad_key when pk_r is of low order.
[[nodiscard]] result<hpke_context> hpke_setup_sender(byte_view sk_e, byte_view pk_r,
                                                     byte_view info);

/// SetupBaseR: the receiver's view of the same context, from its private key and enc.
[[nodiscard]] result<hpke_context> hpke_setup_receiver(byte_view sk_r, byte_view enc,
                                                       byte_view info);

/// Single-shot Seal to pk_r with a fresh ephemeral key; returns enc || ciphertext || tag.
[[nodiscard]] result<bytes> hpke_seal(byte_view pk_r, byte_view info, byte_view aad, byte_view pt);

/// Single-shot Seal with a pre-generated ephemeral key pair (bad_key if it was already used).
[[nodiscard]] result<bytes> hpke_seal(hpke_ephemeral ephemeral, byte_view pk_r, byte_view info,
                                      byte_view aad, byte_view pt);

/// hpke_seal with a caller-chosen ephemeral private key (deterministic; tests and vectors only:
/// reusing sk_e across messages breaks confidentiality).
[[nodiscard]] result<bytes> hpke_seal_with_ephemeral(byte_view sk_e, byte_view pk_r, byte_view info,
                                                     byte_view aad, byte_view pt);

/// Single-shot Open of enc || ciphertext || tag. bad_length when shorter than enc and tag,
/// bad_key for a low-order enc, decrypt_failed when it does not authenticate.
[[nodiscard]] result<secure_bytes> hpke_open(byte_view sk_r, byte_view info, byte_view aad,
                                             byte_view sealed);

}  // namespace sealcast::crypto
