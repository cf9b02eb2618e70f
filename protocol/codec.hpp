#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "protocol/client_frames.hpp"
#include "protocol/results.hpp"
#include "protocol/server_frames.hpp"
#include "protocol/types.hpp"

// The Sealcast wire codec: the only code that reads or writes frame JSON. Parsing is strict
// (standard JSON, nesting <= 32, no duplicate keys, exact field types, checked base64, ids and
// lengths) and answers bad_request with a message that names the field; unknown fields are
// ignored. Serialization writes compact JSON with PROTOCOL.md's field names, lowercase hex ids,
// padded base64 and integers as numbers. Nothing here throws.
//
// Reading rules beyond PROTOCOL.md, applied to every frame:
// - an optional field that is null counts as absent; a required one that is null is an error;
// - integers are JSON integers in [0, 2^64), `index` in [0, 2^32): "1", 1.0, 1e2, -1 and 1.5
//   are refused;
// - a change carries kx_pk exactly for add and join, role exactly for add, join and role, and a
//   key frame or manifest entry carries issuer_pk exactly in client custody (see `change`);
// - ids are exactly 32 lowercase hex characters; base64 is canonical, padded, without spaces;
// - rid is required on every request except hello, ack and ack_direct, and must be a JSON
//   string or number (numbers are echoed with their exact source text); a frame without a
//   usable rid is answered with an error that has no rid;
// - duplicate keys in any object are malformed JSON.

namespace sealcast::protocol {

// ---- parsing -----------------------------------------------------------------------------

/// Parses one client frame. Failures are bad_request (malformed JSON, not an object, missing or
/// mistyped field, bad base64, wrong length, missing rid) or unknown_type, and carry the rid
/// whenever it was readable.
[[nodiscard]] frame_result<client_frame> parse_client_frame(std::string_view text);

/// Parses one broker frame; a `batch` is refused (use parse_server_frames).
[[nodiscard]] result<server_frame> parse_server_frame(std::string_view text);
/// Parses one WebSocket message from the broker: a single frame, or a batch unpacked in order.
[[nodiscard]] result<std::vector<server_frame>> parse_server_frames(std::string_view text);

/// Reads an ok reply's fields as the result of a known request. Defined for empty_result,
/// create_group_result, epoch_result, group_info_result, list_groups_result, presence_result,
/// list_users_result, user_keys_result, keys_result, manifests_result, publish_result,
/// fetch_result and direct_result.
template <class T>
[[nodiscard]] result<T> parse_ok_result(const server::ok& reply);
/// @cond explicit instantiations, defined in parse_results.cpp
extern template result<empty_result> parse_ok_result<empty_result>(const server::ok&);
extern template result<create_group_result> parse_ok_result<create_group_result>(const server::ok&);
extern template result<epoch_result> parse_ok_result<epoch_result>(const server::ok&);
extern template result<group_info_result> parse_ok_result<group_info_result>(const server::ok&);
extern template result<list_groups_result> parse_ok_result<list_groups_result>(const server::ok&);
extern template result<presence_result> parse_ok_result<presence_result>(const server::ok&);
extern template result<list_users_result> parse_ok_result<list_users_result>(const server::ok&);
extern template result<user_keys_result> parse_ok_result<user_keys_result>(const server::ok&);
extern template result<keys_result> parse_ok_result<keys_result>(const server::ok&);
extern template result<manifests_result> parse_ok_result<manifests_result>(const server::ok&);
extern template result<publish_result> parse_ok_result<publish_result>(const server::ok&);
extern template result<fetch_result> parse_ok_result<fetch_result>(const server::ok&);
extern template result<direct_result> parse_ok_result<direct_result>(const server::ok&);
/// @endcond

// ---- client frames -----------------------------------------------------------------------

/// Serializes a client frame, e.g. {"type":"publish","rid":1,"group":"..",...}.
/// @{
[[nodiscard]] std::string to_json(const client::hello& f);
[[nodiscard]] std::string to_json(const client::create_group& f);
[[nodiscard]] std::string to_json(const client::join& f);
[[nodiscard]] std::string to_json(const client::leave& f);
[[nodiscard]] std::string to_json(const client::add_member& f);
[[nodiscard]] std::string to_json(const client::remove_member& f);
[[nodiscard]] std::string to_json(const client::set_role& f);
[[nodiscard]] std::string to_json(const client::group_info& f);
[[nodiscard]] std::string to_json(const client::list_groups& f);
[[nodiscard]] std::string to_json(const client::presence& f);
[[nodiscard]] std::string to_json(const client::list_users& f);
[[nodiscard]] std::string to_json(const client::user_keys& f);
[[nodiscard]] std::string to_json(const client::keys& f);
[[nodiscard]] std::string to_json(const client::manifests& f);
[[nodiscard]] std::string to_json(const client::publish& f);
[[nodiscard]] std::string to_json(const client::ack& f);
[[nodiscard]] std::string to_json(const client::fetch& f);
[[nodiscard]] std::string to_json(const client::direct& f);
[[nodiscard]] std::string to_json(const client::ack_direct& f);
[[nodiscard]] std::string to_json(const client::rekey& f);
/// @}
/// Serializes whichever client frame `f` holds.
[[nodiscard]] std::string to_json(const client_frame& f);

// ---- broker frames -----------------------------------------------------------------------

/// Serializes a broker frame, e.g. {"type":"message","group":"..","seq":1,...}.
/// @{
[[nodiscard]] std::string to_json(const server::challenge& f);
[[nodiscard]] std::string to_json(const server::welcome& f);
[[nodiscard]] std::string to_json(const server::ok& f);
[[nodiscard]] std::string to_json(const server::error& f);
[[nodiscard]] std::string to_json(const server::key& f);
[[nodiscard]] std::string to_json(const server::message& f);
[[nodiscard]] std::string to_json(const server::direct& f);
[[nodiscard]] std::string to_json(const server::member& f);
[[nodiscard]] std::string to_json(const server::presence& f);
[[nodiscard]] std::string to_json(const server::rekey_request& f);
/// @}
/// The part of an epoch's key frames that every member shares, serialized once: the whole frame
/// up to the opening quote of `wrapped`, which comes last (f.wrapped is not used).
[[nodiscard]] std::string key_frame_prefix(const server::key& f);
/// One member's key frame from key_frame_prefix(): prefix + base64(wrapped) + `"}`. Equal to
/// to_json() of the frame with that `wrapped`.
[[nodiscard]] std::string finish_key_frame(std::string_view prefix, const wrapped_key& wrapped);
/// Serializes whichever broker frame `f` holds.
[[nodiscard]] std::string to_json(const server_frame& f);
/// Serializes a batch: {"type":"batch","items":[...]}.
[[nodiscard]] std::string to_json(const server::batch& f);

/// Builds {"type":"batch","items":[a,b,...]} from already-serialized frames, by concatenation:
/// the items are not parsed again, so each must be one JSON object produced by this codec.
[[nodiscard]] std::string make_batch(std::span<const std::string_view> items);
/// make_batch over owned strings.
[[nodiscard]] std::string make_batch(std::span<const std::string> items);

/// The error reply for a frame that did not parse: {"type":"error","rid":..,"code":..,"message":..}.
[[nodiscard]] std::string to_json(const frame_error& e);

// ---- ok replies --------------------------------------------------------------------------

/// {"type":"ok","rid":<rid>} plus the request's result fields.
/// @{
[[nodiscard]] std::string make_ok(const request_id& rid, const empty_result& r = {});
[[nodiscard]] std::string make_ok(const request_id& rid, const create_group_result& r);
[[nodiscard]] std::string make_ok(const request_id& rid, const epoch_result& r);
[[nodiscard]] std::string make_ok(const request_id& rid, const group_info_result& r);
[[nodiscard]] std::string make_ok(const request_id& rid, const list_groups_result& r);
[[nodiscard]] std::string make_ok(const request_id& rid, const presence_result& r);
[[nodiscard]] std::string make_ok(const request_id& rid, const list_users_result& r);
[[nodiscard]] std::string make_ok(const request_id& rid, const user_keys_result& r);
[[nodiscard]] std::string make_ok(const request_id& rid, const keys_result& r);
[[nodiscard]] std::string make_ok(const request_id& rid, const manifests_result& r);
[[nodiscard]] std::string make_ok(const request_id& rid, const publish_result& r);
[[nodiscard]] std::string make_ok(const request_id& rid, const fetch_result& r);
[[nodiscard]] std::string make_ok(const request_id& rid, const direct_result& r);
/// @}
/// The keys reply from already-serialized key frames (as to_json(server::key) wrote them).
[[nodiscard]] std::string make_keys_ok(const request_id& rid, std::span<const std::string_view> key_frames,
                                      std::optional<std::uint64_t> next = std::nullopt);
/// One manifests entry as a JSON object ({"epoch":..,...,"changes":[..]}), for the broker to
/// serialize each epoch once and splice cached entries with make_manifests_ok().
[[nodiscard]] std::string to_json(const manifest_entry& e);
/// The manifests reply from already-serialized entries (as to_json(manifest_entry) wrote them);
/// `next` is written as null when absent.
[[nodiscard]] std::string make_manifests_ok(const request_id& rid, std::span<const std::string_view> entries,
                                            std::optional<std::uint64_t> next);
/// The fetch reply from already-serialized message frames (as to_json(server::message) wrote them).
[[nodiscard]] std::string make_fetch_ok(const request_id& rid, std::span<const std::string_view> message_frames,
                                       std::optional<std::uint64_t> next = std::nullopt);

}  // namespace sealcast::protocol
