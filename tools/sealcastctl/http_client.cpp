#include "tools/sealcastctl/http_client.hpp"

#include <cctype>
#include <charconv>
#include <memory>
#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "common/asio_nothrow.hpp"
#include "common/detail/coroutine_frame_warning.hpp"

namespace sealcast::ctl {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

result<base_url> parse_base_url(std::string_view url) {
  base_url out;
  const std::string original(url);
  if (url.starts_with("http://")) {
    url.remove_prefix(7);
  } else if (url.starts_with("https://")) {
    out.tls = true;
    url.remove_prefix(8);
  } else {
    return error{errc::bad_request, "the URL '" + original + "' must start with http:// or https://"};
  }
  const auto slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view{} : url.substr(slash);
  std::string_view port;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos)
      return error{errc::bad_request, "the URL '" + original + "' has a bad IPv6 host"};
    out.host = std::string(authority.substr(1, close - 1));
    const auto rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return error{errc::bad_request, "the URL '" + original + "' has a bad host"};
      port = rest.substr(1);
    }
  } else {
    const auto colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (out.host.empty()) return error{errc::bad_request, "the URL '" + original + "' has no host"};
  if (port.empty()) {
    out.port = out.tls ? "443" : "80";
  } else {
    unsigned n = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
    if (ec != std::errc{} || end != port.data() + port.size() || n == 0 || n > 65535) {
      return error{errc::bad_request, "the URL '" + original + "' has a bad port"};
    }
    out.port = std::string(port);
  }
  while (path.ends_with('/')) path.remove_suffix(1);
  out.prefix = std::string(path);
  return out;
}

namespace {

constexpr std::uint64_t body_max = 256u * 1024 * 1024;

/// "Connection refused" -> "connection refused": it follows a colon in our messages.
std::string reason(const boost::system::error_code& ec) {
  auto m = ec.message();
  if (!m.empty()) m[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(m[0])));
  return m;
}

/// One request and what became of it.
struct exchange {
  const client_options* options = nullptr;
  http::verb method = http::verb::get;
  std::string target;
  const std::function<void(std::string_view)>* on_data = nullptr;  ///< set: stream a 200 body
  std::string last_event_id;                                        ///< sent when not empty
  http_answer answer;
  std::optional<error> failure;

  void fail(std::string what) { failure = error{errc::io_error, std::move(what)}; }
};

template <class Stream>
asio::awaitable<void> talk(Stream& stream, exchange& ex) {
  const auto& opt = *ex.options;
  http::request<http::empty_body> req{ex.method, ex.target, 11};
  const bool v6 = opt.url.host.find(':') != std::string::npos;
  req.set(http::field::host, (v6 ? "[" + opt.url.host + "]" : opt.url.host) + ":" + opt.url.port);
  req.set(http::field::user_agent, "sealcastctl");
  req.set(http::field::accept, ex.on_data ? "text/event-stream" : "application/json");
  if (!opt.token.empty()) req.set(http::field::authorization, "Bearer " + opt.token);
  if (!ex.last_event_id.empty()) req.set("Last-Event-ID", ex.last_event_id);
  if (ex.method == http::verb::post) req.content_length(0);

  beast::get_lowest_layer(stream).expires_after(opt.timeout);
  auto [write_ec, written] = co_await http::async_write(stream, req, use_nothrow);
  (void)written;
  if (write_ec) {
    ex.fail("sending the request failed: " + reason(write_ec));
    co_return;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(body_max);
  auto [header_ec, header_n] = co_await http::async_read_header(stream, buffer, parser, use_nothrow);
  (void)header_n;
  if (header_ec) {
    ex.fail("reading the answer failed: " + reason(header_ec));
    co_return;
  }
  ex.answer.status = parser.get().result_int();
  ex.answer.content_type = std::string(parser.get()[http::field::content_type]);

  if (ex.on_data && ex.answer.status == 200) {
    // An event stream may stay quiet (between heartbeats) for as long as it likes, and grow
    // without bound: the parser's body limit counts every byte ever read, cleared or not.
    beast::get_lowest_layer(stream).expires_never();
    parser.body_limit(boost::none);
    while (!parser.is_done()) {
      auto [ec, n] = co_await http::async_read_some(stream, buffer, parser, use_nothrow);
      (void)n;
      auto& body = parser.get().body();
      if (!body.empty()) {
        (*ex.on_data)(body);
        body.clear();  // the string body appends at its end: clearing keeps memory flat
      }
      if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == http::error::partial_message) break;
      if (ec) {
        ex.fail("the event stream broke: " + reason(ec));
        co_return;
      }
    }
    co_return;
  }
  auto [read_ec, read_n] = co_await http::async_read(stream, buffer, parser, use_nothrow);
  (void)read_n;
  if (read_ec) {
    ex.fail("reading the answer failed: " + reason(read_ec));
    co_return;
  }
  ex.answer.body = std::move(parser.get().body());
}

asio::awaitable<void> run(exchange& ex, ssl::context* tls, asio::io_context::executor_type executor) {
  const auto& opt = *ex.options;
  tcp::resolver resolver(executor);
  auto [resolve_ec, endpoints] = co_await resolver.async_resolve(opt.url.host, opt.url.port, use_nothrow);
  if (resolve_ec) {
    ex.fail(reason(resolve_ec));
    co_return;
  }
  if (!tls) {
    beast::tcp_stream stream(executor);
    stream.expires_after(opt.timeout);
    auto [ec, ep] = co_await stream.async_connect(endpoints, use_nothrow);
    (void)ep;
    if (ec) {
      ex.fail(reason(ec));
      co_return;
    }
    co_await talk(stream, ex);
    co_return;
  }
  beast::ssl_stream<beast::tcp_stream> stream(executor, *tls);
  // SNI, and the name the certificate must carry.
  // SSL_set_tlsext_host_name() without its C cast.
  if (SSL_ctrl(stream.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(opt.url.host.c_str())) != 1) {
    ex.fail("cannot set the TLS server name");
    co_return;
  }
  if (!opt.insecure) stream.set_verify_callback(ssl::host_name_verification(opt.url.host));
  auto& socket = beast::get_lowest_layer(stream);
  socket.expires_after(opt.timeout);
  auto [connect_ec, ep] = co_await socket.async_connect(endpoints, use_nothrow);
  (void)ep;
  if (connect_ec) {
    ex.fail(reason(connect_ec));
    co_return;
  }
  socket.expires_after(opt.timeout);
  auto [hs_ec] = co_await stream.async_handshake(ssl::stream_base::client, use_nothrow);
  if (hs_ec) {
    ex.fail("TLS handshake failed: " + reason(hs_ec));
    co_return;
  }
  co_await talk(stream, ex);
}

result<http_answer> perform(exchange& ex) {
  const auto& opt = *ex.options;
  std::unique_ptr<ssl::context> tls;
  if (opt.url.tls) {
    tls = std::make_unique<ssl::context>(ssl::context::tls_client);
    boost::system::error_code ec;
    tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                         ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                     ec);
    if (!opt.cacert.empty()) {
      tls->load_verify_file(opt.cacert, ec);
      if (ec) return error{errc::config_error, "cannot use --cacert " + opt.cacert + ": " + reason(ec)};
    } else {
      tls->set_default_verify_paths(ec);
    }
    tls->set_verify_mode(opt.insecure ? ssl::verify_none : ssl::verify_peer);
  }
  asio::io_context ioc;
  asio::co_spawn(ioc, run(ex, tls.get(), ioc.get_executor()), asio::detached);
  try {
    ioc.run();
  } catch (const std::exception& e) {
    return error{errc::io_error, e.what()};
  }
  if (ex.failure) return *ex.failure;
  return std::move(ex.answer);
}

}  // namespace

result<http_answer> http_request(const client_options& options, std::string_view method, const std::string& target) {
  exchange ex;
  ex.options = &options;
  ex.method = http::string_to_verb(method);
  ex.target = target;
  return perform(ex);
}

result<http_answer> http_stream(const client_options& options, const std::string& target,
                                const std::function<void(std::string_view)>& on_data,
                                const std::string& last_event_id) {
  exchange ex;
  ex.options = &options;
  ex.target = target;
  ex.on_data = &on_data;
  ex.last_event_id = last_event_id;
  return perform(ex);
}

}  // namespace sealcast::ctl
