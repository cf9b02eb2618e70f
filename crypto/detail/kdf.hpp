#pragma once
// Private to crypto/*.cpp: HKDF over inputs given in parts, so labelled inputs (HPKE's
// "HPKE-v1" || suite_id || label || ikm) are fed to HMAC directly and secrets are never copied
// into an unwiped concatenation buffer.

#include <cstdint>
#include <initializer_list>
#include <span>

#include "common/bytes.hpp"

namespace sealcast::crypto::detail {

using byte_parts = std::initializer_list<byte_view>;

/// HKDF-SHA256-Extract with the input keying material given as parts.
void hkdf_extract(std::span<std::uint8_t, 32> prk, byte_view salt, byte_parts ikm);

/// HKDF-SHA256-Expand with info given as parts; out.size() must be at most 255 * 32.
void hkdf_expand(std::span<std::uint8_t> out, byte_view prk, byte_parts info);

/// HMAC-SHA256(key, data parts) (RFC 2104), for the sender ratchet's steps.
void hmac_sha256(std::span<std::uint8_t, 32> out, byte_view key, byte_parts data);

}  // namespace sealcast::crypto::detail
