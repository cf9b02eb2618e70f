#pragma once

// Turns admin API answers (JSON) into aligned, human-readable text. Field lookups are tolerant:
// a list may come bare or wrapped in an object, and unknown fields are shown as they are.

#include <string>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>

namespace sealcast::ctl {

/// Rows of cells printed in aligned columns under a header line.
class table {
 public:
  explicit table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  [[nodiscard]] bool empty() const { return rows_.empty(); }
  /// The table, one line per row, columns separated by two spaces; trailing blanks trimmed.
  [[nodiscard]] std::string str() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

/// A scalar as text ("-" for null or absent); objects and arrays as compact JSON.
[[nodiscard]] std::string text(const boost::json::value* v);
/// An event or message timestamp (seconds or milliseconds since the epoch, or a string) as
/// "YYYY-MM-DD HH:MM:SS[.mmm]Z".
[[nodiscard]] std::string when(const boost::json::value* ts);

/// Any object as "key  value" lines; nested objects as indented sections, arrays of objects as
/// tables. Used for stats, one group, one message and the rotate answer.
[[nodiscard]] std::string render_object(const boost::json::value& v);
/// GET /admin/groups.
[[nodiscard]] std::string render_groups(const boost::json::value& v);
/// GET /admin/users/{id}/groups.
[[nodiscard]] std::string render_user_groups(const boost::json::value& v);
/// GET /admin/events.
[[nodiscard]] std::string render_events(const boost::json::value& v);
/// One event on one line, for --follow.
[[nodiscard]] std::string event_line(const boost::json::value& event);

}  // namespace sealcast::ctl
