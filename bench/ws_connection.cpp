#include "bench/ws_connection.hpp"

#include <netinet/in.h>

#include <deque>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

namespace sealcast::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);
/// Broker frames can be large (a key frame carries the whole member manifest).
constexpr std::size_t read_message_max = 64u * 1024 * 1024;

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
  explicit impl(const asio::any_io_executor& ex) : ws(ex), wake(ex) {}

  websocket::stream<beast::tcp_stream> ws;
  beast::flat_buffer buffer;
  asio::steady_timer wake;  // the writer parks here; send() and close() cancel it
  std::deque<std::string> queue;
  std::size_t queued = 0;
  bool open = false;
  bool closing = false;
  bool ended = false;
};

ws_connection::ws_connection(asio::any_io_executor executor)
    : executor_(std::move(executor)), impl_(std::make_unique<impl>(executor_)) {}

ws_connection::~ws_connection() = default;

asio::awaitable<std::string> ws_connection::open(ws_target target, std::optional<asio::ip::address> source,
                                                 std::chrono::milliseconds timeout, ws_flavour flavour) {
  auto& i = *impl_;
  auto& stream = beast::get_lowest_layer(i.ws);
  boost::system::error_code ec;
  const auto remote_address = asio::ip::make_address(target.host, ec);
  if (ec) co_return "bad host " + target.host;
  const tcp::endpoint remote(remote_address, target.port);
  stream.socket().open(remote.protocol(), ec);
  if (ec) co_return "socket: " + ec.message();
  if (source) {
    bind_address_no_port(stream.socket());
    stream.socket().bind(tcp::endpoint(*source, 0), ec);
    if (ec) co_return "bind " + source->to_string() + ": " + ec.message();
  }
  stream.expires_after(timeout);
  auto [cec] = co_await stream.async_connect(remote, use_nothrow);
  if (cec) co_return "connect: " + cec.message();
  stream.socket().set_option(tcp::no_delay(true), ec);
  stream.expires_never();

  websocket::stream_base::timeout t{};
  t.handshake_timeout = timeout;
  t.idle_timeout = websocket::stream_base::none();
  t.keep_alive_pings = false;
  i.ws.set_option(t);
  i.ws.read_message_max(read_message_max);
  i.ws.set_option(websocket::stream_base::decorator([subprotocol = flavour.subprotocol](websocket::request_type& req) {
    if (!subprotocol.empty()) req.set(beast::http::field::sec_websocket_protocol, subprotocol);
    req.set(beast::http::field::user_agent, "sealcast-bench");
  }));
  const auto host = target.host + ":" + std::to_string(target.port);
  auto [hec] = co_await i.ws.async_handshake(host, target.path, use_nothrow);
  if (hec) co_return "upgrade: " + hec.message();
  i.ws.binary(flavour.binary);
  i.open = true;
  asio::co_spawn(executor_, writer(shared_from_this()), asio::detached);
  co_return std::string{};
}

asio::awaitable<std::pair<boost::system::error_code, std::string_view>> ws_connection::read() {
  auto& i = *impl_;
  i.buffer.consume(i.buffer.size());
  auto [ec, n] = co_await i.ws.async_read(i.buffer, use_nothrow);
  (void)n;
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
      auto [ec, n] = co_await i.ws.async_write(asio::buffer(i.queue.front()), use_nothrow);
      (void)n;
      i.queued -= i.queue.front().size();
      i.queue.pop_front();
      if (ec) {
        i.open = false;
        i.ended = true;
        co_return;
      }
    } else if (i.closing) {
      auto [ec] = co_await i.ws.async_close(websocket::close_code::normal, use_nothrow);
      (void)ec;  // the reader sees the end
      co_return;
    } else {
      i.wake.expires_at(asio::steady_timer::time_point::max());
      auto [ec] = co_await i.wake.async_wait(use_nothrow);
      (void)ec;  // operation_aborted is the wake-up
    }
  }
}

void ws_connection::send(std::string text) {
  auto& i = *impl_;
  if (!i.open) return;
  i.queued += text.size();
  i.queue.push_back(std::move(text));
  i.wake.cancel();
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
  boost::system::error_code ignored;
  beast::get_lowest_layer(i.ws).socket().shutdown(tcp::socket::shutdown_both, ignored);
  beast::get_lowest_layer(i.ws).socket().close(ignored);
  i.wake.cancel();
}

bool ws_connection::is_open() const noexcept { return impl_->open; }

std::size_t ws_connection::queued_bytes() const noexcept { return impl_->queued; }

}  // namespace sealcast::bench
