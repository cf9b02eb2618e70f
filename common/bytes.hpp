#pragma once

#include <algorithm>
#include <array>
#include <compare>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace sealcast {

/// Plain (non-secret) byte strings.
using bytes = std::vector<std::uint8_t>;
using byte_view = std::span<const std::uint8_t>;

/// A 16-byte identifier (user, group, message, key, broker): lowercase hex on the wire.
struct id16 {
  std::array<std::uint8_t, 16> b{};

  [[nodiscard]] std::string hex() const;
  [[nodiscard]] byte_view view() const noexcept { return {b.data(), b.size()}; }
  [[nodiscard]] bool is_zero() const noexcept;
  /// Parses exactly 32 lowercase or uppercase hex characters.
  [[nodiscard]] static result<id16> from_hex(std::string_view s);
  /// Takes exactly 16 bytes.
  [[nodiscard]] static result<id16> from_bytes(byte_view v);

  friend auto operator<=>(const id16&, const id16&) = default;
  friend bool operator==(const id16&, const id16&) = default;
};

/// Hash support so ids can key unordered containers.
struct id16_hash {
  std::size_t operator()(const id16& id) const noexcept;
};

/// Lowercase hex of any bytes.
[[nodiscard]] std::string to_hex(byte_view v);
/// Decodes hex (either case, even length); bad_encoding otherwise.
[[nodiscard]] result<bytes> from_hex(std::string_view s);

/// Standard base64 with padding (RFC 4648 section 4).
[[nodiscard]] std::string to_base64(byte_view v);
/// Strict decode: standard alphabet, padding required, no whitespace; bad_encoding otherwise.
[[nodiscard]] result<bytes> from_base64(std::string_view s);

/// Appends a value big-endian (u64be / u32be of PROTOCOL.md).
void put_u64be(bytes& out, std::uint64_t v);
void put_u32be(bytes& out, std::uint32_t v);
[[nodiscard]] std::uint64_t get_u64be(const std::uint8_t* p) noexcept;
[[nodiscard]] std::uint32_t get_u32be(const std::uint8_t* p) noexcept;

/// Appends raw bytes or ASCII labels.
void append(bytes& out, byte_view v);

/// The N bytes of `v` as a fixed-size array (a key, signature or wrapped key for a frame); all
/// zeros when `v` is not exactly N bytes long, which the receiver then refuses.
template <std::size_t N>
[[nodiscard]] std::array<std::uint8_t, N> to_array(byte_view v) {
  std::array<std::uint8_t, N> a{};
  if (v.size() == N) std::copy(v.begin(), v.end(), a.begin());
  return a;
}
void append(bytes& out, std::string_view s);

/// Views a string's bytes without copying.
[[nodiscard]] inline byte_view as_bytes(std::string_view s) noexcept {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace sealcast
