#pragma once

#include <vector>

#include "protocol/detail/json_reader.hpp"
#include "protocol/server_frames.hpp"

// Readers for broker frames that also appear nested inside ok replies (keys, fetch).

namespace sealcast::protocol::detail {

/// Reads the fields of a `key` frame.
[[nodiscard]] server::key read_key(reader& r);
/// Reads the fields of a `message` frame.
[[nodiscard]] server::message read_message(reader& r);
/// Reads a [{"user","kx_pk","role"},...] array.
[[nodiscard]] std::vector<manifest_member> read_members(reader& r, std::string_view k);

}  // namespace sealcast::protocol::detail
