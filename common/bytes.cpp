#include "common/bytes.hpp"

#include <algorithm>
#include <cstring>

namespace sealcast {

namespace {

constexpr char hex_digits[] = "0123456789abcdef";
constexpr char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int b64_value(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

std::string id16::hex() const { return to_hex(view()); }

bool id16::is_zero() const noexcept {
  return std::all_of(b.begin(), b.end(), [](std::uint8_t x) { return x == 0; });
}

result<id16> id16::from_hex(std::string_view s) {
  if (s.size() != 32) return error{errc::bad_request, "an id is 32 hex characters"};
  auto raw = sealcast::from_hex(s);
  if (!raw) return error{errc::bad_request, "an id is 32 hex characters"};
  return from_bytes(*raw);
}

result<id16> id16::from_bytes(byte_view v) {
  if (v.size() != 16) return error{errc::bad_length, "an id is 16 bytes"};
  id16 id;
  std::memcpy(id.b.data(), v.data(), 16);
  return id;
}

std::size_t id16_hash::operator()(const id16& id) const noexcept {
  // Ids are random or hash outputs, so any 8 of their bytes are a good hash.
  std::uint64_t h;
  std::memcpy(&h, id.b.data(), sizeof h);
  return static_cast<std::size_t>(h);
}

std::string to_hex(byte_view v) {
  std::string out(v.size() * 2, '\0');
  for (std::size_t i = 0; i < v.size(); ++i) {
    out[2 * i] = hex_digits[v[i] >> 4];
    out[2 * i + 1] = hex_digits[v[i] & 0x0f];
  }
  return out;
}

result<bytes> from_hex(std::string_view s) {
  if (s.size() % 2 != 0) return error{errc::bad_encoding, "hex has an odd length"};
  bytes out(s.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    int hi = hex_value(s[2 * i]);
    int lo = hex_value(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return error{errc::bad_encoding, "not a hex digit"};
    out[i] = static_cast<std::uint8_t>((hi << 4) | lo);
  }
  return out;
}

std::string to_base64(byte_view v) {
  std::string out;
  out.reserve((v.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= v.size(); i += 3) {
    std::uint32_t n = (std::uint32_t{v[i]} << 16) | (std::uint32_t{v[i + 1]} << 8) | v[i + 2];
    out += b64_alphabet[(n >> 18) & 63];
    out += b64_alphabet[(n >> 12) & 63];
    out += b64_alphabet[(n >> 6) & 63];
    out += b64_alphabet[n & 63];
  }
  std::size_t rest = v.size() - i;
  if (rest == 1) {
    std::uint32_t n = std::uint32_t{v[i]} << 16;
    out += b64_alphabet[(n >> 18) & 63];
    out += b64_alphabet[(n >> 12) & 63];
    out += "==";
  } else if (rest == 2) {
    std::uint32_t n = (std::uint32_t{v[i]} << 16) | (std::uint32_t{v[i + 1]} << 8);
    out += b64_alphabet[(n >> 18) & 63];
    out += b64_alphabet[(n >> 12) & 63];
    out += b64_alphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

result<bytes> from_base64(std::string_view s) {
  if (s.size() % 4 != 0) return error{errc::bad_encoding, "base64 length is not a multiple of 4"};
  bytes out;
  out.reserve(s.size() / 4 * 3);
  for (std::size_t i = 0; i < s.size(); i += 4) {
    const bool last = i + 4 == s.size();
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s[i + k];
      if (c == '=' && last && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad > 0) return error{errc::bad_encoding, "base64 padding in the middle"};
      v[k] = b64_value(c);
      if (v[k] < 0) return error{errc::bad_encoding, "not a base64 character"};
    }
    std::uint32_t n = (std::uint32_t(v[0]) << 18) | (std::uint32_t(v[1]) << 12) |
                      (std::uint32_t(v[2]) << 6) | std::uint32_t(v[3]);
    out.push_back(static_cast<std::uint8_t>(n >> 16));
    if (pad < 2) out.push_back(static_cast<std::uint8_t>(n >> 8));
    if (pad < 1) out.push_back(static_cast<std::uint8_t>(n));
    // Canonical encoding only: the bits dropped by padding must be zero.
    if ((pad == 1 && (v[2] & 0x3)) || (pad == 2 && (v[1] & 0xf)))
      return error{errc::bad_encoding, "non-canonical base64"};
  }
  return out;
}

void put_u64be(bytes& out, std::uint64_t v) {
  for (int s = 56; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}

void put_u32be(bytes& out, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}

std::uint64_t get_u64be(const std::uint8_t* p) noexcept {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

std::uint32_t get_u32be(const std::uint8_t* p) noexcept {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | p[i];
  return v;
}

void append(bytes& out, byte_view v) { out.insert(out.end(), v.begin(), v.end()); }

void append(bytes& out, std::string_view s) {
  auto b = as_bytes(s);
  out.insert(out.end(), b.begin(), b.end());
}

}  // namespace sealcast
