#pragma once

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <optional>
#include <string_view>

#include "common/error.hpp"
#include "protocol/types.hpp"

// A strict JSON parse of one frame into an arena. Private to protocol/.

namespace sealcast::protocol::detail {

/// Deepest nesting of arrays and objects accepted in any frame.
inline constexpr std::size_t max_json_depth = 32;

/// One parsed JSON text. The arena's first block lives inside the object (so on the caller's
/// stack); larger frames spill to the heap. Non-copyable: the value points into the arena.
class document {
 public:
  document() = default;
  document(const document&) = delete;
  document& operator=(const document&) = delete;

  /// Parses standard JSON (no comments, no trailing commas, valid UTF-8, nothing after the
  /// value), nesting at most max_json_depth, no duplicate keys in any object.
  [[nodiscard]] status parse(std::string_view text);
  /// The parsed value (null before a successful parse).
  [[nodiscard]] const boost::json::value& root() const noexcept { return root_; }
  /// The exact source text of the top-level object's "rid" when it is a number, else empty.
  /// Points into the parsed text.
  [[nodiscard]] std::string_view rid_number_text() const noexcept { return rid_number_; }

 private:
  alignas(std::max_align_t) unsigned char arena_[4096];
  boost::json::monotonic_resource mr_{arena_, sizeof arena_};
  boost::json::value root_ = boost::json::value(boost::json::storage_ptr(&mr_));
  std::string_view rid_number_;
};

/// Cuts user-supplied text for an error message to at most 64 bytes on a UTF-8 boundary.
[[nodiscard]] std::string_view clip(std::string_view s) noexcept;

/// The request id in `v` (a JSON string or number; `number_text` is its source text when it is
/// a number and known); nullopt for other kinds.
[[nodiscard]] std::optional<request_id> read_rid(const boost::json::value& v, std::string_view number_text);

}  // namespace sealcast::protocol::detail
