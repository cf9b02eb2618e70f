#pragma once

#include <vector>

#include "protocol/detail/frame_readers.hpp"
#include "protocol/detail/json_writer.hpp"
#include "protocol/results.hpp"
#include "protocol/server_frames.hpp"

// Writers for broker frames that also appear nested inside ok replies (keys, fetch, manifests).

namespace sealcast::protocol::detail {

/// Writes a complete `key` frame object.
void write_frame(json_writer& w, const server::key& f);
/// Writes a complete `message` frame object.
void write_frame(json_writer& w, const server::message& f);
/// Writes one manifests entry object.
void write_manifest_entry(json_writer& w, const manifest_entry& e);
/// Writes a [{"action","user",...},...] array; sign_pk and kx_sig only in a rekey_request.
void write_changes(json_writer& w, const std::vector<change>& changes, change_context where);

}  // namespace sealcast::protocol::detail
