#include "client/connection.hpp"

#include <netinet/in.h>

#include <deque>
#include <optional>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "common/asio_nothrow.hpp"
#include "common/detail/coroutine_frame_warning.hpp"

namespace sealcast::client::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

/// Broker frames can be large (a key frame carries the whole member manifest, a fetch reply
/// many messages).
constexpr std::size_t read_message_max = 64u * 1024 * 1024;

using plain_ws = websocket::stream<beast::tcp_stream>;
using tls_ws = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

/// Linux: do not reserve the ephemeral port at bind() time, only at connect(), so that the
/// 4-tuple (not the source address alone) has to be unique.
void bind_address_no_port(tcp::socket& s) {
#ifdef IP_BIND_ADDRESS_NO_PORT
  int one = 1;
  (void)::setsockopt(s.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
#else
  (void)s;
#endif
}

}  // namespace

struct ws_connection::impl {
  explicit impl(const asio::any_io_executor& ex) : wake(ex) {}

  std::optional<ssl::context> ssl_ctx;  // wss:// only (made lazily: the bench opens many plain ones)
  std::optional<plain_ws> plain;
  std::optional<tls_ws> secure;
  beast::flat_buffer buffer;
  asio::steady_timer wake;  // the writer parks here; send() and close() cancel it
  std::deque<std::string> queue;
  std::size_t queued = 0;  // bytes in queue
  bool open = false;
  bool closing = false;
  bool ended = false;

  beast::tcp_stream& lowest() {
    return plain ? beast::get_lowest_layer(*plain) : beast::get_lowest_layer(*secure);
  }
};

ws_connection::ws_connection(asio::any_io_executor executor)
    : executor_(std::move(executor)), impl_(std::make_unique<impl>(executor_)) {}

ws_connection::~ws_connection() = default;

namespace {

template <class WS>
asio::awaitable<std::string> upgrade(WS& ws, const ws_url& url, std::chrono::milliseconds timeout,
                                     const connect_options& o) {
  websocket::stream_base::timeout t{};
  t.handshake_timeout = timeout;
  t.idle_timeout = websocket::stream_base::none();
  t.keep_alive_pings = false;
  ws.set_option(t);
  ws.read_message_max(read_message_max);
  ws.set_option(websocket::stream_base::decorator(
      [subprotocol = o.subprotocol, agent = o.user_agent](websocket::request_type& req) {
        if (!subprotocol.empty()) req.set(beast::http::field::sec_websocket_protocol, subprotocol);
        req.set(beast::http::field::user_agent, agent);
      }));
  const bool v6 = url.host.find(':') != std::string::npos;
  const auto host = (v6 ? "[" + url.host + "]" : url.host) + ":" + std::to_string(url.port);
  websocket::response_type res;
  auto [ec] = co_await ws.async_handshake(res, host, url.path, use_nothrow);
  if (ec) {
    if (ec == websocket::error::upgrade_declined)
      co_return "upgrade refused with HTTP " + std::to_string(res.result_int()) + " (is " + url.path +
          " a Sealcast WebSocket endpoint?)";
    co_return "websocket upgrade: " + ec.message();
  }
  ws.binary(o.binary);
  co_return std::string{};
}

}  // namespace

asio::awaitable<std::string> ws_connection::open(ws_url url, tls_settings tls, std::chrono::milliseconds timeout) {
  const connect_options o;  // named: see the header
  co_return co_await open(std::move(url), std::move(tls), timeout, o);
}

asio::awaitable<std::string> ws_connection::open(ws_url url, tls_settings tls, std::chrono::milliseconds timeout,
                                                 connect_options o) {
  auto& i = *impl_;
  std::vector<tcp::endpoint> endpoints;
  boost::system::error_code aec;
  const auto literal = asio::ip::make_address(url.host, aec);
  if (!aec) {
    endpoints.emplace_back(literal, url.port);  // an address: no resolver round trip
  } else {
    tcp::resolver resolver(executor_);
    // The resolver has no timeout of its own; a timer cancels it.
    asio::steady_timer guard(executor_);
    guard.expires_after(timeout);
    guard.async_wait([&resolver](const boost::system::error_code& ec) {
      if (!ec) resolver.cancel();
    });
    auto [rec, results] = co_await resolver.async_resolve(url.host, std::to_string(url.port), use_nothrow);
    guard.cancel();
    if (rec) co_return "cannot resolve " + url.host + ": " + rec.message();
    for (const auto& r : results) endpoints.push_back(r.endpoint());
    if (endpoints.empty()) co_return "cannot resolve " + url.host + ": no addresses";
  }

  if (url.tls) {
    boost::system::error_code ec;
    auto& ctx = i.ssl_ctx.emplace(ssl::context::tls_client);
    if (tls.verify) {
      ctx.set_verify_mode(ssl::verify_peer, ec);
      if (tls.ca_file.empty())
        ctx.set_default_verify_paths(ec);
      else
        ctx.load_verify_file(tls.ca_file, ec);
      if (ec) co_return "tls: cannot load CA certificates " + tls.ca_file + ": " + ec.message();
      ctx.set_verify_callback(ssl::host_name_verification(url.host), ec);
    } else {
      ctx.set_verify_mode(ssl::verify_none, ec);
    }
    i.secure.emplace(executor_, ctx);
  } else {
    i.plain.emplace(executor_);
  }
  auto& stream = i.lowest();
  stream.expires_after(timeout);  // one deadline for all the addresses tried
  std::string failure = "no address to connect to";
  bool connected = false;
  for (const auto& ep : endpoints) {
    auto& sock = stream.socket();
    boost::system::error_code ec;
    if (sock.is_open()) sock.close(ec);
    sock.open(ep.protocol(), ec);
    if (ec) {
      failure = "socket: " + ec.message();
      continue;
    }
    if (o.source) {
      if (o.source->is_v4() != ep.address().is_v4()) {
        failure = "source address " + o.source->to_string() + " cannot reach " + ep.address().to_string();
        continue;
      }
      bind_address_no_port(sock);
      sock.bind(tcp::endpoint(*o.source, 0), ec);
      if (ec) {
        failure = "bind " + o.source->to_string() + ": " + ec.message();
        continue;
      }
    }
    auto [cec] = co_await stream.async_connect(ep, use_nothrow);
    if (!cec) {
      connected = true;
      break;
    }
    failure = cec.message();
    if (cec == beast::error::timeout) break;
  }
  if (!connected) co_return "cannot connect to " + url.host + ":" + std::to_string(url.port) + ": " + failure;
  boost::system::error_code ignored;
  stream.socket().set_option(tcp::no_delay(true), ignored);

  std::string err;
  if (url.tls) {
    auto& ssl_stream = i.secure->next_layer();
    // SSL_set_tlsext_host_name() without its C cast.
    if (SSL_ctrl(ssl_stream.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 static_cast<void*>(const_cast<char*>(url.host.c_str()))) != 1)
      co_return "tls: cannot set SNI host name";
    auto [hec] = co_await ssl_stream.async_handshake(ssl::stream_base::client, use_nothrow);
    if (hec) co_return "tls handshake: " + hec.message();
    stream.expires_never();
    err = co_await upgrade(*i.secure, url, timeout, o);
  } else {
    stream.expires_never();
    err = co_await upgrade(*i.plain, url, timeout, o);
  }
  if (!err.empty()) co_return err;
  i.open = true;
  asio::co_spawn(executor_, writer(shared_from_this()), asio::detached);
  co_return std::string{};
}

asio::awaitable<std::pair<boost::system::error_code, std::string_view>> ws_connection::read() {
  auto& i = *impl_;
  i.buffer.consume(i.buffer.size());
  boost::system::error_code ec;
  if (i.plain) {
    auto [e, n] = co_await i.plain->async_read(i.buffer, use_nothrow);
    (void)n;
    ec = e;
  } else if (i.secure) {
    auto [e, n] = co_await i.secure->async_read(i.buffer, use_nothrow);
    (void)n;
    ec = e;
  } else {
    ec = asio::error::not_connected;
  }
  if (ec) {
    i.open = false;
    i.ended = true;
    i.wake.cancel();
    co_return std::pair{ec, std::string_view{}};
  }
  const auto data = i.buffer.cdata();
  co_return std::pair{ec, std::string_view(static_cast<const char*>(data.data()), data.size())};
}

asio::awaitable<void> ws_connection::writer(std::shared_ptr<ws_connection> self) {
  auto& i = *self->impl_;
  while (!i.ended) {
    if (!i.queue.empty()) {
      // The frame stays at the front (and alive) while it is written.
      boost::system::error_code ec;
      if (i.plain) {
        auto [e, n] = co_await i.plain->async_write(asio::buffer(i.queue.front()), use_nothrow);
        (void)n;
        ec = e;
      } else {
        auto [e, n] = co_await i.secure->async_write(asio::buffer(i.queue.front()), use_nothrow);
        (void)n;
        ec = e;
      }
      if (!i.queue.empty()) {
        i.queued -= i.queue.front().size();
        i.queue.pop_front();
      }
      if (ec) {
        i.open = false;
        i.ended = true;
        co_return;
      }
    } else if (i.closing) {
      websocket::close_reason cr(websocket::close_code::normal);
      if (i.plain) {
        auto [ec] = co_await i.plain->async_close(cr, use_nothrow);
        (void)ec;  // the reader sees the end
      } else {
        auto [ec] = co_await i.secure->async_close(cr, use_nothrow);
        (void)ec;
      }
      co_return;
    } else {
      i.wake.expires_at(asio::steady_timer::time_point::max());
      auto [ec] = co_await i.wake.async_wait(use_nothrow);
      (void)ec;  // operation_aborted is the wake-up
    }
  }
}

bool ws_connection::send(std::string text) {
  auto& i = *impl_;
  if (!i.open) return false;
  i.queued += text.size();
  i.queue.push_back(std::move(text));
  i.wake.cancel();
  return true;
}

void ws_connection::close() {
  auto& i = *impl_;
  if (!i.open) return;
  i.open = false;
  i.closing = true;
  i.wake.cancel();
}

void ws_connection::abort() {
  auto& i = *impl_;
  i.open = false;
  i.ended = true;
  if (i.plain || i.secure) {
    boost::system::error_code ignored;
    i.lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    i.lowest().socket().close(ignored);
  }
  i.wake.cancel();
}

bool ws_connection::is_open() const noexcept { return impl_->open; }

std::string ws_connection::close_reason() const {
  const auto& i = *impl_;
  websocket::close_reason r;
  if (i.plain)
    r = i.plain->reason();
  else if (i.secure)
    r = i.secure->reason();
  if (r.code == websocket::close_code::none) return {};
  return std::to_string(static_cast<unsigned>(r.code)) + (r.reason.empty() ? "" : " " + std::string(r.reason.data(), r.reason.size()));
}

std::size_t ws_connection::queued_bytes() const noexcept { return impl_->queued; }

}  // namespace sealcast::client::detail
