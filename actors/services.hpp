#pragma once

#include <algorithm>
#include <atomic>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/counters.hpp"
#include "actors/directory.hpp"
#include "actors/directs.hpp"
#include "actors/event_bus.hpp"
#include "actors/quotas.hpp"
#include "actors/storage_writer.hpp"
#include "common/bytes.hpp"
#include "config/config.hpp"
#include "crypto/identity.hpp"
#include "persistence/store.hpp"
#include "protocol/types.hpp"

namespace sealcast::actors {

class ephemeral_pool;

/// One event as emitted by an actor; the event bus stamps seq and ts.
struct event {
  event_type type = event_type::group_created;
  std::optional<id16> group;
  std::optional<id16> user;
  std::optional<id16> message;
  std::string data = "{}";  ///< a JSON object as text
};

/// What every actor shares: configuration, the store and its writer, the broker's identity,
/// counters, and the handles of the long-lived actors. Built once by the broker before any
/// actor starts; read-only afterwards except for the atomics inside `counters`.
struct services {
  config cfg;
  persistence::store* store = nullptr;
  storage_writer* writer = nullptr;
  ephemeral_pool* ephemerals = nullptr;  ///< precomputed HPKE ephemerals; may be null
  std::shared_ptr<const crypto::identity> broker;  ///< signs broker-custody manifests
  id16 broker_id;
  broker_counters counters;
  std::vector<protocol::aead_alg> allowed_algs;
  protocol::aead_alg default_alg = protocol::aead_alg::aes_256_gcm;
  std::vector<bool> persist_event;  ///< by event_type: persisted per [events] persist
  directory_actor directory;
  directs_actor directs;  ///< direct messages
  event_bus_actor event_bus;
  std::atomic<bool> live_event_listeners{false};  ///< someone streams events: send them all
  /// Bytes of delivery frames cached by all group actors (bounded by frame_cache_max).
  std::atomic<std::int64_t> frame_cache_bytes{0};
  static constexpr std::int64_t frame_cache_max = 64LL << 20;
  static constexpr std::size_t group_frame_cache_max = 8U << 20;
  group_quota groups_owned;  ///< limits.groups_per_user (thread-safe)

  /// Counts an event and hands it to the event bus when it is persisted or streamed.
  void emit(event e);
  /// Whether an event of `type` goes to the bus (persisted, or someone streams events): when not,
  /// a caller on the delivery path only counts it (counters.bump) and builds nothing.
  [[nodiscard]] bool event_wanted(event_type type) const noexcept {
    const auto i = static_cast<std::size_t>(type);
    return (i < persist_event.size() && persist_event[i]) || live_event_listeners.load(std::memory_order_relaxed);
  }
  [[nodiscard]] bool alg_allowed(protocol::aead_alg a) const noexcept;
  /// The send window connections use: limits.send_window_bytes, at most half of
  /// limits.slow_consumer_bytes (as the gateway applies it).
  [[nodiscard]] std::size_t send_window() const noexcept {
    return static_cast<std::size_t>(std::min<std::uint64_t>(cfg.limits.send_window_bytes, cfg.limits.slow_consumer_bytes / 2));
  }
};

}  // namespace sealcast::actors
