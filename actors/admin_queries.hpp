#pragma once

// What the admin API asks the actors: a group's live state, a stored message's delivery
// status, and a rotation. Each call posts to the directory and returns at once; `done` runs
// later on a CAF worker (never on the caller's thread) and must not block.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "common/error.hpp"
#include "persistence/records.hpp"

namespace sealcast::actors {

struct services;  // actors/services.hpp, which includes this header through the actors' interfaces

/// One member as the group actor sees it.
struct member_snapshot {
  id16 user;
  persistence::member_role role = persistence::member_role::member;
  bool online = false;
  std::uint64_t acked_seq = 0;
  std::uint64_t joined_ms = 0;
};

/// A member that holds no key of an epoch it should hold.
struct missing_key {
  id16 user;
  std::uint64_t epoch = 0;
};

/// A group's state at one instant, from its actor.
struct group_snapshot {
  persistence::group_record rec;
  std::optional<id16> key_id;               ///< of the current epoch; none before the first key
  std::vector<member_snapshot> members;     ///< in user id order
  std::uint64_t pending_messages = 0;       ///< stored messages not deleted yet
  std::vector<missing_key> missing_keys;    ///< which members lack which epoch key
};

/// A stored (not yet deleted) group message as its group actor sees it.
struct message_snapshot {
  id16 id;
  id16 group;
  std::uint64_t seq = 0;
  id16 sender;
  std::uint64_t epoch = 0;
  std::uint64_t ts_ms = 0;
  std::uint32_t recipient_count = 0;
  std::uint32_t delivery_attempts = 0;     ///< sends to recipients, retries and backlogs included
  std::uint32_t remaining_recipients = 0;  ///< recipients that have not acknowledged it (failed or pending)
  // Its recipients (members of the group) by outcome so far, each in user id order.
  std::vector<id16> delivered;  ///< acknowledged it
  std::vector<id16> failed;     ///< ran out of delivery attempts
  std::vector<id16> pending;    ///< not yet acknowledged, attempts left
};

/// The final status of a message whose recipients ended so: delivered when none failed or
/// expired (also with no recipients at all), partial when some did and some got it, otherwise
/// failed when any ran out of attempts, else expired. While any recipient is pending the
/// status is "pending" instead.
[[nodiscard]] inline persistence::message_outcome_status settled_status(std::size_t delivered, std::size_t failed,
                                                                        std::size_t expired) {
  using st = persistence::message_outcome_status;
  if (failed == 0 && expired == 0) return st::delivered;
  if (delivered > 0) return st::partial;
  return failed > 0 ? st::failed : st::expired;
}

/// "delivered", "expired", "failed" or "partial".
[[nodiscard]] inline const char* to_string(persistence::message_outcome_status s) {
  switch (s) {
    case persistence::message_outcome_status::delivered: return "delivered";
    case persistence::message_outcome_status::expired: return "expired";
    case persistence::message_outcome_status::failed: return "failed";
    case persistence::message_outcome_status::partial: return "partial";
  }
  return "unknown";
}

using group_snapshot_done = std::function<void(std::optional<group_snapshot>)>;
using message_snapshot_done = std::function<void(std::optional<message_snapshot>)>;
/// The rotation's epoch, or why there is none: not_found (no such group), rekey_pending (a
/// change is in progress), internal (the epoch could not be built or stored).
using rotate_done = std::function<void(std::uint64_t epoch, std::optional<error> err)>;

/// The live state of `group`; nullopt when there is no such group.
void query_group(const services& svc, const id16& group, group_snapshot_done done);
/// The message `id` at `seq` of `group` while its group still holds it; nullopt otherwise
/// (unknown, or deleted meanwhile: then the store has its outcome).
void query_message(const services& svc, const id16& group, std::uint64_t seq, const id16& id,
                   message_snapshot_done done);
/// Starts a rotation of `group` (broker custody) or a rekey request (client custody);
/// `done` gets the new or requested epoch, or an error.
void rotate_group(const services& svc, const id16& group, std::string reason, rotate_done done);

}  // namespace sealcast::actors
