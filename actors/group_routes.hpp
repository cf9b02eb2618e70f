#pragma once

// How frames reach a group actor without the directory's mailbox (docs/design.md, "Routes").
//
// The directory loads group actors and owns their `group_route`: the actor's handle and the
// count of messages ever sent to it. Every sender counts before it sends. An idle group offers
// its stop with the count it has received; the directory accepts only by closing the route in
// one compare-and-set from exactly that count, so after the close nobody can count (and send)
// any more, and before it nothing counted can still be in flight.
//
// A connection resolves a group once, through the directory, and keeps the route in a
// `group_link`; later frames for that group go straight to the actor. Order per connection and
// group is kept by never letting a direct send overtake a frame that went through the
// directory: the link counts those frames, and the directory uncounts each after forwarding it.

#include <atomic>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <utility>

#include "actors/group.hpp"
#include "common/bytes.hpp"

namespace sealcast::actors {

/// A loaded group actor and how many messages have been sent to it (see above).
class group_route {
 public:
  explicit group_route(group_actor actor) : actor_(std::move(actor)) {}

  [[nodiscard]] const group_actor& actor() const noexcept { return actor_; }

  /// Counts one message about to be sent to the actor; false once the route is closed (the
  /// group was unloaded: go through the directory, which loads it afresh).
  [[nodiscard]] bool count() noexcept {
    auto v = sent_.load(std::memory_order_relaxed);
    do {
      if (v & closed_bit) return false;
    } while (!sent_.compare_exchange_weak(v, v + 1, std::memory_order_acq_rel, std::memory_order_relaxed));
    return true;
  }

  /// Closes the route if exactly `received` messages were ever counted: the group has all of
  /// them, and no sender can count another. False if one is still in flight.
  [[nodiscard]] bool close(std::uint64_t received) noexcept {
    auto expected = received;
    return sent_.compare_exchange_strong(expected, received | closed_bit, std::memory_order_acq_rel);
  }

  /// Closes the route whatever was counted: its actor is gone (it failed), so what is in flight
  /// to it is lost either way, and later senders must go through the directory.
  void close_dead() noexcept { sent_.fetch_or(closed_bit, std::memory_order_acq_rel); }

 private:
  static constexpr std::uint64_t closed_bit = std::uint64_t{1} << 63;
  group_actor actor_;
  std::atomic<std::uint64_t> sent_{0};
};

/// One connection's way to one group. The connection's io thread is its only writer of
/// `in_directory` increments; the directory stores `route` and then releases its count, so the
/// io thread reads `route` only after seeing `in_directory == 0`.
struct group_link {
  std::atomic<std::uint32_t> in_directory{0};  ///< frames sent through the directory, not yet forwarded
  std::shared_ptr<group_route> route;          ///< the last route the directory handed over
};

/// A connection's links, kept on the connection's session (io thread only), and `ready`: set by
/// the directory once it has told the user's groups that the connection is online, so no frame
/// sent directly can reach a group before that.
struct connection_routes {
  std::atomic<bool> ready{false};
  std::unordered_map<id16, std::shared_ptr<group_link>, id16_hash> links;
};

}  // namespace sealcast::actors
