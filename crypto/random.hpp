#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/bytes.hpp"
#include "crypto/secret.hpp"

namespace sealcast::crypto {

/// Fills a buffer from the operating system's CSPRNG; safe from any thread. If the kernel
/// cannot supply randomness the process terminates: carrying on would mint predictable keys.
void fill_random(std::span<std::uint8_t> out) noexcept;

/// n random bytes for public values (nonces, challenges).
[[nodiscard]] bytes random_bytes(std::size_t n);

/// A random 16-byte identifier (message, group ids).
[[nodiscard]] id16 random_id();

/// n random bytes for secret values, in a wiped container.
[[nodiscard]] secure_bytes random_secret(std::size_t n);

/// A random fixed-size secret of any kind (group_key, sign_seed, kx_secret, aead_key).
template <class Secret>
[[nodiscard]] Secret random_fixed_secret() {
  Secret s;
  fill_random(std::span<std::uint8_t>(s.data(), Secret::size()));
  return s;
}

}  // namespace sealcast::crypto
