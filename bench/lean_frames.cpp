#include "bench/lean_frames.hpp"

#include <cstdint>
#include <limits>

#include "protocol/types.hpp"

namespace sealcast::bench {

namespace {

/// A cursor over the frame; every read either consumes what it expects or reports false.
struct cursor {
  const char* p;
  const char* end;

  bool lit(std::string_view s) noexcept {
    if (static_cast<std::size_t>(end - p) < s.size() || std::string_view(p, s.size()) != s) return false;
    p += s.size();
    return true;
  }

  /// A JSON integer as the writer spells it ("0" or [1-9][0-9]*), at most `max`; the next
  /// character must end the value (',' or '}'), so fractions and exponents are left to the
  /// generic parser.
  bool num(std::uint64_t& out, std::uint64_t max) noexcept {
    if (p == end || *p < '0' || *p > '9') return false;
    if (*p == '0') {
      ++p;
      out = 0;
    } else {
      std::uint64_t v = 0;
      while (p != end && *p >= '0' && *p <= '9') {
        const auto d = static_cast<std::uint64_t>(*p - '0');
        if (v > (std::numeric_limits<std::uint64_t>::max() - d) / 10) return false;
        v = v * 10 + d;
        ++p;
      }
      out = v;
    }
    return out <= max && p != end && (*p == ',' || *p == '}');
  }

  /// 32 lowercase hex characters followed by '"'.
  bool id(id16& out) noexcept {
    if (end - p < 33 || p[32] != '"') return false;
    for (std::size_t i = 0; i < 16; ++i) {
      int v[2];
      for (int k = 0; k < 2; ++k) {
        const char c = p[2 * i + k];
        if (c >= '0' && c <= '9')
          v[k] = c - '0';
        else if (c >= 'a' && c <= 'f')
          v[k] = c - 'a' + 10;
        else
          return false;
      }
      out.b[i] = static_cast<std::uint8_t>((v[0] << 4) | v[1]);
    }
    p += 33;
    return true;
  }

  /// The characters up to the next '"' (consumed); false when there is none or the string has
  /// escapes or control characters (left to the generic parser).
  bool plain_string(std::string_view& out) noexcept {
    const char* q = p;
    while (q != end && *q != '"') {
      const auto c = static_cast<unsigned char>(*q);
      if (c == '\\' || c < 0x20 || c >= 0x80) return false;
      ++q;
    }
    if (q == end) return false;
    out = std::string_view(p, static_cast<std::size_t>(q - p));
    p = q + 1;
    return true;
  }
};

constexpr std::int8_t b64_table_entry(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return static_cast<std::int8_t>(c - 'A');
  if (c >= 'a' && c <= 'z') return static_cast<std::int8_t>(c - 'a' + 26);
  if (c >= '0' && c <= '9') return static_cast<std::int8_t>(c - '0' + 52);
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

struct b64_table {
  std::int8_t v[256];
  constexpr b64_table() : v{} {
    for (int c = 0; c < 256; ++c) v[c] = b64_table_entry(static_cast<char>(c));
  }
};
constexpr b64_table b64{};

/// Canonical padded base64, as common/bytes.cpp's from_base64 accepts it, into `out` (whose
/// capacity is reused); written to `n` bytes of `fixed` instead when fixed is not null.
bool decode_b64(std::string_view s, std::uint8_t* out, std::size_t cap, std::size_t& n) noexcept {
  if (s.size() % 4 != 0) return false;
  n = 0;
  const auto* c = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t len = s.size();
  for (std::size_t i = 0; i < len; i += 4) {
    const bool last = i + 4 == len;
    int pad = 0;
    if (last && c[i + 3] == '=') pad = c[i + 2] == '=' ? 2 : 1;
    const int a = b64.v[c[i]], b = b64.v[c[i + 1]];
    const int d2 = pad == 2 ? 0 : b64.v[c[i + 2]];
    const int d3 = pad >= 1 ? 0 : b64.v[c[i + 3]];
    if ((a | b | d2 | d3) < 0) return false;
    if ((pad == 1 && (d2 & 0x3)) || (pad == 2 && (b & 0xf))) return false;
    const std::uint32_t v = (std::uint32_t(a) << 18) | (std::uint32_t(b) << 12) | (std::uint32_t(d2) << 6) |
                            std::uint32_t(d3);
    const std::size_t bytes_here = 3 - static_cast<std::size_t>(pad);
    if (n + bytes_here > cap) return false;
    out[n] = static_cast<std::uint8_t>(v >> 16);
    if (bytes_here > 1) out[n + 1] = static_cast<std::uint8_t>(v >> 8);
    if (bytes_here > 2) out[n + 2] = static_cast<std::uint8_t>(v);
    n += bytes_here;
  }
  return true;
}

/// Into a byte vector, reusing its capacity.
bool decode_b64(std::string_view s, bytes& out) {
  const std::size_t max = s.size() / 4 * 3;
  if (out.size() < max) out.resize(max);
  std::size_t n = 0;
  if (!decode_b64(s, out.data(), out.size(), n)) return false;
  out.resize(n);
  return true;
}

bool b64_field(cursor& c, std::string_view key, bytes& out) {
  std::string_view s;
  return c.lit(key) && c.plain_string(s) && decode_b64(s, out);
}

/// One message frame from its '{' on, in write_server.cpp's key order.
bool read_message(cursor& c, protocol::server::message& m) {
  std::uint64_t n = 0;
  std::string_view s;
  if (!c.lit(R"({"type":"message","group":")") || !c.id(m.group)) return false;
  if (!c.lit(R"(,"seq":)") || !c.num(m.seq, std::numeric_limits<std::uint64_t>::max())) return false;
  if (!c.lit(R"(,"id":")") || !c.id(m.id)) return false;
  if (!c.lit(R"(,"sender":")") || !c.id(m.sender)) return false;
  if (!c.lit(R"(,"epoch":)") || !c.num(m.epoch, std::numeric_limits<std::uint64_t>::max())) return false;
  if (!c.lit(R"(,"index":)") || !c.num(n, std::numeric_limits<std::uint32_t>::max())) return false;
  m.index = static_cast<std::uint32_t>(n);
  if (!c.lit(R"(,"alg":")") || !c.plain_string(s)) return false;
  const auto alg = protocol::parse_aead_alg(s);
  if (!alg) return false;
  m.alg = *alg;
  if (!b64_field(c, R"(,"nonce":")", m.nonce) || m.nonce.size() != protocol::nonce_size(m.alg)) return false;
  if (!b64_field(c, R"(,"ct":")", m.ct) || m.ct.size() < protocol::min_ct_size) return false;
  if (!c.lit(R"(,"sig":")") || !c.plain_string(s)) return false;
  std::size_t sig_n = 0;
  if (!decode_b64(s, m.sig.data(), m.sig.size(), sig_n) || sig_n != m.sig.size()) return false;
  if (!c.lit(R"(,"ts":)") || !c.num(m.ts, std::numeric_limits<std::uint64_t>::max())) return false;
  return c.lit("}");
}

}  // namespace

std::optional<std::size_t> parse_message_frames_lean(std::string_view text,
                                                     std::vector<protocol::server::message>& out) {
  cursor c{text.data(), text.data() + text.size()};
  auto slot = [&](std::size_t i) -> protocol::server::message& {
    if (out.size() <= i) out.resize(i + 1);
    return out[i];
  };
  if (!c.lit(R"({"type":"batch","items":[)")) {
    if (!read_message(c, slot(0)) || c.p != c.end) return std::nullopt;
    return 1;
  }
  std::size_t n = 0;
  if (!c.lit("]")) {
    for (;;) {
      if (!read_message(c, slot(n))) return std::nullopt;
      ++n;
      if (c.lit("]")) break;
      if (!c.lit(",")) return std::nullopt;
    }
  }
  if (!c.lit("}") || c.p != c.end) return std::nullopt;
  return n;
}

}  // namespace sealcast::bench
