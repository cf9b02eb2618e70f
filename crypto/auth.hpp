#pragma once

#include <cstddef>
#include <string_view>

#include "common/bytes.hpp"
#include "crypto/sign.hpp"

namespace sealcast::crypto {

/// Domain label of the hello signature (docs/protocol.md section 3).
inline constexpr std::string_view auth_label = "sealcast/v2/auth";
/// Size of the challenge nonce the broker sends.
inline constexpr std::size_t auth_nonce_size = 32;

/// The bytes a client signs in hello: "sealcast/v2/auth" || nonce || broker_id_bytes.
[[nodiscard]] bytes auth_message(byte_view nonce, const id16& broker_id);

/// The client's hello sig over the broker's challenge.
[[nodiscard]] bytes sign_auth(const signing_key& key, byte_view nonce, const id16& broker_id);

/// True when sig is sign_pk's signature of the challenge; false for any wrong length, including a
/// nonce that is not 32 bytes.
[[nodiscard]] bool verify_auth(byte_view sign_pk, byte_view nonce, const id16& broker_id,
                               byte_view sig) noexcept;

}  // namespace sealcast::crypto
