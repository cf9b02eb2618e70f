#include "client/url.hpp"

#include <charconv>

namespace sealcast::client::detail {

result<ws_url> parse_ws_url(std::string_view url) {
  auto bad = [&](const std::string& why) {
    return error{errc::bad_request, "bad url '" + std::string(url) + "': " + why};
  };
  ws_url u;
  std::string_view rest;
  if (url.starts_with("ws://")) {
    rest = url.substr(5);
  } else if (url.starts_with("wss://")) {
    u.tls = true;
    rest = url.substr(6);
  } else {
    return bad("must start with ws:// or wss://");
  }
  u.port = u.tls ? 443 : 80;
  const auto slash = rest.find('/');
  if (slash != std::string_view::npos) {
    u.path = std::string(rest.substr(slash));
    rest = rest.substr(0, slash);
  }
  if (rest.find('@') != std::string_view::npos) return bad("user info is not supported");
  std::string_view host = rest;
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) return bad("unterminated IPv6 literal");
    host = rest.substr(1, close - 1);
    const auto after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("junk after the IPv6 literal");
      port = after.substr(1);
      if (port.empty()) return bad("empty port");
    }
  } else if (const auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (port.empty()) return bad("empty port");
  }
  if (host.empty()) return bad("no host");
  for (char c : host)
    if (c == ' ' || c == '/' || c == '?' || c == '#') return bad("bad character in host");
  if (!port.empty()) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
    if (ec != std::errc{} || p != port.data() + port.size() || v == 0 || v > 65535) return bad("bad port");
    u.port = static_cast<std::uint16_t>(v);
  }
  u.host = std::string(host);
  return u;
}

}  // namespace sealcast::client::detail
