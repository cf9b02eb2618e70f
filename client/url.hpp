#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace sealcast::client::detail {

/// A parsed ws:// or wss:// URL.
struct ws_url {
  bool tls = false;
  std::string host;  ///< without brackets for IPv6 literals
  std::uint16_t port = 0;
  std::string path = "/ws";
};

/// Parses ws://HOST[:PORT][/PATH] or wss://...; bad_request naming the problem otherwise.
[[nodiscard]] result<ws_url> parse_ws_url(std::string_view url);

}  // namespace sealcast::client::detail
