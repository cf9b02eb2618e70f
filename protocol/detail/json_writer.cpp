#include "protocol/detail/json_writer.hpp"

#include <charconv>

namespace sealcast::protocol::detail {

namespace {

constexpr char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char hex_digits[] = "0123456789abcdef";

bool needs_escape(unsigned char c) noexcept { return c < 0x20 || c == '"' || c == '\\'; }

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  std::size_t run = 0;  // start of the pending unescaped run
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (!needs_escape(c)) continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default: {
        const char esc[6] = {'\\', 'u', '0', '0', hex_digits[c >> 4], hex_digits[c & 0xf]};
        out.append(esc, sizeof esc);
      }
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

void append_base64(std::string& out, byte_view v) {
  const std::size_t start = out.size();
  out.resize(start + (v.size() + 2) / 3 * 4);
  char* p = out.data() + start;
  std::size_t i = 0;
  for (; i + 3 <= v.size(); i += 3) {
    const std::uint32_t n = (std::uint32_t{v[i]} << 16) | (std::uint32_t{v[i + 1]} << 8) | v[i + 2];
    *p++ = b64_alphabet[(n >> 18) & 63];
    *p++ = b64_alphabet[(n >> 12) & 63];
    *p++ = b64_alphabet[(n >> 6) & 63];
    *p++ = b64_alphabet[n & 63];
  }
  const std::size_t rest = v.size() - i;
  if (rest == 0) return;
  std::uint32_t n = std::uint32_t{v[i]} << 16;
  if (rest == 2) n |= std::uint32_t{v[i + 1]} << 8;
  *p++ = b64_alphabet[(n >> 18) & 63];
  *p++ = b64_alphabet[(n >> 12) & 63];
  *p++ = rest == 2 ? b64_alphabet[(n >> 6) & 63] : '=';
  *p = '=';
}

void append_u64(std::string& out, std::uint64_t v) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}

json_writer& json_writer::begin_object() {
  separate();
  out_ += '{';
  comma_ = false;
  return *this;
}

json_writer& json_writer::end_object() {
  out_ += '}';
  comma_ = true;
  return *this;
}

json_writer& json_writer::begin_array() {
  separate();
  out_ += '[';
  comma_ = false;
  return *this;
}

json_writer& json_writer::end_array() {
  out_ += ']';
  comma_ = true;
  return *this;
}

json_writer& json_writer::key(std::string_view k) {
  separate();
  out_ += '"';
  out_ += k;
  out_ += "\":";
  comma_ = false;
  return *this;
}

json_writer& json_writer::str(std::string_view v) {
  separate();
  append_json_string(out_, v);
  comma_ = true;
  return *this;
}

json_writer& json_writer::num(std::uint64_t v) {
  separate();
  append_u64(out_, v);
  comma_ = true;
  return *this;
}

json_writer& json_writer::boolean(bool v) {
  separate();
  out_ += v ? "true" : "false";
  comma_ = true;
  return *this;
}

json_writer& json_writer::id(const id16& v) {
  separate();
  const std::size_t start = out_.size();
  out_.resize(start + 34);
  char* p = out_.data() + start;
  *p++ = '"';
  for (std::uint8_t b : v.b) {
    *p++ = hex_digits[b >> 4];
    *p++ = hex_digits[b & 0xf];
  }
  *p = '"';
  comma_ = true;
  return *this;
}

json_writer& json_writer::b64(byte_view v) {
  separate();
  out_ += '"';
  append_base64(out_, v);
  out_ += '"';
  comma_ = true;
  return *this;
}

json_writer& json_writer::raw(std::string_view json) {
  separate();
  out_ += json;
  comma_ = true;
  return *this;
}

}  // namespace sealcast::protocol::detail
