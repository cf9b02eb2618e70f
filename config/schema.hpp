#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config/config.hpp"

// The configuration schema: one row per key. Parsing, --set, validation, did-you-mean
// suggestions and the sample file all read this table, so a key is added in exactly one place
// (plus its member in config.hpp, whose initializer is the default).

namespace sealcast {

/// The TOML type of a key's value.
enum class value_kind : std::uint8_t { integer, boolean, string, string_list };

/// A key's value in schema form; the alternative index equals value_kind.
using config_value = std::variant<std::int64_t, bool, std::string, std::vector<std::string>>;

/// One configuration key and everything needed to parse, check and document it.
struct key_spec {
  std::string_view section;                     ///< e.g. "pubsub"
  std::string_view name;                        ///< e.g. "max_message_ttl"
  value_kind kind = value_kind::integer;        ///< TOML type
  std::string_view doc;                         ///< one line for the sample file
  std::int64_t min = 0;                         ///< integers: smallest accepted
  std::int64_t max = 0;                         ///< integers: largest accepted
  std::span<const std::string_view> allowed{};  ///< strings and lists: accepted values; empty = any
  bool listen = false;                          ///< strings: must be HOST:PORT
  bool non_empty = false;                       ///< strings and lists: must not be empty
  bool hosts = false;                           ///< lists: each item HOST or HOST:PORT
  std::span<const std::string_view> schemes{};  ///< strings and lists: each value SCHEME://HOST:PORT[/path]
  bool identifier = false;                      ///< strings: letters, digits, '-' and '_', at most 64
  config_value (*get)(const config&) = nullptr;         ///< reads the key from a config
  void (*set)(config&, const config_value&) = nullptr;  ///< writes an already checked value

  /// "section.name".
  [[nodiscard]] std::string full_name() const;
};

/// One configuration section and its one-line description.
struct section_spec {
  std::string_view name;  ///< e.g. "pubsub"
  std::string_view doc;   ///< one line for the sample file
};

/// Every section, in sample-file order.
[[nodiscard]] std::span<const section_spec> config_sections() noexcept;

/// Every key, grouped by section in sample-file order.
[[nodiscard]] std::span<const key_spec> config_schema() noexcept;

/// The key `section.name`, or nullptr.
[[nodiscard]] const key_spec* find_key(std::string_view section, std::string_view name) noexcept;

/// True when `name` is a section of the schema.
[[nodiscard]] bool is_section(std::string_view name) noexcept;

/// Algorithm names accepted in [encryption].
[[nodiscard]] std::span<const std::string_view> algorithm_names() noexcept;

/// Event type names accepted in events.persist.
[[nodiscard]] std::span<const std::string_view> event_type_names() noexcept;

/// Why `value` is not acceptable for `key` ("must be between 1 and 64, got 0"), or "" when it
/// is. The value must already be of the key's kind.
[[nodiscard]] std::string check_value(const key_spec& key, const config_value& value);

/// The value written as TOML ("./data", 300, true, ["a", "b"]).
[[nodiscard]] std::string to_toml(const config_value& value);

/// The documented sample file: every key with its default and a one-line comment.
[[nodiscard]] std::string sample_toml();

/// The candidate closest to `word` by edit distance, or "" when none is close enough.
[[nodiscard]] std::string_view closest_match(std::string_view word,
                                             std::span<const std::string_view> candidates);

}  // namespace sealcast
