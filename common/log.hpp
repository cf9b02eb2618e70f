#pragma once

// Structured, levelled logging to stderr, one write per line, safe from any thread.
//
//   log::info("gateway", "connection opened", {{"peer", peer}, {"user", user_id}, {"fd", fd}});
//
// Text:  2026-11-23T06:40:01.123Z info  gateway: connection opened peer=127.0.0.1:5555 user=u1
// JSON:  {"ts":"2026-11-23T06:40:01.123Z","level":"info","component":"gateway",
//         "msg":"connection opened","peer":"127.0.0.1:5555","user":"u1"}
//
// This header is included widely, so it stays light: no <format> or <sstream>, no
// <functional>, no <mutex>.

#include <atomic>
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace sealcast::log {

/// Severity, least severe first.
enum class level : std::uint8_t { trace, debug, info, warn, error };

/// Line format.
enum class format : std::uint8_t { text, json };

/// One key/value pair of a log line. It holds views: what they point at must live until the
/// logging call returns, which temporaries in the call expression do.
class field {
 public:
  /// What a field holds.
  enum class kind : std::uint8_t { text, signed_int, unsigned_int, boolean, real };

  /// A text value (string, string_view or C string; nullptr is written as "(null)").
  field(std::string_view key, std::string_view value) noexcept : key_(key), text_(value) {}
  field(std::string_view key, const std::string& value) noexcept : key_(key), text_(value) {}
  field(std::string_view key, const char* value) noexcept
      : key_(key), text_(value != nullptr ? std::string_view{value} : std::string_view{"(null)"}) {}
  /// A boolean, written true/false.
  field(std::string_view key, bool value) noexcept : key_(key), kind_(kind::boolean), b_(value) {}
  /// A real number; NaN and infinities are written as null.
  field(std::string_view key, double value) noexcept : key_(key), kind_(kind::real), d_(value) {}
  /// A signed integer (char excluded: pass text or a cast).
  template <std::signed_integral T>
  requires(!std::same_as<T, char>) field(std::string_view key, T value)
  noexcept : key_(key), kind_(kind::signed_int), i_(static_cast<std::int64_t>(value)) {}
  /// An unsigned integer.
  template <std::unsigned_integral T>
  requires(!std::same_as<T, bool> && !std::same_as<T, char>) field(std::string_view key, T value)
  noexcept : key_(key), kind_(kind::unsigned_int), u_(static_cast<std::uint64_t>(value)) {}

  /// The field's name.
  [[nodiscard]] std::string_view key() const noexcept { return key_; }
  /// Which of the accessors below holds the value.
  [[nodiscard]] kind type() const noexcept { return kind_; }
  [[nodiscard]] std::string_view text() const noexcept { return text_; }
  [[nodiscard]] std::int64_t signed_value() const noexcept { return i_; }
  [[nodiscard]] std::uint64_t unsigned_value() const noexcept { return u_; }
  [[nodiscard]] bool bool_value() const noexcept { return b_; }
  [[nodiscard]] double real_value() const noexcept { return d_; }

 private:
  std::string_view key_;
  kind kind_ = kind::text;
  std::string_view text_;
  std::int64_t i_ = 0;
  std::uint64_t u_ = 0;
  bool b_ = false;
  double d_ = 0;
};

/// Fields of one line, written in order after the message.
using fields = std::initializer_list<field>;

/// Receives each finished line, '\n' included. Called under the logger's lock, so one call at
/// a time; it must not log.
using sink_fn = void (*)(void* context, std::string_view line);

namespace detail {
extern std::atomic<std::uint8_t> min_level;
}  // namespace detail

/// Sets the least severe level written and the line format. Defaults: info, text.
void configure(level min_level, format fmt) noexcept;

/// Sends lines to `sink` instead of stderr; nullptr restores stderr.
void set_sink(sink_fn sink, void* context) noexcept;

/// "trace", "debug", "info", "warn", "error" (as in [log] level) to a level.
[[nodiscard]] std::optional<level> parse_level(std::string_view name) noexcept;

/// "text" or "json" to a format.
[[nodiscard]] std::optional<format> parse_format(std::string_view name) noexcept;

/// The name of a level, as parse_level reads it.
[[nodiscard]] std::string_view to_string(level l) noexcept;

/// True when lines at `l` are written: check before building expensive fields.
[[nodiscard]] inline bool enabled(level l) noexcept {
  return static_cast<std::uint8_t>(l) >= detail::min_level.load(std::memory_order_relaxed);
}

/// Formats one line (with its '\n') in `fmt`, stamped with the current time.
[[nodiscard]] std::string format_line(format fmt, level l, std::string_view component,
                                      std::string_view message, fields kv);

/// Writes one line at `l` if that level is enabled.
void write(level l, std::string_view component, std::string_view message, fields kv = {});

/// Writes at trace level.
inline void trace(std::string_view component, std::string_view message, fields kv = {}) {
  if (enabled(level::trace)) write(level::trace, component, message, kv);
}
/// Writes at debug level.
inline void debug(std::string_view component, std::string_view message, fields kv = {}) {
  if (enabled(level::debug)) write(level::debug, component, message, kv);
}
/// Writes at info level.
inline void info(std::string_view component, std::string_view message, fields kv = {}) {
  if (enabled(level::info)) write(level::info, component, message, kv);
}
/// Writes at warn level.
inline void warn(std::string_view component, std::string_view message, fields kv = {}) {
  if (enabled(level::warn)) write(level::warn, component, message, kv);
}
/// Writes at error level.
inline void error(std::string_view component, std::string_view message, fields kv = {}) {
  if (enabled(level::error)) write(level::error, component, message, kv);
}

}  // namespace sealcast::log
