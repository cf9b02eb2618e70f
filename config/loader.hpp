#pragma once

// Private to config/: the steps behind load_config, apply_override and validate, which share
// a record of where each key was set so that every error can name its file and line.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "config/schema.hpp"

namespace sealcast::config_detail {

/// Where a key got its value: a file and line, or a --set override.
struct origin {
  std::string source{};    ///< file name; empty for a key left at its default
  std::uint32_t line = 0;  ///< 1-based; 0 when unknown
  bool from_set = false;   ///< set by --set
  std::string set_key{};   ///< from_set: the key that --set named
};

/// Origins by "section.key"; keys at their defaults are absent.
using origin_map = std::map<std::string, origin, std::less<>>;

/// "FILE:LINE: key 'k' <problem>", "--set k: <problem>" (or "--set j: key 'k' <problem>" when
/// the --set named another key), or "key 'k' <problem>" without an origin.
[[nodiscard]] std::string key_error(const origin& where, std::string_view key,
                                    std::string_view problem);

/// " (did you mean 'x'?)" or "".
[[nodiscard]] std::string did_you_mean(std::string_view word,
                                       std::span<const std::string_view> candidates);

/// Reads TOML text into cfg, recording origins; every error found, one per line, by line.
[[nodiscard]] status parse_into(config& cfg, std::string_view text, std::string_view source,
                                origin_map& origins);

/// Reads the file at `path` into cfg, recording origins.
[[nodiscard]] status load_file_into(config& cfg, std::string_view path, origin_map& origins);

/// Applies one `section.key=value`, recording its origin.
[[nodiscard]] status override_into(config& cfg, std::string_view assignment, origin_map& origins);

/// The rules that span keys, blaming the key whose origin is known.
[[nodiscard]] status check_rules(const config& cfg, const origin_map& origins);

}  // namespace sealcast::config_detail
