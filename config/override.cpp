// `--set section.key=value`: the value is read per the key's type, then checked exactly like a
// value from a file.
#include <toml++/toml.h>

#include <charconv>
#include <optional>
#include <vector>

#include "config/loader.hpp"

namespace sealcast::config_detail {
namespace {

std::string_view trim(std::string_view s) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Whether `s` is well-formed UTF-8 (no overlong forms, surrogates or code points past
// U+10FFFF), as every value in a TOML file is.
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xbf;  // the range of the second byte
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      if (c == 0xe0) lo = 0xa0;  // overlong
      if (c == 0xed) hi = 0x9f;  // surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      if (c == 0xf0) lo = 0x90;  // overlong
      if (c == 0xf4) hi = 0x8f;  // past U+10FFFF
    } else {
      return false;
    }
    if (s.size() - i < len) return false;
    const auto second = static_cast<unsigned char>(s[i + 1]);
    if (second < lo || second > hi) return false;
    for (std::size_t k = 2; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
    i += len;
  }
  return true;
}

// A TOML value literal ("quoted string", [array]) parsed on its own, or nothing.
std::optional<toml::table> parse_literal(std::string_view literal) {
  try {
    return toml::parse("v = " + std::string{literal});
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// The value, or why it is not of the key's type.
std::pair<config_value, std::string> read_value(const key_spec& key, std::string_view raw) {
  // A value taken verbatim must still be one a file could hold: describe() and to_toml() write
  // it back as TOML, and the logs as JSON.
  if (!valid_utf8(raw)) return {config_value{}, "must be valid UTF-8, as in a configuration file"};
  auto text = trim(raw);
  auto wrong = [&](std::string_view expected) {
    return std::pair<config_value, std::string>{
        config_value{}, "must be " + std::string{expected} + ", got '" + std::string{raw} + "'"};
  };
  switch (key.kind) {
    case value_kind::integer: {
      std::int64_t n = 0;
      auto digits = text;
      if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
      if (digits.empty() || end != digits.data() + digits.size()) return wrong("an integer");
      if (ec == std::errc::result_out_of_range) return wrong("an integer of at most 64 bits");
      return {config_value{n}, {}};
    }
    case value_kind::boolean:
      if (text == "true") return {config_value{true}, {}};
      if (text == "false") return {config_value{false}, {}};
      return wrong("true or false");
    case value_kind::string:
      // A quoted value is a TOML string (escapes allowed); anything else is taken verbatim.
      if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
        auto table = parse_literal(text);
        if (!table || !(*table)["v"].is_string()) return wrong("a valid TOML string");
        return {config_value{(*table)["v"].as_string()->get()}, {}};
      }
      return {config_value{std::string{raw}}, {}};
    case value_kind::string_list: {
      std::vector<std::string> items;
      if (!text.empty() && text.front() == '[') {
        auto table = parse_literal(text);
        const auto* arr = table ? (*table)["v"].as_array() : nullptr;
        if (arr == nullptr) return wrong("an array of strings");
        for (const auto& item : *arr) {
          if (!item.is_string()) return wrong("an array of strings");
          items.push_back(item.as_string()->get());
        }
        return {config_value{std::move(items)}, {}};
      }
      // Comma-separated; an empty value is an empty list.
      while (!text.empty()) {
        auto comma = text.find(',');
        auto item = trim(text.substr(0, comma));
        if (item.empty()) return wrong("a comma-separated list without empty items");
        items.emplace_back(item);
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
        if (trim(text).empty()) return wrong("a comma-separated list without empty items");
      }
      return {config_value{std::move(items)}, {}};
    }
  }
  return wrong("a value");
}

error set_error(std::string_view subject, std::string_view problem) {
  return error{errc::config_error, "--set " + std::string{subject} + ": " + std::string{problem}};
}

}  // namespace

status override_into(config& cfg, std::string_view assignment, origin_map& origins) {
  auto eq = assignment.find('=');
  auto name = trim(assignment.substr(0, eq));
  auto dot = name.find('.');
  if (eq == std::string_view::npos || dot == std::string_view::npos || dot == 0 ||
      dot + 1 == name.size()) {
    return set_error(assignment, "expected section.key=value");
  }
  auto section = name.substr(0, dot);
  auto key_name = name.substr(dot + 1);
  if (!is_section(section)) {
    std::vector<std::string_view> sections;
    for (const auto& s : config_sections()) sections.push_back(s.name);
    return set_error(
        name, "unknown section '" + std::string{section} + "'" + did_you_mean(section, sections));
  }
  const auto* key = find_key(section, key_name);
  if (key == nullptr) {
    std::vector<std::string_view> keys;
    for (const auto& k : config_schema()) {
      if (k.section == section) keys.push_back(k.name);
    }
    return set_error(name, "unknown key" + did_you_mean(key_name, keys));
  }
  auto [value, wrong_type] = read_value(*key, assignment.substr(eq + 1));
  if (!wrong_type.empty()) return set_error(name, wrong_type);
  if (auto problem = check_value(*key, value); !problem.empty()) return set_error(name, problem);
  key->set(cfg, value);
  origins[key->full_name()] =
      origin{.source = "--set", .from_set = true, .set_key = key->full_name()};
  return {};
}

}  // namespace sealcast::config_detail

namespace sealcast {

status apply_override(config& cfg, std::string_view assignment) {
  config_detail::origin_map origins;
  return config_detail::override_into(cfg, assignment, origins);
}

}  // namespace sealcast
