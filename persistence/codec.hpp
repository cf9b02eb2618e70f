#pragma once

#include <cstdint>

#include "common/bytes.hpp"
#include "common/error.hpp"
#include "persistence/records.hpp"

/// Value encodings of every column family: a leading format byte, then fixed-width big-endian
/// integers, raw fixed-size arrays, and u32be-length-prefixed variable fields, in declaration
/// order. Fields that are part of the key (ids, seqs) are not repeated in the value: decode fills
/// only the value's fields and the store fills the rest from the key. Every decoder rejects bad
/// input (wrong format byte, truncation, trailing bytes, out-of-range enums, oversized lengths)
/// with errc::bad_format and never reads past its input.
namespace sealcast::persistence::codec {

/// The only value format this version writes and reads.
inline constexpr std::uint8_t format_v1 = 1;

[[nodiscard]] bytes encode(const user_record& r);
[[nodiscard]] bytes encode(const group_record& r);
[[nodiscard]] bytes encode(const member_record& r);
[[nodiscard]] bytes encode(const epoch_record& r);
[[nodiscard]] bytes encode(const message_record& r);
[[nodiscard]] bytes encode(const message_locator& r);
[[nodiscard]] bytes encode(const direct_record& r);
[[nodiscard]] bytes encode(const message_outcome& r);
[[nodiscard]] bytes encode(const delivery_failure& r);
[[nodiscard]] bytes encode(const event_record& r);
/// A user_groups value: the role.
[[nodiscard]] bytes encode_user_group(member_role role);
/// A wrapped_keys value.
[[nodiscard]] bytes encode_wrapped_key(const wrapped_key& blob);

/// Fills the value fields of `out` (not id: that is the key).
[[nodiscard]] status decode(byte_view value, user_record& out);
/// Fills the value fields of `out` (not id).
[[nodiscard]] status decode(byte_view value, group_record& out);
/// Fills the value fields of `out` (not group, user).
[[nodiscard]] status decode(byte_view value, member_record& out);
/// Fills the value fields of `out` (not group, epoch).
[[nodiscard]] status decode(byte_view value, epoch_record& out);
/// Fills the value fields of `out` (not group, seq).
[[nodiscard]] status decode(byte_view value, message_record& out);
/// Fills all of `out`.
[[nodiscard]] status decode(byte_view value, message_locator& out);
/// Fills the value fields of `out` (not settled_ms, id).
[[nodiscard]] status decode(byte_view value, message_outcome& out);
/// Fills the value fields of `out` (not seq, user: the key; the group is the key's prefix).
[[nodiscard]] status decode(byte_view value, delivery_failure& out);
/// Fills the value fields of `out` (not recipient, seq).
[[nodiscard]] status decode(byte_view value, direct_record& out);
/// Fills the value fields of `out` (not seq).
[[nodiscard]] status decode(byte_view value, event_record& out);
/// Decodes a user_groups value.
[[nodiscard]] result<member_role> decode_user_group(byte_view value);
/// Decodes a wrapped_keys value.
[[nodiscard]] result<wrapped_key> decode_wrapped_key(byte_view value);

}  // namespace sealcast::persistence::codec
