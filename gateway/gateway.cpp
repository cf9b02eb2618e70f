// The gateway's listener and the HTTP phase of each client connection: TLS handshake, the
// request that asks for the upgrade (or a health probe), then the hand-off to ws_session.cpp.

#include "gateway/gateway.hpp"

#include <algorithm>
#include <chrono>
#include <string>
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

#include "gateway/detail/net.hpp"
#include "gateway/detail/ws_session.hpp"
#include "common/asio_nothrow.hpp"

namespace sealcast::broker {
namespace {

namespace http = boost::beast::http;
namespace beast = boost::beast;
namespace asio = boost::asio;
using detail::gateway_state;
using tcp = asio::ip::tcp;
using tls_stream = beast::ssl_stream<beast::tcp_stream>;

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
  http_phase(std::shared_ptr<gateway_state> st, Stream&& stream, std::uint64_t id, std::string address)
      : st_(std::move(st)), stream_(std::move(stream)), ex_(stream_.get_executor()), id_(id), address_(std::move(address)) {}
  ~http_phase() override {
    if (!address_.empty()) st_->per_address.on_exchange_end(address_);
  }
  http_phase(const http_phase&) = delete;
  http_phase& operator=(const http_phase&) = delete;

  /// `address` is the address_key the connection is counted under (empty when not counted).
  static void start(std::shared_ptr<gateway_state> st, Stream&& stream, std::string address) {
    const auto id = st->next_id.fetch_add(1, std::memory_order_relaxed);
    auto self = std::make_shared<http_phase>(st, std::move(stream), id, std::move(address));
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
        if (!address_.empty() && !st_->per_address.may_upgrade(address_)) {
          co_await reply(req.version(), false, http::status::service_unavailable,
                         "too many connections from this address\n");
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
  std::string address_;
  bool handed_off_ = false;
};

/// Starts the HTTP phase of an accepted connection (TLS first when configured), or drops it at
/// once when its address already holds twice max_connections_per_address.
void on_accept(const std::shared_ptr<gateway_state>& st, tcp::socket socket) {
  std::string address;
  if (st->options.max_connections_per_address != 0) {
    address = detail::address_key(detail::remote_string(socket));
    if (!address.empty() && !st->per_address.on_accept(address)) {
      boost::system::error_code ignored;
      socket.close(ignored);
      return;
    }
  }
  if (st->tls) {
    http_phase<tls_stream>::start(st, tls_stream(beast::tcp_stream(std::move(socket)), *st->tls), std::move(address));
  } else {
    http_phase<beast::tcp_stream>::start(st, beast::tcp_stream(std::move(socket)), std::move(address));
  }
}

}  // namespace

// -- connections per source address -----------------------------------------------------------

namespace detail {

std::string address_key(std::string_view remote) {
  auto host = remote;
  if (const auto colon = host.rfind(':'); colon != std::string_view::npos) host = host.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  auto a = asio::ip::make_address(std::string(host), ec);
  if (ec) return {};
  if (a.is_v6() && a.to_v6().is_v4_mapped()) a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  if (a.is_v4()) return a.to_string();
  auto b = a.to_v6().to_bytes();
  std::fill(b.begin() + 8, b.end(), 0);
  return asio::ip::address_v6(b).to_string() + "/64";
}

void address_limiter::forget_if_idle(std::unordered_map<std::string, counts>::iterator it) {
  if (it->second.pending == 0 && it->second.open == 0) by_address_.erase(it);
}

bool address_limiter::on_accept(const std::string& key) {
  const std::lock_guard lock(mu_);
  auto& c = by_address_[key];
  if (c.pending + c.open >= 2 * limit_) return false;  // at least limit_ here: the entry existed
  ++c.pending;
  return true;
}

void address_limiter::on_exchange_end(const std::string& key) {
  const std::lock_guard lock(mu_);
  auto it = by_address_.find(key);
  if (it == by_address_.end()) return;
  if (it->second.pending > 0) --it->second.pending;
  forget_if_idle(it);
}

bool address_limiter::may_upgrade(const std::string& key) {
  const std::lock_guard lock(mu_);
  auto it = by_address_.find(key);
  return it == by_address_.end() || it->second.open < limit_;
}

void address_limiter::on_open(std::shared_ptr<connection> conn) {
  const auto key = address_key(conn->remote());
  bool over = false;
  if (!key.empty()) {
    const std::lock_guard lock(mu_);
    auto& c = by_address_[key];
    over = c.open >= limit_;
    if (over) {
      refused_.insert(conn->id());
      refused_count_.store(refused_.size(), std::memory_order_relaxed);
    } else {
      ++c.open;
    }
  }
  if (!over) return inner_.on_open(std::move(conn));
  conn->close(1008, "too many connections from this address");
}

void address_limiter::on_text(const std::shared_ptr<connection>& conn, std::string&& frame) {
  if (refused_count_.load(std::memory_order_relaxed) != 0) {
    const std::lock_guard lock(mu_);
    if (refused_.contains(conn->id())) return;
  }
  inner_.on_text(conn, std::move(frame));
}

void address_limiter::on_close(const std::shared_ptr<connection>& conn, const close_reason& why) {
  const auto key = address_key(conn->remote());
  {
    const std::lock_guard lock(mu_);
    if (refused_.erase(conn->id()) != 0) {
      refused_count_.store(refused_.size(), std::memory_order_relaxed);
      return;  // the handler never saw it open
    }
    if (auto it = by_address_.find(key); !key.empty() && it != by_address_.end()) {
      if (it->second.open > 0) --it->second.open;
      forget_if_idle(it);
    }
  }
  inner_.on_close(conn, why);
}

}  // namespace detail

struct gateway::impl {
  explicit impl(std::shared_ptr<gateway_state> state) : st(std::move(state)), listener(st->contexts(), "gateway") {}
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
  st.live.end_all(std::chrono::milliseconds(st.options.close_timeout_ms) + std::chrono::seconds(1));
  impl_->listener.join();
}

std::size_t gateway::connection_count() const noexcept {
  return impl_->st->ws_count.load(std::memory_order_relaxed);
}

}  // namespace sealcast::broker
