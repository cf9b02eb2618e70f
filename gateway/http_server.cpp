// The admin server's listener, start and stop, and its Host/Origin allow-list. Sessions are in
// http_session.cpp.

#include "gateway/http_server.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>

#include <boost/asio/ip/address.hpp>

#include "gateway/detail/http_server_state.hpp"
#include "gateway/detail/net.hpp"

namespace sealcast::broker {

using tcp = boost::asio::ip::tcp;
using detail::http_server_state;

// -- host_allow_list ---------------------------------------------------------------------------

namespace {

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_';
}

/// An IP address in a host: "127.0.0.1" or "[::1]" (brackets required for IPv6).
std::optional<boost::asio::ip::address> address_of(std::string_view host) {
  boost::system::error_code ec;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    auto v6 = boost::asio::ip::make_address_v6(std::string(host.substr(1, host.size() - 2)), ec);
    if (ec) return std::nullopt;
    return boost::asio::ip::address(v6);
  }
  auto v4 = boost::asio::ip::make_address_v4(std::string(host), ec);
  if (ec) return std::nullopt;
  return boost::asio::ip::address(v4);
}

bool is_loopback_host(std::string_view host) {
  if (host == "localhost") return true;
  auto addr = address_of(host);
  if (!addr) return false;
  if (addr->is_loopback()) return true;
  // ::ffff:127.x.y.z is the IPv4 loopback seen through an IPv6 socket.
  return addr->is_v6() && addr->to_v6().is_v4_mapped() && addr->to_v6().to_bytes()[12] == 127;
}

/// What a scheme's URLs leave out of the Host header.
std::uint16_t default_port(bool https) { return https ? 443 : 80; }

}  // namespace

std::optional<host_allow_list::authority> host_allow_list::parse(std::string_view text) {
  if (text.empty() || text.size() > 300) return std::nullopt;
  std::string_view host;
  std::string_view rest;
  if (text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = text.substr(0, close + 1);
    rest = text.substr(close + 1);
  } else {
    const auto colon = text.find(':');
    host = text.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view{} : text.substr(colon);
    if (host.empty() || !std::all_of(host.begin(), host.end(), is_name_char)) return std::nullopt;
  }
  authority a;
  if (host.front() == '[') {
    auto addr = address_of(host);
    if (!addr || !addr->is_v6()) return std::nullopt;
    a.host = "[" + addr->to_string() + "]";  // canonical: [0:0::1] and [::1] are one host
  } else {
    a.host.reserve(host.size());
    for (const char c : host) a.host += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (!rest.empty()) {
    if (rest.front() != ':') return std::nullopt;
    rest.remove_prefix(1);
    if (rest.empty() || rest.size() > 5) return std::nullopt;
    unsigned value = 0;
    for (const char c : rest) {
      if (c < '0' || c > '9') return std::nullopt;
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value > 65535) return std::nullopt;
    a.port = static_cast<std::uint16_t>(value);
  }
  return a;
}

host_allow_list::host_allow_list(std::string_view listen, const std::vector<std::string>& extra) {
  listen_ = parse(listen);
  if (listen_ && listen_->port == 0) listen_->port.reset();  // "any free port": the bound one
  for (const auto& e : extra) {
    auto a = parse(e);
    if (!a || a->port == 0) {
      if (bad_entry_.empty()) bad_entry_ = e.empty() ? std::string("\"\"") : e;
      continue;
    }
    extra_.push_back(std::move(*a));
  }
}

bool host_allow_list::extra_matches(const authority& a, std::uint16_t default_port) const {
  return std::any_of(extra_.begin(), extra_.end(), [&](const authority& e) {
    return e.host == a.host && (!e.port || *e.port == a.port.value_or(default_port));
  });
}

bool host_allow_list::host_allowed(std::string_view host, std::uint16_t local_port) const {
  const auto a = parse(host);
  if (!a) return false;
  if (is_loopback_host(a->host)) return true;
  if (listen_ && a->host == listen_->host &&
      (!a->port || *a->port == local_port || (listen_->port && *a->port == *listen_->port)))
    return true;
  // A Host without a port came from a URL on the scheme's default port, 80 or 443.
  return extra_matches(*a, 80) || (!a->port && extra_matches(*a, 443));
}

bool host_allow_list::origin_allowed(std::string_view origin, std::string_view host) const {
  // An origin is scheme "://" authority, nothing else; "null" (sandboxed pages, file:, data:
  // documents, some redirects) names no origin this server could be.
  const auto sep = origin.find("://");
  if (sep == std::string_view::npos) return false;
  std::string scheme(origin.substr(0, sep));
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "http" && scheme != "https") return false;
  const auto o = parse(origin.substr(sep + 3));
  if (!o) return false;
  const auto port = default_port(scheme == "https");
  if (const auto h = parse(host); h && h->host == o->host && h->port.value_or(port) == o->port.value_or(port))
    return true;  // same origin as the request
  return extra_matches(*o, port);
}

// -- http_server -------------------------------------------------------------------------------

struct http_server::impl {
  explicit impl(std::shared_ptr<http_server_state> state) : st(std::move(state)), listener(st->ioc, "admin") {}
  std::shared_ptr<http_server_state> st;
  detail::listener listener;
  bool started = false;
  bool stopped = false;
};

http_server::http_server(http_server_options options)
    : impl_(std::make_unique<impl>(std::make_shared<http_server_state>(std::move(options)))) {}

http_server::~http_server() { stop(); }

void http_server::route(std::string method, std::string_view pattern, http_handler handler, bool needs_token) {
  impl_->st->router.add(std::move(method), pattern, std::move(handler), needs_token);
}

void http_server::probe(std::string_view pattern, http_handler handler) {
  impl_->st->router.add("GET", pattern, std::move(handler), false, true);
}

result<endpoint> http_server::start() {
  auto& st = *impl_->st;
  if (impl_->started) return error{errc::internal, "admin server already started"};
  const auto& opt = st.options;
  if (!st.hosts.bad_entry().empty())
    return error{errc::config_error, "admin.allowed_hosts: '" + st.hosts.bad_entry() +
                                         "' is not \"host\" or \"host:port\""};
  auto at = detail::parse_listen(opt.listen);
  if (!at) return std::move(at).err();
  auto tls = detail::load_tls(opt.tls_cert, opt.tls_key, "admin");
  if (!tls) return std::move(tls).err();
  st.tls = std::move(*tls);
  auto bound = impl_->listener.start(*at, opt.io_threads, [state = impl_->st](tcp::socket s) {
    detail::start_http_session(state, std::move(s));
  });
  if (bound) impl_->started = true;
  return bound;
}

void http_server::stop() {
  if (!impl_->started || impl_->stopped) return;
  impl_->stopped = true;
  auto& st = *impl_->st;
  st.live.begin_stop();
  impl_->listener.close_acceptor();
  st.live.end_all(std::chrono::seconds(3));
  impl_->listener.join();
}

}  // namespace sealcast::broker
