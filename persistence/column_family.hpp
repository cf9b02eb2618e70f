#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sealcast::persistence {

/// The column families of the database. The values index the open handles and the names are
/// what RocksDB persists: never reorder, rename or reuse; new families are only appended.
enum class column_family : std::uint8_t {
  default_family = 0,  ///< RocksDB's own; unused by Sealcast but always present
  users = 1,
  groups = 2,
  members = 3,
  epochs = 4,
  wrapped_keys = 5,
  messages = 6,
  message_ids = 7,
  directs = 8,
  events = 9,
  meta = 10,
  user_groups = 11,  ///< appended after meta: the user -> groups index
  message_outcomes = 12,  ///< settled messages' final status, keyed by settle time (bounded history)
  delivery_failures = 13,  ///< recipients whose delivery of a stored message ran out of attempts
};

/// How many column families this version knows.
inline constexpr std::size_t column_family_count = 14;

/// The persisted RocksDB name of each family, indexed by its enum value.
inline constexpr std::array<std::string_view, column_family_count> column_family_names = {
    "default", "users",   "groups", "members", "epochs", "wrapped_keys",
    "messages", "message_ids", "directs", "events", "meta", "user_groups", "message_outcomes",
    "delivery_failures",
};

/// The persisted name of a family.
[[nodiscard]] constexpr std::string_view name_of(column_family cf) noexcept {
  return column_family_names[static_cast<std::size_t>(cf)];
}

/// The handle index of a family.
[[nodiscard]] constexpr std::size_t index_of(column_family cf) noexcept {
  return static_cast<std::size_t>(cf);
}

}  // namespace sealcast::persistence
