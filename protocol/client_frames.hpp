#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/bytes.hpp"
#include "protocol/types.hpp"

// Frames a client sends to the broker (PROTOCOL.md sections 3 to 8), one struct per `type`,
// named after it. Binary fields are decoded and ids parsed; sizes PROTOCOL.md fixes are checked
// by the parser. Every request but hello, ack and ack_direct carries the client's rid.

namespace sealcast::protocol::client {

/// `hello`: the answer to the broker's challenge (section 3).
struct hello {
  key32 sign_pk{};
  key32 kx_pk{};
  sig64 kx_sig{};
  sig64 sig{};
  std::optional<std::string> name;  ///< display name; absent when not given

  friend bool operator==(const hello&, const hello&) = default;
};

/// `create_group` (section 5).
struct create_group {
  request_id rid;
  std::string name;
  group_policy policy = group_policy::invite;
  std::optional<id16> group;                  ///< client-chosen id
  std::optional<std::uint64_t> max_members;   ///< absent: the broker's limit
  std::vector<id16> members;                  ///< initial members besides the creator
  key_custody custody = key_custody::broker;  ///< absent on the wire means broker

  friend bool operator==(const create_group&, const create_group&) = default;
};

// The membership requests (join, leave, add_member, remove_member, set_role) carry `epoch` and
// `proposal` in client custody (section 5, 6.3); the parser reads them when present and leaves
// the custody check to the broker, which ignores them in broker custody.

/// `join` an open group.
struct join {
  request_id rid;
  id16 group;
  std::optional<std::uint64_t> epoch{};  ///< client custody: the epoch the proposal was made in
  std::optional<sig64> proposal{};       ///< client custody: the requester's proposal signature

  friend bool operator==(const join&, const join&) = default;
};

/// `leave` a group.
struct leave {
  request_id rid;
  id16 group;
  std::optional<std::uint64_t> epoch{};  ///< client custody: the epoch the proposal was made in
  std::optional<sig64> proposal{};       ///< client custody: the requester's proposal signature

  friend bool operator==(const leave&, const leave&) = default;
};

/// `add_member` (owner or admin).
struct add_member {
  request_id rid;
  id16 group;
  id16 user;
  member_role role = member_role::member;  ///< member or admin; absent on the wire means member
  std::optional<std::uint64_t> epoch{};    ///< client custody: the epoch the proposal was made in
  std::optional<sig64> proposal{};         ///< client custody: the requester's proposal signature

  friend bool operator==(const add_member&, const add_member&) = default;
};

/// `remove_member` (owner or admin).
struct remove_member {
  request_id rid;
  id16 group;
  id16 user;
  std::optional<std::uint64_t> epoch{};  ///< client custody: the epoch the proposal was made in
  std::optional<sig64> proposal{};       ///< client custody: the requester's proposal signature

  friend bool operator==(const remove_member&, const remove_member&) = default;
};

/// `set_role` of a member (owner or admin).
struct set_role {
  request_id rid;
  id16 group;
  id16 user;
  member_role role = member_role::member;  ///< member or admin (required on the wire)
  std::optional<std::uint64_t> epoch{};    ///< client custody: the epoch the proposal was made in
  std::optional<sig64> proposal{};         ///< client custody: the requester's proposal signature

  friend bool operator==(const set_role&, const set_role&) = default;
};

/// `group_info`.
struct group_info {
  request_id rid;
  id16 group;

  friend bool operator==(const group_info&, const group_info&) = default;
};

/// `list_groups`: the caller's groups.
struct list_groups {
  request_id rid;
  std::optional<id16> after{};           ///< page: groups with a greater id
  std::optional<std::uint64_t> limit{};  ///< page size, 1 to 100 (default 100)

  friend bool operator==(const list_groups&, const list_groups&) = default;
};

/// `presence`: who of a group is online (the request; the broker's push is server::presence).
struct presence {
  request_id rid;
  id16 group;

  friend bool operator==(const presence&, const presence&) = default;
};

/// `list_users` known to the broker.
struct list_users {
  request_id rid;
  std::optional<id16> after{};           ///< page: users with a greater id
  std::optional<std::uint64_t> limit{};  ///< page size, 1 to 1000 (default 1000)

  friend bool operator==(const list_users&, const list_users&) = default;
};

/// `user_keys`: a user's public keys.
struct user_keys {
  request_id rid;
  id16 user;

  friend bool operator==(const user_keys&, const user_keys&) = default;
};

/// `keys`: catch up on epoch keys from `from_epoch` on (section 6).
struct keys {
  request_id rid;
  id16 group;
  std::uint64_t from_epoch = 0;

  friend bool operator==(const keys&, const keys&) = default;
};

/// `manifests`: the group's signed epoch history from `from_epoch` on (section 6.7).
struct manifests {
  request_id rid;
  id16 group;
  std::uint64_t from_epoch = 1;          ///< at least 1
  std::optional<std::uint64_t> limit{};  ///< 1 to max_manifests_limit; absent: default_manifests_limit

  friend bool operator==(const manifests&, const manifests&) = default;
};

/// `publish` a group message (section 7).
struct publish {
  request_id rid;
  id16 group;
  std::uint64_t epoch = 0;
  std::uint32_t index = 0;  ///< the sender's ratchet index in this epoch (section 7.1)
  aead_alg alg = aead_alg::aes_256_gcm;
  bytes nonce;  ///< nonce_size(alg) bytes
  bytes ct;     ///< at least min_ct_size bytes
  sig64 sig{};

  friend bool operator==(const publish&, const publish&) = default;
};

/// `ack`: cumulative delivery acknowledgement; no rid, no reply.
struct ack {
  id16 group;
  std::uint64_t seq = 0;

  friend bool operator==(const ack&, const ack&) = default;
};

/// `fetch` retained messages from `from_seq` on.
struct fetch {
  request_id rid;
  id16 group;
  std::uint64_t from_seq = 0;
  std::optional<std::uint64_t> limit;  ///< absent: the broker's default

  friend bool operator==(const fetch&, const fetch&) = default;
};

/// `direct`: send a direct message (section 8; the delivery is server::direct).
struct direct {
  request_id rid;
  id16 to;
  bytes sealed;  ///< at least min_sealed_size bytes
  sig64 sig{};

  friend bool operator==(const direct&, const direct&) = default;
};

/// `ack_direct`: acknowledge a direct message; no rid, no reply.
struct ack_direct {
  id16 id;

  friend bool operator==(const ack_direct&, const ack_direct&) = default;
};

/// `rekey`: a client-custody commit answering a rekey_request (section 6.4).
struct rekey {
  request_id rid;
  id16 group;
  std::uint64_t epoch = 0;
  id16 key_id;
  aead_alg alg = aead_alg::aes_256_gcm;
  std::uint64_t changes = 0;            ///< how many pending changes the commit applies, in order
  sig64 sig{};                          ///< the committer's signature of the new epoch's manifest
  std::map<id16, wrapped_key> wrapped;  ///< user id -> K_e wrapped to that user

  friend bool operator==(const rekey&, const rekey&) = default;
};

}  // namespace sealcast::protocol::client

namespace sealcast::protocol {

/// Any frame a client sends.
using client_frame =
    std::variant<client::hello, client::create_group, client::join, client::leave, client::add_member,
                 client::remove_member, client::set_role, client::group_info, client::list_groups, client::presence,
                 client::list_users, client::user_keys, client::keys, client::manifests, client::publish, client::ack,
                 client::fetch, client::direct, client::ack_direct, client::rekey>;

/// The frame's rid, for the frames that carry one.
[[nodiscard]] std::optional<request_id> rid_of(const client_frame& f);
/// The frame's wire `type` ("publish", ...).
[[nodiscard]] std::string_view type_of(const client_frame& f) noexcept;

}  // namespace sealcast::protocol
