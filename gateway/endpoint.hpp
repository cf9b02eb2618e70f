#pragma once

#include <cstdint>
#include <string>

namespace sealcast::broker {

/// A bound listener address: numeric host and the actual port (useful when port 0 was asked).
struct endpoint {
  std::string host;
  std::uint16_t port = 0;

  /// "host:port", with brackets around an IPv6 host.
  [[nodiscard]] std::string to_string() const {
    return host.find(':') == std::string::npos ? host + ":" + std::to_string(port)
                                               : "[" + host + "]:" + std::to_string(port);
  }
};

}  // namespace sealcast::broker
