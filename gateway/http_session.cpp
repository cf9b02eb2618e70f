// One admin HTTP connection: reads requests one at a time (keep-alive), routes them, waits on a
// timer for the handler's answer (which may come from any thread), writes it; or switches to an
// event stream whose chunks are written as they arrive.

#include <algorithm>
#include <cctype>
#include <chrono>
#include <optional>
#include <type_traits>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>
#include <openssl/crypto.h>

#include "gateway/detail/http_exchange.hpp"
#include "gateway/detail/http_server_state.hpp"
#include "gateway/detail/net.hpp"
#include "common/asio_nothrow.hpp"
#include "common/log.hpp"

namespace sealcast::broker::detail {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tls_stream = beast::ssl_stream<beast::tcp_stream>;

outcome plain(unsigned status, std::string body) {
  return outcome{status, "text/plain; charset=utf-8", std::move(body), {}, nullptr};
}

/// An error answer of the API: `{"error": message}`, with `"code"` when the refusal has one a
/// program can test. The messages and codes are fixed text, no escaping.
outcome json_error(unsigned status, std::string_view message, std::string_view code = {}) {
  std::string body = "{\"error\":\"" + std::string(message) + "\"";
  if (!code.empty()) body += ",\"code\":\"" + std::string(code) + "\"";
  return outcome{status, "application/json", body + "}\n", {}, nullptr};
}

/// GET, HEAD and OPTIONS change nothing; every other method may.
bool is_state_changing(std::string_view method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

/// The values of every header named `name` (case-insensitive), in order.
std::vector<std::string_view> header_values(const http_request& req, std::string_view name) {
  std::vector<std::string_view> out;
  for (const auto& [key, value] : req.headers) {
    if (key.size() == name.size() &&
        std::equal(key.begin(), key.end(), name.begin(),
                   [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; }))
      out.emplace_back(value);
  }
  return out;
}

/// True when the request has exactly one Host header and host_allow_list accepts it.
bool host_allowed(const http_request& req, const host_allow_list& hosts, std::uint16_t local_port) {
  const auto values = header_values(req, "host");
  return values.size() == 1 && hosts.host_allowed(values.front(), local_port);
}

/// Why a state-changing request must be refused as coming from another site's page, or "" when
/// it may go on. Requests without Origin and Sec-Fetch-Site (curl, sealcastctl) go on; browsers
/// send at least one of them on every cross-origin POST.
std::string_view cross_site_refusal(const http_request& req, const host_allow_list& hosts) {
  for (const auto site : header_values(req, "sec-fetch-site")) {
    // same-site is another origin of the same site (another port of localhost, say); none is a
    // request the user started (typed, bookmarked), which no page can forge.
    if (site != "same-origin" && site != "none")
      return "a state-changing request from another site's page is refused (Sec-Fetch-Site)";
  }
  const auto host = req.header("host").value_or(std::string_view{});
  for (const auto origin : header_values(req, "origin")) {
    if (!hosts.origin_allowed(origin, host)) return "a state-changing request from another origin is refused (Origin)";
  }
  return {};
}

/// The path of a request target split on '/' without decoding anything: enough to decide
/// whether the route needs the token before the target is validated.
std::vector<std::string> raw_segments(std::string_view target) {
  target = target.substr(0, target.find_first_of("?#"));
  return http_router::split(target);
}

/// Constant-time check of "Authorization: Bearer <token>".
bool authorized(const http_request& req, const std::string& token) {
  const auto value = req.header("authorization");
  const std::string expected = "Bearer " + token;
  return value && value->size() == expected.size() && CRYPTO_memcmp(value->data(), expected.data(), expected.size()) == 0;
}

template <class Stream>
class http_session final : public response_sink,
                           public closable,
                           public std::enable_shared_from_this<http_session<Stream>> {
 public:
  http_session(std::shared_ptr<http_server_state> st, Stream&& stream, std::uint64_t id, std::string remote,
               std::uint16_t local_port)
      : st_(std::move(st)), stream_(std::move(stream)), wake_(stream_.get_executor()), id_(id),
        remote_(std::move(remote)), local_port_(local_port) {}

  void start() { asio::co_spawn(stream_.get_executor(), run(this->shared_from_this()), asio::detached); }

  void deliver(std::uint64_t seq, outcome o) override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this(), seq, o = std::move(o)]() mutable {
      if (seq != self->seq_ || self->outcome_) return;  // a late answer to an earlier request
      self->outcome_ = std::move(o);
      self->wake_.cancel();
    });
  }

  void push_chunk(std::string chunk) override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this(), c = std::move(chunk)]() mutable {
      if (self->ended_) return;
      self->chunks_.push_back(std::move(c));
      self->wake_.cancel();
    });
  }

  void end_stream(bool hard) override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this(), hard] {
      self->ending_ = true;
      if (hard) self->drop();
      self->wake_.cancel();
    });
  }

  void shut_down() override { end_stream(true); }
  void abort() override { end_stream(true); }

 private:
  static asio::awaitable<void> run(std::shared_ptr<http_session> self) {
    co_await self->serve();
    self->ended_ = true;
    self->chunks_.clear();
    if (self->sse_) self->sse_->mark_closed();
    self->st_->live.remove(self->id_);
    self->st_->count.fetch_sub(1, std::memory_order_relaxed);
  }

  asio::awaitable<void> serve() {
    const auto& opt = st_->options;
    auto& lowest = beast::get_lowest_layer(stream_);
    const auto timeout = std::chrono::milliseconds(opt.read_timeout_ms);
    lowest.expires_after(timeout);
    if constexpr (std::is_same_v<Stream, tls_stream>) {
      auto [ec] = co_await stream_.async_handshake(asio::ssl::stream_base::server, use_nothrow);
      if (ec) co_return;
    }
    beast::flat_buffer buffer;
    while (!ending_) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(opt.header_limit));
      parser.body_limit(opt.body_limit);
      lowest.expires_after(timeout);
      auto [ec, n] = co_await http::async_read(stream_, buffer, parser, use_nothrow);
      (void)n;
      if (ec == http::error::body_limit || ec == http::error::header_limit) {
        // Built outside the co_await: GCC 12 mishandles temporaries of a ?: inside co_await.
        outcome refusal = ec == http::error::body_limit ? plain(413, "request body too large\n")
                                                        : plain(431, "request header too large\n");
        co_await write(std::move(refusal), 11, false);
        break;
      }
      if (ec) break;
      auto msg = parser.release();
      const unsigned version = msg.version();
      const bool keep = msg.keep_alive();
      co_await handle(std::move(msg));
      outcome o = std::move(*outcome_);
      outcome_.reset();
      if (o.stream) {
        co_await stream(std::move(o), version);
        break;
      }
      if (!co_await write(std::move(o), version, keep) || !keep) break;
    }
    co_await end();
  }

  /// Routes one request and waits until outcome_ holds its answer.
  asio::awaitable<void> handle(http::request<http::string_body> msg) {
    ++seq_;
    http_request req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    req.remote = remote_;
    for (const auto& field : msg) req.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));

    // Before the token: a page that reaches this listener under another site's name (DNS
    // rebinding) or posts to it from another site is refused whatever credentials it holds.
    // Probes answer every Host: they reveal nothing and orchestrators address them by IP.
    const auto raw = st_->router.find(req.method, raw_segments(req.target));
    if (!raw.any_host && !host_allowed(req, st_->hosts, local_port_)) {
      log::info("admin", "request for a foreign Host refused",
                {{"peer", remote_}, {"host", std::string(req.header("host").value_or("(none)").substr(0, 128))}});
      outcome_ = json_error(421,
                            "this server does not answer for that Host; use a loopback name, the listen address "
                            "or a name in admin.allowed_hosts",
                            "forbidden_host");
      co_return;
    }
    if (is_state_changing(req.method)) {
      if (const auto why = cross_site_refusal(req, st_->hosts); !why.empty()) {
        log::info("admin", "cross-site request refused",
                  {{"peer", remote_},
                   {"origin", std::string(req.header("origin").value_or("(none)").substr(0, 128))},
                   {"sec_fetch_site", std::string(req.header("sec-fetch-site").value_or("(none)").substr(0, 32))}});
        outcome_ = json_error(403, why, "forbidden_origin");
        co_return;
      }
    }

    // The token first: a caller without it learns nothing, not even whether its target parses.
    // Only a route that is known not to need the token (a probe) skips the check.
    const auto& token = st_->options.admin_token;
    if (!token.empty() && raw.needs_token && !authorized(req, token)) {
      outcome_ = plain(401, "unauthorized\n");
      outcome_->headers.emplace_back("WWW-Authenticate", "Bearer");
      co_return;
    }
    const auto url = boost::urls::parse_origin_form(msg.target());
    if (!url) {
      outcome_ = json_error(400, "bad request target");
      co_return;
    }
    req.path = url->path();
    std::vector<std::string> segments;
    for (auto segment : url->segments()) segments.push_back(std::move(segment));
    for (auto param : url->params()) req.query.emplace_back(std::move(param.key), std::move(param.value));
    req.body = std::move(msg.body());

    auto match = st_->router.find(req.method, segments);
    if (!token.empty() && match.needs_token && !authorized(req, token)) {
      outcome_ = plain(401, "unauthorized\n");  // the decoded path names a protected route
      outcome_->headers.emplace_back("WWW-Authenticate", "Bearer");
      co_return;
    }
    if (!match.handler) {
      outcome_ = match.path_known ? json_error(405, "method not allowed") : json_error(404, "not found");
      if (match.path_known) outcome_->headers.emplace_back("Allow", match.allow);
      co_return;
    }
    req.params = std::move(match.params);
    try {
      (*match.handler)(req, responder(std::make_shared<http_exchange>(this->shared_from_this(), seq_,
                                                                      st_->options.stream_queue_bytes)));
    } catch (const std::exception& e) {
      log::error("admin", "handler threw", {{"path", req.path}, {"what", e.what()}});
    }
    wake_.expires_after(std::chrono::milliseconds(st_->options.handler_timeout_ms));
    while (!outcome_) {
      auto [ec] = co_await wake_.async_wait(use_nothrow);
      if (!ec && !outcome_) outcome_ = plain(504, "handler timed out\n");
      if (ending_ && !outcome_) outcome_ = plain(503, "shutting down\n");
    }
  }

  /// Writes a complete response; false when the write failed.
  asio::awaitable<bool> write(outcome o, unsigned version, bool keep_alive) {
    http::response<http::string_body> res;
    res.version(version);
    res.result(o.status >= 100 && o.status <= 999 ? o.status : 500);
    res.set(http::field::server, "sealcastd");
    if (!o.content_type.empty()) res.set(http::field::content_type, o.content_type);
    for (const auto& [name, value] : o.headers) res.set(name, value);
    res.keep_alive(keep_alive);
    res.body() = std::move(o.body);
    res.prepare_payload();
    beast::get_lowest_layer(stream_).expires_after(std::chrono::milliseconds(st_->options.read_timeout_ms));
    auto [ec, n] = co_await http::async_write(stream_, res, use_nothrow);
    (void)n;
    co_return !ec;
  }

  /// Serves an event stream until either side ends it.
  asio::awaitable<void> stream(outcome o, unsigned version) {
    sse_ = o.stream;
    http::response<http::empty_body> res{http::status::ok, version};
    res.set(http::field::server, "sealcastd");
    res.set(http::field::content_type, "text/event-stream");
    res.set(http::field::cache_control, "no-cache");
    for (const auto& [name, value] : o.headers) res.set(name, value);
    res.keep_alive(false);  // the body runs until the connection closes
    auto& lowest = beast::get_lowest_layer(stream_);
    const auto timeout = std::chrono::milliseconds(st_->options.read_timeout_ms);
    lowest.expires_after(timeout);
    auto [ec, n] = co_await http::async_write(stream_, res, use_nothrow);
    (void)n;
    if (ec) co_return;
    lowest.expires_never();
    asio::co_spawn(stream_.get_executor(), watch_peer(this->shared_from_this()), asio::detached);
    while (!ended_) {
      if (!chunks_.empty()) {
        std::string out;
        for (auto& c : chunks_) out += c;
        chunks_.clear();
        lowest.expires_after(timeout);  // a reader that never drains is dropped
        auto [wec, wn] = co_await asio::async_write(stream_, asio::buffer(out), use_nothrow);
        (void)wn;
        sse_->written(out.size());
        if (wec) break;
        continue;
      }
      if (ending_) break;
      wake_.expires_at(asio::steady_timer::time_point::max());
      auto [wait_ec] = co_await wake_.async_wait(use_nothrow);
      (void)wait_ec;
    }
    sse_->mark_closed();
  }

  /// Notices the client going away while a stream is open (any bytes it sends are ignored).
  static asio::awaitable<void> watch_peer(std::shared_ptr<http_session> self) {
    char scratch[64];
    for (;;) {
      auto [ec, n] = co_await self->stream_.async_read_some(asio::buffer(scratch), use_nothrow);
      (void)n;
      if (ec) break;
    }
    self->ended_ = true;
    if (self->sse_) self->sse_->mark_closed();
    self->wake_.cancel();
  }

  asio::awaitable<void> end() {
    auto& lowest = beast::get_lowest_layer(stream_);
    if constexpr (std::is_same_v<Stream, tls_stream>) {
      if (lowest.socket().is_open()) {
        lowest.expires_after(std::chrono::seconds(2));
        auto [ec] = co_await stream_.async_shutdown(use_nothrow);
        (void)ec;
      }
    } else {
      beast::error_code ignored;
      lowest.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    }
    lowest.close();
  }

  void drop() {
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(stream_).close();
  }

  std::shared_ptr<http_server_state> st_;
  Stream stream_;
  asio::steady_timer wake_;  // parks the session while a handler answers or a stream idles
  std::uint64_t id_;
  std::string remote_;
  std::uint16_t local_port_;  // the port the connection arrived on (the bound one when listen had 0)
  std::uint64_t seq_ = 0;  // number of the request being answered
  std::optional<outcome> outcome_;
  std::shared_ptr<sse_stream> sse_;
  std::vector<std::string> chunks_;
  bool ending_ = false;  // stop() or the stream's close(): finish up
  bool ended_ = false;   // the connection is over
};

template <class Stream>
void start(std::shared_ptr<http_server_state> st, Stream&& stream, std::string remote, std::uint16_t local_port) {
  const auto id = st->next_id.fetch_add(1, std::memory_order_relaxed);
  auto session = std::make_shared<http_session<Stream>>(st, std::move(stream), id, std::move(remote), local_port);
  if (!st->live.add(id, session)) {
    st->count.fetch_sub(1, std::memory_order_relaxed);
    return;  // stopping: the socket closes with the session
  }
  session->start();
}

}  // namespace

void start_http_session(std::shared_ptr<http_server_state> state, asio::ip::tcp::socket socket) {
  auto n = state->count.load(std::memory_order_relaxed);
  do {
    if (n >= state->options.max_connections) return;  // the socket closes here
  } while (!state->count.compare_exchange_weak(n, n + 1, std::memory_order_relaxed));
  beast::error_code ignored;
  socket.set_option(asio::ip::tcp::no_delay(true), ignored);
  auto remote = remote_string(socket);
  const auto local = socket.local_endpoint(ignored);
  const std::uint16_t local_port = ignored ? 0 : local.port();
  if (state->tls) {
    auto& ctx = *state->tls;
    start(std::move(state), tls_stream(beast::tcp_stream(std::move(socket)), ctx), std::move(remote), local_port);
  } else {
    start(std::move(state), beast::tcp_stream(std::move(socket)), std::move(remote), local_port);
  }
}

}  // namespace sealcast::broker::detail
