#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "protocol/server_frames.hpp"
#include "protocol/types.hpp"

// The result fields of `ok` for each request (PROTOCOL.md sections 5 to 8). The broker writes
// them with make_ok(); the client reads them with parse_ok_result<T>().

namespace sealcast::protocol {

/// `ok` without result fields: rekey.
struct empty_result {
  friend bool operator==(const empty_result&, const empty_result&) = default;
};

/// create_group: the group's id and its epoch (0 in client custody until the first rekey).
struct create_group_result {
  id16 group;
  std::uint64_t epoch = 0;

  friend bool operator==(const create_group_result&, const create_group_result&) = default;
};

/// join, leave, add_member, remove_member, set_role: the reply's `epoch` (section 5).
struct epoch_result {
  std::uint64_t epoch = 0;

  friend bool operator==(const epoch_result&, const epoch_result&) = default;
};

/// One entry of group_info's `members`: {"user","role","online"}.
struct member_status {
  id16 user;
  member_role role = member_role::member;
  bool online = false;

  friend bool operator==(const member_status&, const member_status&) = default;
};

/// group_info.
struct group_info_result {
  std::string name;
  group_policy policy = group_policy::invite;
  key_custody custody = key_custody::broker;
  std::uint64_t epoch = 0;
  std::optional<id16> key_id;  ///< absent while a client-custody group has no key (epoch 0)
  std::vector<member_status> members;
  std::uint64_t next_seq = 1;

  friend bool operator==(const group_info_result&, const group_info_result&) = default;
};

/// One entry of list_groups' `groups`: {"group","name","epoch","role","member_count"}.
struct group_summary {
  id16 group;
  std::string name;
  std::uint64_t epoch = 0;
  member_role role = member_role::member;
  std::uint64_t member_count = 0;

  friend bool operator==(const group_summary&, const group_summary&) = default;
};

/// list_groups.
struct list_groups_result {
  std::vector<group_summary> groups;
  std::optional<id16> next{};  ///< more follow: ask again with `after` = next

  friend bool operator==(const list_groups_result&, const list_groups_result&) = default;
};

/// presence: the group's members that are online.
struct presence_result {
  std::vector<id16> online;

  friend bool operator==(const presence_result&, const presence_result&) = default;
};

/// One entry of list_users' `users`: {"user","name","online"}.
struct user_status {
  id16 user;
  std::string name;  ///< empty when the user gave no display name
  bool online = false;

  friend bool operator==(const user_status&, const user_status&) = default;
};

/// list_users.
struct list_users_result {
  std::vector<user_status> users;
  std::optional<id16> next{};  ///< more follow: ask again with `after` = next

  friend bool operator==(const list_users_result&, const list_users_result&) = default;
};

/// user_keys: a user's public keys and the signature binding kx_pk to the identity.
struct user_keys_result {
  key32 sign_pk{};
  key32 kx_pk{};
  sig64 kx_sig{};

  friend bool operator==(const user_keys_result&, const user_keys_result&) = default;
};

/// keys: key frames, oldest epoch first.
struct keys_result {
  std::vector<server::key> keys;
  std::optional<std::uint64_t> next{};  ///< more follow: ask again with from_epoch = next

  friend bool operator==(const keys_result&, const keys_result&) = default;
};

/// One entry of manifests' `manifests` (section 6.7): a key frame without type, group and
/// wrapped.
struct manifest_entry {
  std::uint64_t epoch = 0;
  id16 key_id;
  aead_alg alg = aead_alg::aes_256_gcm;
  key_custody custody = key_custody::broker;
  group_policy policy = group_policy::invite;
  id16 issuer;
  std::optional<key32> issuer_pk{};  ///< client custody only
  sig64 sig{};
  std::vector<change> changes{};

  friend bool operator==(const manifest_entry&, const manifest_entry&) = default;
};

/// manifests: epochs oldest first, and the epoch to ask for next (absent, null on the wire, once
/// the list reached the current epoch).
struct manifests_result {
  std::vector<manifest_entry> manifests{};
  std::optional<std::uint64_t> next{};

  friend bool operator==(const manifests_result&, const manifests_result&) = default;
};

/// publish: the stored message's id, seq and timestamp.
struct publish_result {
  id16 id;
  std::uint64_t seq = 0;
  std::uint64_t ts = 0;

  friend bool operator==(const publish_result&, const publish_result&) = default;
};

/// fetch: message frames in seq order.
struct fetch_result {
  std::vector<server::message> messages;
  /// Where to go on: set when the reply stopped before the end of the stored messages (limit,
  /// byte or scan bound); absent when nothing after the last one examined is stored.
  std::optional<std::uint64_t> next{};

  friend bool operator==(const fetch_result&, const fetch_result&) = default;
};

/// direct: the stored direct message's id and timestamp.
struct direct_result {
  id16 id;
  std::uint64_t ts = 0;

  friend bool operator==(const direct_result&, const direct_result&) = default;
};

}  // namespace sealcast::protocol
