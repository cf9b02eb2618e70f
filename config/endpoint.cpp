#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "config/config.hpp"

namespace sealcast {
namespace {

bool is_ipv4(const std::string& host) {
  in_addr addr{};
  return inet_pton(AF_INET, host.c_str(), &addr) == 1;
}

bool is_ipv6(const std::string& host) {
  in6_addr addr{};
  return inet_pton(AF_INET6, host.c_str(), &addr) == 1;
}

bool all_of_digits_and_dots(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == '.' || (c >= '0' && c <= '9'); });
}

// RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens.
bool is_hostname(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  std::size_t start = 0;
  while (start <= host.size()) {
    auto end = host.find('.', start);
    if (end == std::string_view::npos) end = host.size();
    auto label = host.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '-') return false;
    }
    start = end + 1;
  }
  return true;
}

error bad(std::string message) { return error{errc::config_error, std::move(message)}; }

}  // namespace

result<endpoint> parse_endpoint(std::string_view listen) {
  if (listen.empty()) return bad("empty address");
  if (listen.find('\0') != std::string_view::npos) return bad("contains a NUL character");
  std::string host;
  std::string_view rest;
  if (listen.front() == '[') {
    auto close = listen.find(']');
    if (close == std::string_view::npos) return bad("missing ']' after the IPv6 address");
    host = std::string{listen.substr(1, close - 1)};
    if (!is_ipv6(host)) return bad("'" + host + "' is not an IPv6 address");
    rest = listen.substr(close + 1);
    if (rest.empty() || rest.front() != ':') return bad("missing ':PORT'");
    rest.remove_prefix(1);
  } else {
    auto colon = listen.rfind(':');
    if (colon == std::string_view::npos) return bad("missing ':PORT'");
    host = std::string{listen.substr(0, colon)};
    rest = listen.substr(colon + 1);
    if (host.empty()) return bad("missing host; use 0.0.0.0 or [::] for every interface");
    if (host.find(':') != std::string::npos) {
      return bad("an IPv6 address needs brackets, as in [::1]:7800");
    }
    if (all_of_digits_and_dots(host)) {
      if (!is_ipv4(host)) return bad("'" + host + "' is not an IPv4 address");
    } else if (!is_hostname(host)) {
      return bad("'" + host + "' is not a valid host name");
    }
  }
  if (rest.empty() || rest.size() > 5 ||
      !std::all_of(rest.begin(), rest.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return bad("port '" + std::string{rest} + "' is not a number 0..65535");
  }
  unsigned long port = std::stoul(std::string{rest});
  if (port > 65535) return bad("port " + std::string{rest} + " is above 65535");
  return endpoint{std::move(host), static_cast<std::uint16_t>(port)};
}

bool is_loopback(std::string_view host) noexcept {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.size() > 64 || host.find('\0') != std::string_view::npos) return false;
  char buf[65] = {};  // inet_pton wants a terminated string
  std::copy(host.begin(), host.end(), buf);
  std::string_view localhost = "localhost";
  if (std::equal(host.begin(), host.end(), localhost.begin(), localhost.end(),
                 [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; })) {
    return true;
  }
  in_addr v4{};
  if (inet_pton(AF_INET, buf, &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, buf, &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    // ::ffff:127.x.y.z is the IPv4 loopback seen through an IPv6 socket.
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;
}

}  // namespace sealcast
