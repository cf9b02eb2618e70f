#include "protocol/detail/json_document.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_stack.hpp>
#include <cmath>
#include <exception>
#include <new>
#include <string>

namespace sealcast::protocol::detail {

namespace json = boost::json;

namespace {

// boost::json::parser's handler, plus what the stock parser cannot tell us: how many members
// each object had before duplicate keys were merged, and the source text of the top-level rid.
struct frame_handler {
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  json::value_stack st;
  std::size_t members = 0;  // object members as written, duplicates included
  std::size_t depth = 0;
  bool key_is_rid = false;  // the last top-level key was "rid"
  bool key_split = false;   // the key being read came in parts (it had escapes)
  std::string_view rid_number;

  frame_handler(json::storage_ptr sp, unsigned char* temp, std::size_t size) : st(std::move(sp), temp, size) {}

  void number(std::string_view text) {
    if (depth == 1 && key_is_rid) rid_number = text;
  }

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) {
    ++depth;
    return true;
  }
  bool on_object_end(std::size_t n, json::error_code&) {
    --depth;
    members += n;
    st.push_object(n);
    return true;
  }
  bool on_array_begin(json::error_code&) {
    ++depth;
    return true;
  }
  bool on_array_end(std::size_t n, json::error_code&) {
    --depth;
    st.push_array(n);
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    key_split = true;
    st.push_chars(s);
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code&) {
    if (depth == 1) key_is_rid = !key_split && s == "rid";
    key_split = false;
    st.push_key(s);
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t, json::error_code&) {
    st.push_string(s);
    return true;
  }
  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t i, json::string_view text, json::error_code&) {
    number(text);
    st.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, json::string_view text, json::error_code&) {
    number(text);
    st.push_uint64(u);
    return true;
  }
  bool on_double(double d, json::string_view text, json::error_code& ec) {
    // Boost.JSON reads a number beyond the range of a double (-5E30030323) as an infinity, which
    // has no JSON spelling: kept, it would be written back as "-Infinity" (ok fields, batch rids).
    if (!std::isfinite(d)) {
      ec = json::error::exponent_overflow;
      return false;
    }
    number(text);
    st.push_double(d);
    return true;
  }
  bool on_bool(bool b, json::error_code&) {
    st.push_bool(b);
    return true;
  }
  bool on_null(json::error_code&) {
    st.push_null();
    return true;
  }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }
};

std::size_t count_members(const json::value& v) {
  if (const auto* o = v.if_object()) {
    std::size_t n = o->size();
    for (const auto& kv : *o) n += count_members(kv.value());
    return n;
  }
  if (const auto* a = v.if_array()) {
    std::size_t n = 0;
    for (const auto& e : *a) n += count_members(e);
    return n;
  }
  return 0;
}

std::string problem_text(const json::error_code& ec) {
  if (ec == json::error::too_deep) return "nesting deeper than " + std::to_string(max_json_depth) + " levels";
  if (ec == json::error::exponent_overflow) return "number out of range";
  return ec.message();
}

}  // namespace

status document::parse(std::string_view text) {
  json::parse_options opt;
  opt.max_depth = max_json_depth;
  unsigned char temp[1024];
  try {
    json::basic_parser<frame_handler> p(opt, json::storage_ptr(&mr_), temp, sizeof temp);
    p.handler().st.reset(json::storage_ptr(&mr_));
    json::error_code ec;
    const std::size_t used = p.write_some(false, text.data(), text.size(), ec);
    if (!ec && used < text.size()) ec = json::error::extra_data;
    if (ec) return error{errc::bad_request, "malformed JSON: " + problem_text(ec)};
    root_ = p.handler().st.release();
    if (count_members(root_) != p.handler().members)
      return error{errc::bad_request, "malformed JSON: duplicate key in an object"};
    rid_number_ = p.handler().rid_number;
  } catch (const std::bad_alloc&) {
    return error{errc::internal, "out of memory parsing a frame"};
  } catch (const std::exception& e) {
    return error{errc::bad_request, std::string("malformed JSON: ") + e.what()};
  }
  return {};
}

std::string_view clip(std::string_view s) noexcept {
  if (s.size() <= 64) return s;
  std::size_t n = 64;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xc0) == 0x80) --n;
  return s.substr(0, n);
}

std::optional<request_id> read_rid(const json::value& v, std::string_view number_text) {
  if (const auto* s = v.if_string()) return request_id::from_string(std::string_view(s->data(), s->size()));
  if (!v.is_number()) return std::nullopt;
  if (!number_text.empty()) return request_id::from_json_unchecked(std::string(number_text));
  return request_id::from_json_unchecked(json::serialize(v));
}

}  // namespace sealcast::protocol::detail
