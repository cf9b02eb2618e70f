#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

#include "actors/services.hpp"
#include "persistence/records.hpp"

namespace sealcast::actors {

/// One value of an event's `data` object.
using data_value = std::variant<std::uint64_t, std::string_view, bool>;

/// Builds an event's `data` JSON object from key/value pairs (values escaped properly).
[[nodiscard]] std::string event_data(std::initializer_list<std::pair<std::string_view, data_value>> kv);

/// Receives every persisted or streamed event with its seq and ts (for SSE and tests).
using event_listener = std::function<void(const persistence::event_record&)>;

/// Runs once every event numbered below `first_live_seq` is committed: from that seq on,
/// events reach the listener; the earlier ones can be read from the store.
using subscription_ready = std::function<void(std::uint64_t first_live_seq)>;

/// Adds a live listener of every event, persisted or not. The listener runs on the event bus
/// and must not block; `ready` runs on the storage writer thread. Returns the token that
/// unsubscribe_events takes.
[[nodiscard]] std::uint64_t subscribe_events(const services& svc, event_listener listener, subscription_ready ready);
/// Removes a listener; it is not called after the bus handles this.
void unsubscribe_events(const services& svc, std::uint64_t token);

}  // namespace sealcast::actors
