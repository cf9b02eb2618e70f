// The gateway's listener and the HTTP phase of each client connection: TLS handshake, the
// request that asks for the upgrade (or a health probe), then the hand-off to ws_session.cpp.

#include "broker/gateway.hpp"

#include <chrono>
#include <type_traits>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "broker/detail/net.hpp"
#include "broker/detail/ws_session.hpp"

namespace sealcast::broker {
namespace {

namespace http = boost::beast::http;
namespace beast = boost::beast;
namespace asio = boost::asio;
using detail::gateway_state;
using tcp = asio::ip::tcp;
using tls_stream = beast::ssl_stream<beast::tcp_stream>;

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

/// Reserves one of max_connections; false when all are taken.
bool reserve_slot(gateway_state& st) {
  auto n = st.ws_count.load(std::memory_order_relaxed);
  do {
    if (n >= st.options.max_connections) return false;
  } while (!st.ws_count.compare_exchange_weak(n, n + 1, std::memory_order_relaxed));
  return true;
}

/// A connection before (or instead of) its WebSocket upgrade: reads requests, answers health
/// probes and errors, and hands upgrade requests for ws_path to a ws_session.
template <class Stream>
class http_phase final : public detail::closable, public std::enable_shared_from_this<http_phase<Stream>> {
 public:
  http_phase(std::shared_ptr<gateway_state> st, Stream&& stream, std::uint64_t id)
      : st_(std::move(st)), stream_(std::move(stream)), ex_(stream_.get_executor()), id_(id) {}

  static void start(std::shared_ptr<gateway_state> st, Stream&& stream) {
    const auto id = st->next_id.fetch_add(1, std::memory_order_relaxed);
    auto self = std::make_shared<http_phase>(st, std::move(stream), id);
    if (!st->live.add(id, self)) return;  // stopping: the socket closes with `self`
    asio::co_spawn(self->ex_, run(self), asio::detached);
  }

  void shut_down() override { abort(); }
  void abort() override {
    asio::post(ex_, [self = this->shared_from_this()] {
      if (!self->handed_off_) beast::get_lowest_layer(self->stream_).close();
    });
  }

 private:
  static asio::awaitable<void> run(std::shared_ptr<http_phase> self) {
    co_await self->serve();
    if (!self->handed_off_) self->st_->live.remove(self->id_);
  }

  asio::awaitable<void> serve() {
    const auto& opt = st_->options;
    auto& lowest = beast::get_lowest_layer(stream_);
    const auto limit = std::chrono::milliseconds(opt.handshake_timeout_ms);
    lowest.expires_after(limit);
    if constexpr (std::is_same_v<Stream, tls_stream>) {
      auto [ec] = co_await stream_.async_handshake(asio::ssl::stream_base::server, use_nothrow);
      if (ec) co_return;
    }
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(opt.http_header_limit));
      parser.body_limit(opt.http_body_limit);
      lowest.expires_after(limit);
      auto [ec, n] = co_await http::async_read(stream_, buffer, parser, use_nothrow);
      (void)n;
      if (ec == http::error::body_limit || ec == http::error::header_limit) {
        const bool body = ec == http::error::body_limit;
        const auto status = body ? http::status::payload_too_large : http::status::request_header_fields_too_large;
        const std::string_view text = body ? "request body too large\n" : "request header too large\n";
        co_await reply(11, false, status, text);
        break;
      }
      if (ec) co_return;
      auto req = parser.release();
      const std::string_view target = req.target();
      const auto path = target.substr(0, target.find('?'));
      const bool keep = req.keep_alive();
      if (path == opt.ws_path) {
        if (!beast::websocket::is_upgrade(req)) {
          co_await reply(req.version(), false, http::status::upgrade_required, "WebSocket upgrade required\n");
          break;
        }
        if (!reserve_slot(*st_)) {
          co_await reply(req.version(), false, http::status::service_unavailable, "too many connections\n");
          break;
        }
        handed_off_ = true;
        st_->live.remove(id_);
        detail::start_ws_session(st_, std::move(stream_), std::move(req));
        co_return;
      }
      bool ok = false;
      if (path == opt.health_path && req.method() == http::verb::get) {
        ok = co_await reply(req.version(), keep, http::status::ok, "ok\n");
      } else if (path == opt.health_path) {
        ok = co_await reply(req.version(), keep, http::status::method_not_allowed, "method not allowed\n");
      } else {
        ok = co_await reply(req.version(), keep, http::status::not_found, "not found\n");
      }
      if (!ok || !keep) break;
    }
    co_await end();
  }

  /// Writes a small plain-text response; false when the write failed.
  asio::awaitable<bool> reply(unsigned version, bool keep_alive, http::status status, std::string_view body) {
    http::response<http::string_body> res{status, version};
    res.set(http::field::server, "sealcastd");
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    if (status == http::status::method_not_allowed) res.set(http::field::allow, "GET");
    if (status == http::status::upgrade_required) res.set(http::field::upgrade, "websocket");
    res.keep_alive(keep_alive);
    res.body() = body;
    res.prepare_payload();
    auto [ec, n] = co_await http::async_write(stream_, res, use_nothrow);
    (void)n;
    co_return !ec;
  }

  /// Ends the exchange politely: TLS close_notify, or a TCP half-close.
  asio::awaitable<void> end() {
    auto& lowest = beast::get_lowest_layer(stream_);
    if constexpr (std::is_same_v<Stream, tls_stream>) {
      lowest.expires_after(std::chrono::milliseconds(st_->options.close_timeout_ms));
      auto [ec] = co_await stream_.async_shutdown(use_nothrow);
      (void)ec;
    } else {
      beast::error_code ignored;
      lowest.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
    lowest.close();
  }

  std::shared_ptr<gateway_state> st_;
  Stream stream_;
  asio::any_io_executor ex_;  // the strand; stream_ is moved away at the hand-off
  std::uint64_t id_;
  bool handed_off_ = false;
};

/// Starts the HTTP phase of an accepted connection (TLS first when configured).
void on_accept(const std::shared_ptr<gateway_state>& st, tcp::socket socket) {
  if (st->tls) {
    http_phase<tls_stream>::start(st, tls_stream(beast::tcp_stream(std::move(socket)), *st->tls));
  } else {
    http_phase<beast::tcp_stream>::start(st, beast::tcp_stream(std::move(socket)));
  }
}

}  // namespace

struct gateway::impl {
  explicit impl(std::shared_ptr<gateway_state> state) : st(std::move(state)), listener(st->ioc, "gateway") {}
  std::shared_ptr<gateway_state> st;
  detail::listener listener;
  bool started = false;
  bool stopped = false;
};

gateway::gateway(gateway_options options, connection_handler& handler)
    : impl_(std::make_unique<impl>(std::make_shared<gateway_state>(std::move(options), handler))) {}

gateway::~gateway() { stop(); }

result<endpoint> gateway::start() {
  auto& st = *impl_->st;
  if (impl_->started) return error{errc::internal, "gateway already started"};
  const auto& opt = st.options;
  auto at = detail::parse_listen(opt.listen);
  if (!at) return std::move(at).err();
  auto tls = detail::load_tls(opt.tls_cert, opt.tls_key, "gateway");
  if (!tls) return std::move(tls).err();
  st.tls = std::move(*tls);
  auto bound = impl_->listener.start(*at, opt.io_threads,
                                     [state = impl_->st](tcp::socket s) { on_accept(state, std::move(s)); });
  if (bound) impl_->started = true;
  return bound;
}

void gateway::stop() {
  if (!impl_->started || impl_->stopped) return;
  impl_->stopped = true;
  auto& st = *impl_->st;
  st.live.begin_stop();
  impl_->listener.close_acceptor();
  st.live.for_each(false);
  const auto grace = std::chrono::milliseconds(st.options.close_timeout_ms) + std::chrono::seconds(1);
  if (!st.live.wait_idle(grace)) {
    st.live.for_each(true);
    (void)st.live.wait_idle(std::chrono::seconds(1));
  }
  impl_->listener.join();
}

std::size_t gateway::connection_count() const noexcept {
  return impl_->st->ws_count.load(std::memory_order_relaxed);
}

}  // namespace sealcast::broker
