#pragma once

#include "protocol/detail/json_writer.hpp"
#include "protocol/server_frames.hpp"

// Writers for broker frames that also appear nested inside ok replies (keys, fetch).

namespace sealcast::protocol::detail {

/// Writes a complete `key` frame object.
void write_frame(json_writer& w, const server::key& f);
/// Writes a complete `message` frame object.
void write_frame(json_writer& w, const server::message& f);
/// Writes a [{"user","kx_pk","role"},...] array.
void write_members(json_writer& w, const std::vector<manifest_member>& members);

}  // namespace sealcast::protocol::detail
