// The line's body (level, component, message, fields; escaped and truncated) is ours, as are the
// level filter (the inline check in log.hpp) and the test sink; spdlog stamps the time from its
// per-second cache, applies the format's pattern, and serializes the writes through its sink.

#include "common/log.hpp"

#include <spdlog/details/log_msg.h>
#include <spdlog/logger.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <memory>
#include <mutex>

namespace sealcast::log {
namespace detail {
std::atomic<std::uint8_t> min_level{static_cast<std::uint8_t>(level::info)};
}  // namespace detail

namespace {

// Messages and values can carry peer-supplied text; a line never grows without bound.
constexpr std::size_t max_value_bytes = 2048;
constexpr std::string_view truncated_mark = "...(truncated)";

std::atomic<format> current_format{format::text};

constexpr char hex_digits[] = "0123456789abcdef";

void append_timestamp(std::string& out) {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  std::tm tm{};
  gmtime_r(&ts.tv_sec, &tm);
  char buf[32];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                        static_cast<int>(ts.tv_nsec / 1000000));
  out.append(buf, static_cast<std::size_t>(n > 0 ? n : 0));
}

// Length of the valid UTF-8 sequence at s[i], or 0 if the bytes there are not one.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  std::size_t len = c < 0x80           ? 1
                    : (c >> 5) == 0x6  ? 2
                    : (c >> 4) == 0xe  ? 3
                    : (c >> 3) == 0x1e ? 4
                                       : 0;
  if (len == 0 || i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
  }
  // Reject overlong forms, surrogates and code points past U+10FFFF.
  if (len == 2 && c < 0xc2) return 0;
  if (len == 3 && ((c == 0xe0 && byte(i + 1) < 0xa0) || (c == 0xed && byte(i + 1) >= 0xa0)))
    return 0;
  if (len == 4 &&
      ((c == 0xf0 && byte(i + 1) < 0x90) || c > 0xf4 || (c == 0xf4 && byte(i + 1) >= 0x90))) {
    return 0;
  }
  return len;
}

// JSON string body (no quotes): RFC 8259 escapes; invalid UTF-8 becomes U+FFFD.
void append_json_escaped(std::string& out, std::string_view s) {
  bool cut = s.size() > max_value_bytes;
  if (cut) s = s.substr(0, max_value_bytes);
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        out += "\\\"";
        ++i;
        continue;
      case '\\':
        out += "\\\\";
        ++i;
        continue;
      case '\n':
        out += "\\n";
        ++i;
        continue;
      case '\r':
        out += "\\r";
        ++i;
        continue;
      case '\t':
        out += "\\t";
        ++i;
        continue;
      case '\b':
        out += "\\b";
        ++i;
        continue;
      case '\f':
        out += "\\f";
        ++i;
        continue;
      default:
        break;
    }
    if (c < 0x20 || c == 0x7f) {
      out += "\\u00";
      out += hex_digits[c >> 4];
      out += hex_digits[c & 0xf];
      ++i;
      continue;
    }
    auto len = utf8_length(s, i);
    if (len == 0) {
      // A sequence cut by the truncation above is dropped quietly rather than replaced.
      if (!(cut && s.size() - i < 4 && c >= 0xc0)) out += "\\ufffd";
      ++i;
      continue;
    }
    out.append(s.substr(i, len));
    i += len;
  }
  if (cut) out += truncated_mark;
}

// Text values: control characters escaped so that a record stays on one line; quoted when
// empty or when they contain a space, a quote, a backslash or '='.
void append_text(std::string& out, std::string_view s, bool quote_if_needed) {
  bool cut = s.size() > max_value_bytes;
  if (cut) s = s.substr(0, max_value_bytes);
  bool quote =
      quote_if_needed && (s.empty() || s.find_first_of(" \"\\=\t\n\r") != std::string_view::npos);
  if (quote) out += '"';
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (ch == '\n') {
      out += "\\n";
    } else if (ch == '\r') {
      out += "\\r";
    } else if (ch == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += hex_digits[c >> 4];
      out += hex_digits[c & 0xf];
    } else if (quote && (ch == '"' || ch == '\\')) {
      out += '\\';
      out += ch;
    } else {
      out += ch;
    }
  }
  if (cut) out += truncated_mark;
  if (quote) out += '"';
}

// The value of a non-text field, as JSON and text both spell it.
std::string_view number_text(const field& f, char (&buf)[40]) {
  std::to_chars_result r{buf, std::errc{}};
  switch (f.type()) {
    case field::kind::signed_int:
      r = std::to_chars(buf, buf + sizeof buf, f.signed_value());
      break;
    case field::kind::unsigned_int:
      r = std::to_chars(buf, buf + sizeof buf, f.unsigned_value());
      break;
    case field::kind::boolean:
      return f.bool_value() ? "true" : "false";
    case field::kind::real: {
      double d = f.real_value();
      if (!std::isfinite(d)) return "null";  // NaN and infinities are not JSON numbers
      r = std::to_chars(buf, buf + sizeof buf, d);
      break;
    }
    case field::kind::text:
      return f.text();
  }
  return {buf, static_cast<std::size_t>(r.ptr - buf)};
}

void write_stderr(std::string_view line) {
  while (!line.empty()) {
    auto n = ::write(STDERR_FILENO, line.data(), line.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // nowhere left to report a failing stderr
    }
    line.remove_prefix(static_cast<std::size_t>(n));
  }
}

// What goes before the body, by format: the time and, for JSON, the object's opening. The JSON
// body ends the object.
constexpr const char* text_pattern = "%Y-%m-%dT%H:%M:%S.%eZ %v";
constexpr const char* json_pattern = R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ",%v)";

/// The one sink: stderr with a write(2) per line (no stdio buffer between a line and a crash),
/// or the function of set_sink. spdlog calls sink_it_ under the sink's mutex, one line at a time.
class line_sink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  void set_target(sink_fn fn, void* context) {
    std::lock_guard lock{mutex_};
    fn_ = fn;
    context_ = context;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    const std::string_view view{line.data(), line.size()};
    if (fn_ != nullptr) {
      fn_(context_, view);
    } else {
      write_stderr(view);
    }
  }
  void flush_() override {}

 private:
  sink_fn fn_ = nullptr;  // guarded by mutex_; nullptr = stderr
  void* context_ = nullptr;
};

struct writer {
  std::shared_ptr<line_sink> sink = std::make_shared<line_sink>();
  spdlog::logger logger{"sealcast", sink};

  writer() {
    logger.set_level(spdlog::level::trace);  // filtered before it gets here
    set_format(format::text);
  }
  void set_format(format fmt) {
    sink->set_formatter(std::make_unique<spdlog::pattern_formatter>(fmt == format::json ? json_pattern : text_pattern,
                                                                    spdlog::pattern_time_type::utc));
  }
};

// Never destroyed: a line logged from another static's destructor still has somewhere to go.
writer& the_writer() {
  static auto* w = new writer();
  return *w;
}

spdlog::level::level_enum to_spdlog(level l) noexcept {
  switch (l) {
    case level::trace:
      return spdlog::level::trace;
    case level::debug:
      return spdlog::level::debug;
    case level::info:
      return spdlog::level::info;
    case level::warn:
      return spdlog::level::warn;
    case level::error:
      return spdlog::level::err;
  }
  return spdlog::level::err;
}

// The line after the time: "info  gateway: msg k=v" or "\"level\":\"info\",...,\"msg\":\"msg\",\"k\":\"v\"}".
void append_body(std::string& out, format fmt, level l, std::string_view component, std::string_view message,
                 fields kv) {
  char buf[40];
  if (fmt == format::json) {
    out += "\"level\":\"";
    out += to_string(l);
    out += "\",\"component\":\"";
    append_json_escaped(out, component);
    out += "\",\"msg\":\"";
    append_json_escaped(out, message);
    out += '"';
    for (const auto& f : kv) {
      out += ",\"";
      append_json_escaped(out, f.key());
      out += "\":";
      if (f.type() == field::kind::text) {
        out += '"';
        append_json_escaped(out, f.text());
        out += '"';
      } else {
        out += number_text(f, buf);
      }
    }
    out += '}';
    return;
  }
  auto name = to_string(l);
  out += name;
  out.append(6 - name.size(), ' ');  // "info  gateway": levels padded to one width
  append_text(out, component, false);
  out += ": ";
  append_text(out, message, false);
  for (const auto& f : kv) {
    out += ' ';
    append_text(out, f.key(), false);
    out += '=';
    if (f.type() == field::kind::text) {
      append_text(out, f.text(), true);
    } else {
      out += number_text(f, buf);
    }
  }
}

}  // namespace

void configure(level min_level, format fmt) noexcept {
  detail::min_level.store(static_cast<std::uint8_t>(min_level), std::memory_order_relaxed);
  // The body and the pattern change together: a line in flight may still get the old pattern.
  if (current_format.exchange(fmt, std::memory_order_relaxed) != fmt) the_writer().set_format(fmt);
}

void set_sink(sink_fn sink, void* context) noexcept { the_writer().sink->set_target(sink, context); }

std::optional<level> parse_level(std::string_view name) noexcept {
  for (auto l : {level::trace, level::debug, level::info, level::warn, level::error}) {
    if (to_string(l) == name) return l;
  }
  return std::nullopt;
}

std::optional<format> parse_format(std::string_view name) noexcept {
  if (name == "text") return format::text;
  if (name == "json") return format::json;
  return std::nullopt;
}

std::string_view to_string(level l) noexcept {
  switch (l) {
    case level::trace:
      return "trace";
    case level::debug:
      return "debug";
    case level::info:
      return "info";
    case level::warn:
      return "warn";
    case level::error:
      return "error";
  }
  return "?";
}

std::string format_line(format fmt, level l, std::string_view component, std::string_view message,
                        fields kv) {
  std::string out;
  out.reserve(96 + message.size());
  if (fmt == format::json) {
    out += "{\"ts\":\"";
    append_timestamp(out);
    out += "\",";
  } else {
    append_timestamp(out);
    out += ' ';
  }
  append_body(out, fmt, l, component, message, kv);
  out += '\n';
  return out;
}

void write(level l, std::string_view component, std::string_view message, fields kv) {
  if (!enabled(l)) return;
  std::string body;
  body.reserve(80 + message.size());
  append_body(body, current_format.load(std::memory_order_relaxed), l, component, message, kv);
  the_writer().logger.log(to_spdlog(l), spdlog::string_view_t{body.data(), body.size()});
}

}  // namespace sealcast::log
