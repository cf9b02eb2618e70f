#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>

#include "common/bytes.hpp"

namespace sealcast::crypto {

/// A SHA-256 digest.
using digest32 = std::array<std::uint8_t, 32>;

/// SHA-256 of one byte string.
[[nodiscard]] digest32 sha256(byte_view data);

/// SHA-256 of the concatenation of parts, without building the concatenation (so secret parts
/// are never copied into an unwiped buffer).
[[nodiscard]] digest32 sha256(std::initializer_list<byte_view> parts);

}  // namespace sealcast::crypto
