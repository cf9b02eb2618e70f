#include "gateway/connection.hpp"

namespace sealcast::broker {

std::string_view to_string(close_cause cause) noexcept {
  switch (cause) {
    case close_cause::peer_closed: return "peer_closed";
    case close_cause::server_closed: return "server_closed";
    case close_cause::slow_consumer: return "slow_consumer";
    case close_cause::auth_timeout: return "auth_timeout";
    case close_cause::too_big: return "too_big";
    case close_cause::bad_data: return "bad_data";
    case close_cause::timeout: return "timeout";
    case close_cause::shutdown: return "shutdown";
    case close_cause::error: return "error";
  }
  return "error";
}

}  // namespace sealcast::broker
