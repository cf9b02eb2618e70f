#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/bytes.hpp"

// The one place where Sealcast JSON text is produced. A direct writer rather than building a
// boost::json::value first: the broker serializes every delivery, and this is several times
// faster while producing the same text (compact, no spaces, keys in the order written).

namespace sealcast::protocol::detail {

/// Appends `s` as a quoted JSON string, escaping '"', '\\' and control characters.
void append_json_string(std::string& out, std::string_view s);
/// Appends standard padded base64 of `v` (no quotes).
void append_base64(std::string& out, byte_view v);
/// Appends the decimal digits of `v`.
void append_u64(std::string& out, std::uint64_t v);

/// Writes one compact JSON document; commas are placed automatically.
class json_writer {
 public:
  /// Starts an empty document with `reserve` bytes preallocated.
  explicit json_writer(std::size_t reserve = 256) { out_.reserve(reserve); }

  /// Opens an object (as a value, or after key()).
  json_writer& begin_object();
  /// Closes the innermost object.
  json_writer& end_object();
  /// Opens an array (as a value, or after key()).
  json_writer& begin_array();
  /// Closes the innermost array.
  json_writer& end_array();
  /// Writes a member name; `k` must need no escaping (field names, hex ids).
  json_writer& key(std::string_view k);

  /// Writes a string value (escaped).
  json_writer& str(std::string_view v);
  /// Writes an unsigned integer value.
  json_writer& num(std::uint64_t v);
  /// Writes true or false.
  json_writer& boolean(bool v);
  /// Writes an id as a string of 32 lowercase hex characters.
  json_writer& id(const id16& v);
  /// Writes bytes as a base64 string.
  json_writer& b64(byte_view v);
  /// Splices already-serialized JSON text as one value.
  json_writer& raw(std::string_view json);

  /// key(k).str(v)
  json_writer& str(std::string_view k, std::string_view v) { return key(k).str(v); }
  /// key(k).num(v)
  json_writer& num(std::string_view k, std::uint64_t v) { return key(k).num(v); }
  /// key(k).boolean(v)
  json_writer& boolean(std::string_view k, bool v) { return key(k).boolean(v); }
  /// key(k).id(v)
  json_writer& id(std::string_view k, const id16& v) { return key(k).id(v); }
  /// key(k).b64(v)
  json_writer& b64(std::string_view k, byte_view v) { return key(k).b64(v); }
  /// key(k).raw(json)
  json_writer& raw(std::string_view k, std::string_view json) { return key(k).raw(json); }

  /// The text written so far.
  [[nodiscard]] const std::string& text() const noexcept { return out_; }
  /// Moves the finished text out.
  [[nodiscard]] std::string take() && { return std::move(out_); }

 private:
  void separate() {
    if (comma_) out_ += ',';
  }

  std::string out_;
  bool comma_ = false;  // a value was written at this level, so the next one needs a comma
};

}  // namespace sealcast::protocol::detail
