#pragma once

#include <string_view>
#include <vector>

#include "protocol/detail/json_reader.hpp"
#include "protocol/results.hpp"
#include "protocol/server_frames.hpp"

// Readers for broker frames that also appear nested inside ok replies (keys, fetch, manifests).

namespace sealcast::protocol::detail {

/// Where a change array is read: only a rekey_request's changes carry the subject's sign_pk and
/// kx_sig.
enum class change_context : std::uint8_t { manifest, rekey_request };

/// Reads the fields of a `key` frame.
[[nodiscard]] server::key read_key(reader& r);
/// Reads the fields of a `message` frame.
[[nodiscard]] server::message read_message(reader& r);
/// Reads one entry of a manifests reply.
[[nodiscard]] manifest_entry read_manifest_entry(reader& r);
/// Reads a [{"action","user",...},...] array, holding each change to its shape (see `change`).
[[nodiscard]] std::vector<change> read_changes(reader& r, std::string_view k, change_context where);

}  // namespace sealcast::protocol::detail
