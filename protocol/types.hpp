#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "common/bytes.hpp"
#include "common/error.hpp"
#include "common/types.hpp"

// Value types shared by every Sealcast wire frame (PROTOCOL.md sections 1 to 8). Enum values that
// PROTOCOL.md numbers (alg_id, manifest role byte) carry those numbers; the others match
// persistence/records.hpp so the broker can map between them one to one.

namespace sealcast::protocol {

// The shared value types (common/types.hpp).
using sealcast::aead_alg;
using sealcast::change_action;
using sealcast::group_policy;
using sealcast::hash32;
using sealcast::key32;
using sealcast::key_custody;
using sealcast::member_role;
using sealcast::sig64;
using sealcast::wrapped_key;

/// The protocol version carried by `challenge`.
inline constexpr std::uint64_t protocol_version = 2;
/// Smallest AEAD ciphertext: the 16-byte tag of an empty plaintext.
inline constexpr std::size_t min_ct_size = 16;
/// Smallest HPKE `sealed` blob of a direct message: enc(32) || tag(16).
inline constexpr std::size_t min_sealed_size = 48;
/// The `limit` of a `manifests` request when it has none, and the largest one accepted.
inline constexpr std::uint64_t default_manifests_limit = 64;
inline constexpr std::uint64_t max_manifests_limit = 256;
/// Page sizes of list_groups and list_users (docs/protocol.md, appendix).
inline constexpr std::uint64_t max_list_groups_limit = 100;
inline constexpr std::uint64_t max_list_users_limit = 1000;
/// Groups listed in `welcome`; a user in more is told `more_after`.
inline constexpr std::size_t max_welcome_groups = 1000;

/// What happened to a member in a `member` push.
enum class member_action : std::uint8_t { joined = 1, left = 2, removed = 3 };

/// The wire spelling of an algorithm ("aes-256-gcm", ...).
[[nodiscard]] std::string_view to_string(aead_alg v) noexcept;
/// The wire spelling of a role ("owner", "admin", "member").
[[nodiscard]] std::string_view to_string(member_role v) noexcept;
/// The wire spelling of a policy ("invite", "open").
[[nodiscard]] std::string_view to_string(group_policy v) noexcept;
/// The wire spelling of a custody ("broker", "client").
[[nodiscard]] std::string_view to_string(key_custody v) noexcept;
/// The wire spelling of a member action ("joined", "left", "removed").
[[nodiscard]] std::string_view to_string(member_action v) noexcept;
/// The wire spelling of a change action ("add", "remove", "role", "join", "leave").
[[nodiscard]] std::string_view to_string(change_action v) noexcept;

/// Parses an algorithm name; nullopt for anything else.
[[nodiscard]] std::optional<aead_alg> parse_aead_alg(std::string_view s) noexcept;
/// Parses a role name; nullopt for anything else.
[[nodiscard]] std::optional<member_role> parse_member_role(std::string_view s) noexcept;
/// Parses a policy name; nullopt for anything else.
[[nodiscard]] std::optional<group_policy> parse_group_policy(std::string_view s) noexcept;
/// Parses a custody name; nullopt for anything else.
[[nodiscard]] std::optional<key_custody> parse_key_custody(std::string_view s) noexcept;
/// Parses a member action; nullopt for anything else.
[[nodiscard]] std::optional<member_action> parse_member_action(std::string_view s) noexcept;
/// Parses a change action; nullopt for anything else.
[[nodiscard]] std::optional<change_action> parse_change_action(std::string_view s) noexcept;
/// Parses a wire error code ("bad_request", ...); nullopt for internal-only or unknown names.
[[nodiscard]] std::optional<errc> parse_wire_errc(std::string_view s) noexcept;

/// The nonce size PROTOCOL.md section 7 fixes for an algorithm: 12, or 24 for xchacha20.
[[nodiscard]] constexpr std::size_t nonce_size(aead_alg v) noexcept {
  return v == aead_alg::xchacha20_poly1305 ? 24 : 12;
}

/// A request id exactly as the client wrote it: the JSON text of a string or a number, echoed
/// verbatim in the reply (7 stays 7, "7" stays "7", 1.50 stays 1.50).
class request_id {
 public:
  /// The id 0; only useful as a placeholder.
  request_id() = default;
  /// A numeric id, as the C++ client library chooses them.
  [[nodiscard]] static request_id from_number(std::uint64_t n);
  /// The number of an id made by from_number (a plain unsigned integer); nullopt for any other id.
  [[nodiscard]] std::optional<std::uint64_t> number() const noexcept;
  /// A string id; the text is JSON-escaped.
  [[nodiscard]] static request_id from_string(std::string_view s);
  /// Adopts JSON text that the caller guarantees is one JSON number or string (the parser does).
  [[nodiscard]] static request_id from_json_unchecked(std::string json);

  /// The JSON text to splice into a reply.
  [[nodiscard]] const std::string& json() const noexcept { return json_; }
  /// Whether the id is a JSON string (else it is a number).
  [[nodiscard]] bool is_string() const noexcept { return !json_.empty() && json_[0] == '"'; }

  friend bool operator==(const request_id&, const request_id&) = default;
  friend auto operator<=>(const request_id&, const request_id&) = default;

 private:
  explicit request_id(std::string json) : json_(std::move(json)) {}
  std::string json_ = "0";
};

/// Hash support so request ids can key unordered containers (the client's pending requests).
struct request_id_hash {
  std::size_t operator()(const request_id& id) const noexcept { return std::hash<std::string>{}(id.json()); }
};

/// A frame that did not parse: the error, and the request's rid when it was readable so that
/// the broker can answer `{"type":"error","rid":...}`.
struct frame_error {
  error err;
  std::optional<request_id> rid;

  friend bool operator==(const frame_error&, const frame_error&) = default;
};

/// Either a parsed frame or a frame_error; the API mirrors sealcast::result.
template <class T>
class [[nodiscard]] frame_result {
 public:
  frame_result(T value) : v_(std::in_place_index<0>, std::move(value)) {}    // NOLINT: implicit by design
  frame_result(frame_error e) : v_(std::in_place_index<1>, std::move(e)) {}  // NOLINT: implicit by design

  [[nodiscard]] bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  [[nodiscard]] T& value() & { return std::get<0>(v_); }
  [[nodiscard]] const T& value() const& { return std::get<0>(v_); }
  [[nodiscard]] T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  /// The whole failure (error and optional rid).
  [[nodiscard]] const frame_error& failure() const& { return std::get<1>(v_); }
  /// The error alone.
  [[nodiscard]] const error& err() const& { return failure().err; }
  /// The rid to echo in the error reply, when the frame's rid was readable.
  [[nodiscard]] const std::optional<request_id>& rid() const& { return failure().rid; }

 private:
  std::variant<T, frame_error> v_;
};

}  // namespace sealcast::protocol
