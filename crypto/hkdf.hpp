#pragma once

#include <cstddef>

#include "common/bytes.hpp"
#include "common/error.hpp"
#include "crypto/secret.hpp"

namespace sealcast::crypto {

/// Output size of HMAC-SHA256, and so of an HKDF-SHA256 pseudorandom key.
inline constexpr std::size_t hkdf_hash_size = 32;
/// RFC 5869's limit on expand output: 255 blocks.
inline constexpr std::size_t hkdf_max_length = 255 * hkdf_hash_size;

/// HKDF-SHA256-Extract(salt, ikm) (RFC 5869 section 2.2); an empty salt means HashLen zeros.
[[nodiscard]] secure_bytes hkdf_extract(byte_view salt, byte_view ikm);

/// HKDF-SHA256-Expand(prk, info, length); bad_length when length exceeds 255 * 32 or the PRK is
/// shorter than a hash.
[[nodiscard]] result<secure_bytes> hkdf_expand(byte_view prk, byte_view info, std::size_t length);

/// Extract then expand: the full HKDF-SHA256.
[[nodiscard]] result<secure_bytes> hkdf(byte_view ikm, byte_view salt, byte_view info,
                                        std::size_t length);

}  // namespace sealcast::crypto
