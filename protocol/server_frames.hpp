#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/bytes.hpp"
#include "common/error.hpp"
#include "protocol/types.hpp"

// Frames the broker sends to clients (PROTOCOL.md sections 3 to 8): replies (`ok`, `error`),
// the session handshake (`challenge`, `welcome`) and pushes, which carry no rid.

namespace sealcast::protocol {

/// One membership change of an epoch (section 6.2), as key frames, manifest entries and
/// rekey_request carry it: {"action","user","kx_pk","role","by","by_pk","sig"}. The parser
/// holds it to its shape: kx_pk present exactly for add and join, role exactly for add, join and
/// role, by_pk and sig together and only with by; sign_pk and kx_sig only inside a rekey_request
/// and only for add and join.
struct change {
  change_action action = change_action::add;
  id16 user;
  std::optional<key32> kx_pk{};       ///< the subject's X25519 key: add and join
  std::optional<member_role> role{};  ///< the subject's (new) role: add, join and role
  std::optional<id16> by{};           ///< who asked; absent for the broker's own changes
  std::optional<key32> by_pk{};       ///< client custody: the proposer's Ed25519 key
  std::optional<sig64> sig{};         ///< client custody: the proposal signature (section 6.3)
  std::optional<key32> sign_pk{};     ///< rekey_request only: the subject's Ed25519 key
  std::optional<sig64> kx_sig{};      ///< rekey_request only: the subject's binding of kx_pk

  friend bool operator==(const change&, const change&) = default;
};

/// One entry of welcome's `groups`: {"group","name","epoch","role"}.
struct welcome_group {
  id16 group;
  std::string name;
  std::uint64_t epoch = 0;
  member_role role = member_role::member;

  friend bool operator==(const welcome_group&, const welcome_group&) = default;
};

/// The result fields of an `ok` reply (all but type and rid), kept as parsed so the client can
/// read them with parse_ok_result<T>() once it knows which request the rid answers. Immutable
/// and cheap to copy.
class ok_fields {
 public:
  struct impl;

  /// No fields.
  ok_fields() = default;
  /// Wraps parsed fields (used by the codec).
  explicit ok_fields(std::shared_ptr<const impl> p) : impl_(std::move(p)) {}

  /// The fields as one compact JSON object ("{}" when there are none).
  [[nodiscard]] std::string json() const;
  /// Whether there are no fields.
  [[nodiscard]] bool empty() const noexcept;
  /// The parsed fields, or nullptr when there are none (used by the codec).
  [[nodiscard]] const impl* get() const noexcept { return impl_.get(); }

  /// Same fields with the same values, in any order.
  friend bool operator==(const ok_fields& a, const ok_fields& b);

 private:
  std::shared_ptr<const impl> impl_;
};

}  // namespace sealcast::protocol

namespace sealcast::protocol::server {

/// `challenge`: the first frame of a session (section 3).
struct challenge {
  std::uint64_t protocol = protocol_version;
  id16 broker;
  key32 broker_pk{};
  key32 nonce{};  ///< 32 random bytes the hello signature covers

  friend bool operator==(const challenge&, const challenge&) = default;
};

/// `welcome`: the session is authenticated; the user's groups.
struct welcome {
  id16 user;
  std::vector<welcome_group> groups;  ///< at most max_welcome_groups, by group id
  /// The user has more groups than `groups` lists: the rest are read with list_groups from
  /// `after` = the last one listed.
  std::optional<id16> more_after{};

  friend bool operator==(const welcome&, const welcome&) = default;
};

/// `ok`: a successful reply; the fields depend on the request.
struct ok {
  request_id rid;
  ok_fields fields;

  friend bool operator==(const ok&, const ok&) = default;
};

/// `error`: a failed request (with its rid) or a failure outside any request (without).
struct error {
  std::optional<request_id> rid;
  errc code = errc::internal;  ///< a wire code; unknown codes from a peer read as internal
  std::string message;

  friend bool operator==(const error&, const error&) = default;
};

/// `key`: one epoch's signed context and its group key wrapped to the recipient (section 6.2).
/// Everything but `wrapped` is the same for every member of the epoch; `wrapped` is written
/// last so that key_frame_prefix() can serialize the rest once per epoch.
struct key {
  id16 group;
  std::uint64_t epoch = 0;
  id16 key_id;
  aead_alg alg = aead_alg::aes_256_gcm;
  key_custody custody = key_custody::broker;
  group_policy policy = group_policy::invite;
  id16 issuer;                       ///< the broker id in broker custody, the committer in client custody
  std::optional<key32> issuer_pk{};  ///< client custody only: the committer's Ed25519 key
  sig64 sig{};                       ///< the issuer's signature of the epoch's manifest
  std::vector<change> changes{};     ///< epoch e's changes against epoch e-1, in order
  wrapped_key wrapped{};

  friend bool operator==(const key&, const key&) = default;
};

/// `message`: a group message delivery (section 7).
struct message {
  id16 group;
  std::uint64_t seq = 0;
  id16 id;
  id16 sender;
  std::uint64_t epoch = 0;
  std::uint32_t index = 0;  ///< the sender's ratchet index (section 7.1)
  aead_alg alg = aead_alg::aes_256_gcm;
  bytes nonce;
  bytes ct;
  sig64 sig{};
  std::uint64_t ts = 0;  ///< ms since the Unix epoch

  friend bool operator==(const message&, const message&) = default;
};

/// `direct`: a direct message delivery (section 8).
struct direct {
  id16 id;
  id16 from;
  bytes sealed;
  sig64 sig{};
  std::uint64_t ts = 0;

  friend bool operator==(const direct&, const direct&) = default;
};

/// `member`: a membership change in one of the user's groups (section 5).
struct member {
  id16 group;
  id16 user;
  member_action action = member_action::joined;
  std::uint64_t epoch = 0;

  friend bool operator==(const member&, const member&) = default;
};

/// `presence`: a member of one of the user's groups came online or went offline.
/// PROTOCOL.md names this push without fields; this is {"group","user","online"}.
struct presence {
  id16 group;
  id16 user;
  bool online = false;

  friend bool operator==(const presence&, const presence&) = default;
};

/// `rekey_request`: asks an owner or admin for the next client-custody epoch (section 6.4).
struct rekey_request {
  id16 group;
  std::uint64_t epoch = 0;  ///< the epoch to commit (current + 1)
  std::string reason;
  hash32 prev_hash{};             ///< the current epoch's manifest hash; zeros for epoch 1
  std::vector<change> changes{};  ///< every pending change with its proposal, in arrival order
  std::uint64_t deadline = 0;     ///< ms since the Unix epoch

  friend bool operator==(const rekey_request&, const rekey_request&) = default;
};

}  // namespace sealcast::protocol::server

namespace sealcast::protocol {

/// Any single frame the broker sends (a batch is unpacked into these).
using server_frame =
    std::variant<server::challenge, server::welcome, server::ok, server::error, server::key, server::message,
                 server::direct, server::member, server::presence, server::rekey_request>;

}  // namespace sealcast::protocol

namespace sealcast::protocol::server {

/// `batch`: several frames coalesced into one WebSocket message; unpacked in order. Batches do
/// not nest.
struct batch {
  std::vector<server_frame> items;

  friend bool operator==(const batch&, const batch&) = default;
};

}  // namespace sealcast::protocol::server
