#pragma once

// Value types that are on the wire, in signed manifests and on disk at once. They are defined
// here once so that crypto/, protocol/ and persistence/ cannot drift apart: every numeric value
// below is persisted or signed, so none may ever be renumbered.

#include <array>
#include <cstdint>

namespace sealcast {

/// A 32-byte public key (Ed25519 or X25519) or a 32-byte nonce.
using key32 = std::array<std::uint8_t, 32>;
/// A 32-byte SHA-256 output.
using hash32 = std::array<std::uint8_t, 32>;
/// A 64-byte Ed25519 signature.
using sig64 = std::array<std::uint8_t, 64>;
/// An HPKE-wrapped group key: enc(32) || ciphertext(48) (PROTOCOL.md section 6).
using wrapped_key = std::array<std::uint8_t, 80>;

/// Message AEAD algorithms; the values are PROTOCOL.md's alg_id byte.
enum class aead_alg : std::uint8_t { aes_256_gcm = 1, chacha20_poly1305 = 2, xchacha20_poly1305 = 3 };

/// A member's role; the values are the manifest's role byte.
enum class member_role : std::uint8_t { owner = 1, admin = 2, member = 3 };

/// Who may join a group.
enum class group_policy : std::uint8_t { invite = 1, open = 2 };

/// Who holds a group's keys.
enum class key_custody : std::uint8_t { broker = 1, client = 2 };

/// What one membership change does; the values are the change line's action byte (PROTOCOL.md
/// section 6.1), signed in proposals and manifests and stored in epoch records.
enum class change_action : std::uint8_t { add = 1, remove = 2, role = 3, join = 4, leave = 5 };

}  // namespace sealcast
