#include "tests/support/ws_client.hpp"

#include <algorithm>
#include <cctype>
#include <deque>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

namespace sealcast::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using tls_stream = beast::ssl_stream<beast::tcp_stream>;
using steady = std::chrono::steady_clock;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

/// Runs the io_context until `done()` or the timeout; true when done.
template <class Pred>
bool run_until(asio::io_context& ioc, Pred done, std::chrono::milliseconds timeout) {
  const auto deadline = steady::now() + timeout;
  while (!done()) {
    if (ioc.stopped()) ioc.restart();
    if (steady::now() >= deadline) return false;
    if (ioc.run_one_until(deadline) == 0 && ioc.stopped() && !done()) {
      ioc.restart();
      if (ioc.poll_one() == 0) return false;  // nothing outstanding: it will never be done
    }
  }
  return true;
}

ssl::context& client_tls() {
  static ssl::context ctx = [] {
    ssl::context c(ssl::context::tls_client);
    c.set_verify_mode(ssl::verify_none);
    return c;
  }();
  return ctx;
}

tcp::endpoint resolve(const std::string& host, std::uint16_t port) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  return tcp::endpoint(ec ? asio::ip::make_address("127.0.0.1") : address, port);
}

/// Connects the lowest layer and, for TLS, shakes hands; "" or an error message.
template <class Stream>
std::string open_stream(asio::io_context& ioc, Stream& stream, const std::string& host, std::uint16_t port,
                        std::chrono::milliseconds timeout) {
  auto& lowest = beast::get_lowest_layer(stream);
  boost::system::error_code ec;
  bool done = false;
  lowest.expires_after(timeout);
  lowest.async_connect(resolve(host, port), [&](boost::system::error_code e) { ec = e; done = true; });
  if (!run_until(ioc, [&] { return done; }, timeout)) return "connect timed out";
  if (ec) return "connect: " + ec.message();
  // Tests send small frames back to back; Nagle plus delayed ACKs would add 40 ms to each.
  lowest.socket().set_option(tcp::no_delay(true), ec);
  if constexpr (std::is_same_v<Stream, tls_stream>) {
    done = false;
    stream.async_handshake(ssl::stream_base::client, [&](boost::system::error_code e) { ec = e; done = true; });
    if (!run_until(ioc, [&] { return done; }, timeout)) return "TLS handshake timed out";
    if (ec) return "TLS handshake: " + ec.message();
  }
  lowest.expires_never();
  return {};
}

template <class Stream>
Stream make_stream(asio::io_context& ioc) {
  if constexpr (std::is_same_v<Stream, tls_stream>) {
    return Stream(ioc, client_tls());
  } else {
    return Stream(ioc);
  }
}

}  // namespace

// --- WebSocket -------------------------------------------------------------------------------

struct ws_client::impl {
  virtual ~impl() = default;
  virtual bool write(std::string_view data, bool text, std::chrono::milliseconds timeout) = 0;
  virtual void start_read() = 0;
  virtual void send_close(std::uint16_t code, std::chrono::milliseconds timeout) = 0;

  asio::io_context ioc{1};
  std::deque<std::string> inbox;
  bool reading = false;
  bool ended = false;
  std::uint16_t code = 0;
  std::string reason;
  std::string subprotocol;
  std::string error;
};

namespace {

template <class Stream>
struct ws_impl final : ws_client::impl {
  ws_impl() : ws(make_stream<Stream>(ioc)) {}

  bool write(std::string_view data, bool text, std::chrono::milliseconds timeout) override {
    bool done = false;
    boost::system::error_code ec;
    ws.text(text);
    ws.async_write(asio::buffer(data), [&](boost::system::error_code e, std::size_t) { ec = e; done = true; });
    return run_until(ioc, [&] { return done; }, timeout) && !ec;
  }

  void start_read() override {
    reading = true;
    ws.async_read(buffer, [this](boost::system::error_code ec, std::size_t) {
      reading = false;
      if (ec) {
        ended = true;
        error = ec.message();
        // The close frame may have arrived even if answering it failed (a server that drops the
        // socket right after its close frame, as Beast does after 1009, makes the answer fail).
        if (ec == websocket::error::closed || ws.reason().code != 0) {
          code = ws.reason().code;
          reason.assign(ws.reason().reason.data(), ws.reason().reason.size());
        }
        return;
      }
      inbox.push_back(beast::buffers_to_string(buffer.data()));
      buffer.consume(buffer.size());
    });
  }

  void send_close(std::uint16_t c, std::chrono::milliseconds timeout) override {
    bool done = false;
    ws.async_close(websocket::close_reason(static_cast<websocket::close_code>(c)),
                   [&](boost::system::error_code) { done = true; });
    run_until(ioc, [&] { return done; }, timeout);
  }

  websocket::stream<Stream> ws;
  beast::flat_buffer buffer;
};

template <class Stream>
std::unique_ptr<ws_client::impl> connect_ws(const ws_options& o, std::string* error, int* http_status) {
  auto p = std::make_unique<ws_impl<Stream>>();
  if (auto e = open_stream(p->ioc, p->ws.next_layer(), o.host, o.port, o.timeout); !e.empty()) {
    if (error) *error = e;
    return nullptr;
  }
  websocket::stream_base::timeout t{o.timeout, websocket::stream_base::none(), false};
  p->ws.set_option(t);
  std::string offered;
  for (const auto& s : o.subprotocols) offered += (offered.empty() ? "" : ", ") + s;
  p->ws.set_option(websocket::stream_base::decorator([offered](websocket::request_type& req) {
    if (!offered.empty()) req.set(http::field::sec_websocket_protocol, offered);
  }));
  websocket::response_type res;
  bool done = false;
  boost::system::error_code ec;
  const auto host = o.host + ":" + std::to_string(o.port);
  p->ws.async_handshake(res, host, o.path, [&](boost::system::error_code e) { ec = e; done = true; });
  if (!run_until(p->ioc, [&] { return done; }, o.timeout)) {
    if (error) *error = "upgrade timed out";
    return nullptr;
  }
  if (ec) {
    if (error) *error = "upgrade: " + ec.message();
    if (http_status) *http_status = static_cast<int>(res.result_int());
    return nullptr;
  }
  if (http_status) *http_status = static_cast<int>(res.result_int());
  p->subprotocol = std::string(res[http::field::sec_websocket_protocol]);
  return p;
}

}  // namespace

ws_client::ws_client(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
ws_client::~ws_client() = default;

std::unique_ptr<ws_client> ws_client::connect(const ws_options& options, std::string* error, int* http_status) {
  auto p = options.tls ? connect_ws<tls_stream>(options, error, http_status)
                       : connect_ws<beast::tcp_stream>(options, error, http_status);
  if (!p) return nullptr;
  return std::unique_ptr<ws_client>(new ws_client(std::move(p)));
}

bool ws_client::send_text(std::string_view text, std::chrono::milliseconds timeout) {
  return !impl_->ended && impl_->write(text, true, timeout);
}

bool ws_client::send_binary(std::string_view data, std::chrono::milliseconds timeout) {
  return !impl_->ended && impl_->write(data, false, timeout);
}

std::optional<std::string> ws_client::read_text(std::chrono::milliseconds timeout) {
  auto& i = *impl_;
  if (i.inbox.empty() && !i.ended && !i.reading) i.start_read();
  run_until(i.ioc, [&] { return !i.inbox.empty() || i.ended; }, timeout);
  if (i.inbox.empty()) return std::nullopt;
  auto message = std::move(i.inbox.front());
  i.inbox.pop_front();
  return message;
}

std::uint16_t ws_client::wait_close(std::chrono::milliseconds timeout) {
  const auto deadline = steady::now() + timeout;
  while (!impl_->ended && steady::now() < deadline) {
    (void)read_text(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()));
  }
  return impl_->ended ? impl_->code : 0;
}

void ws_client::close(std::uint16_t code) {
  if (impl_->ended) return;
  impl_->send_close(code, 2s);
  (void)wait_close(2s);
}

bool ws_client::closed() const { return impl_->ended; }
std::uint16_t ws_client::close_code() const { return impl_->code; }
std::string ws_client::close_reason() const { return impl_->reason; }
std::string ws_client::subprotocol() const { return impl_->subprotocol; }
std::string ws_client::error() const { return impl_->error; }

// --- HTTP ------------------------------------------------------------------------------------

std::string http_result::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) return v;
  }
  return {};
}

namespace {

http_result to_result(const http::response<http::string_body>& res) {
  http_result r;
  r.status = static_cast<int>(res.result_int());
  for (const auto& f : res) r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  r.body = res.body();
  return r;
}

template <class Stream>
http_result exchange(asio::io_context& ioc, Stream& stream, beast::flat_buffer& buffer,
                     http::request<http::string_body>& req, std::chrono::milliseconds timeout) {
  http_result r;
  boost::system::error_code ec;
  bool done = false;
  http::async_write(stream, req, [&](boost::system::error_code e, std::size_t) { ec = e; done = true; });
  if (!run_until(ioc, [&] { return done; }, timeout) || ec) {
    r.error = "write failed: " + ec.message();
    return r;
  }
  http::response<http::string_body> res;
  done = false;
  http::async_read(stream, buffer, res, [&](boost::system::error_code e, std::size_t) { ec = e; done = true; });
  if (!run_until(ioc, [&] { return done; }, timeout)) {
    r.error = "read timed out";
    return r;
  }
  if (ec) {
    r.error = "read failed: " + ec.message();
    return r;
  }
  return to_result(res);
}

http::request<http::string_body> make_request(const std::string& host, std::uint16_t port, const std::string& method,
                                              const std::string& target, const header_pairs& headers,
                                              std::string body, bool keep_alive) {
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, host + ":" + std::to_string(port));
  for (const auto& [k, v] : headers) req.set(k, v);
  req.keep_alive(keep_alive);
  req.body() = std::move(body);
  req.prepare_payload();
  return req;
}

template <class Stream>
http_result request_on(const std::string& host, std::uint16_t port, http::request<http::string_body> req,
                       std::chrono::milliseconds timeout) {
  asio::io_context ioc{1};
  auto stream = make_stream<Stream>(ioc);
  if (auto e = open_stream(ioc, stream, host, port, timeout); !e.empty()) return http_result{0, {}, {}, e};
  beast::flat_buffer buffer;
  return exchange(ioc, stream, buffer, req, timeout);
}

}  // namespace

http_result http_call(const std::string& host, std::uint16_t port, const std::string& method,
                         const std::string& target, const header_pairs& headers, std::string body, bool tls,
                         std::chrono::milliseconds timeout) {
  auto req = make_request(host, port, method, target, headers, std::move(body), false);
  return tls ? request_on<tls_stream>(host, port, std::move(req), timeout)
             : request_on<beast::tcp_stream>(host, port, std::move(req), timeout);
}

http_result http_get(const std::string& host, std::uint16_t port, const std::string& target,
                     const header_pairs& headers, bool tls, std::chrono::milliseconds timeout) {
  return http_call(host, port, "GET", target, headers, {}, tls, timeout);
}

std::vector<http_result> http_keep_alive(const std::string& host, std::uint16_t port,
                                         const std::vector<std::string>& targets, std::chrono::milliseconds timeout) {
  std::vector<http_result> out;
  asio::io_context ioc{1};
  beast::tcp_stream stream(ioc);
  if (auto e = open_stream(ioc, stream, host, port, timeout); !e.empty()) {
    out.push_back(http_result{0, {}, {}, e});
    return out;
  }
  beast::flat_buffer buffer;
  for (const auto& target : targets) {
    auto req = make_request(host, port, "GET", target, {}, {}, true);
    out.push_back(exchange(ioc, stream, buffer, req, timeout));
    if (out.back().status == 0) break;
  }
  return out;
}

// --- Streaming HTTP --------------------------------------------------------------------------

struct http_stream_client::impl {
  asio::io_context ioc{1};
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  int status = 0;
  header_pairs headers;
  std::string body;
  bool reading = false;
  bool eof = false;
  char scratch[4096];

  void start_read() {
    reading = true;
    stream.async_read_some(asio::buffer(scratch), [this](boost::system::error_code ec, std::size_t n) {
      reading = false;
      body.append(scratch, n);
      if (ec) eof = true;
    });
  }
};

http_stream_client::http_stream_client(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
http_stream_client::~http_stream_client() = default;

std::unique_ptr<http_stream_client> http_stream_client::open(const std::string& host, std::uint16_t port,
                                                             const std::string& target, const header_pairs& headers,
                                                             std::string* error, std::chrono::milliseconds timeout) {
  auto p = std::make_unique<impl>();
  auto fail = [&](std::string e) {
    if (error) *error = std::move(e);
    return nullptr;
  };
  if (auto e = open_stream(p->ioc, p->stream, host, port, timeout); !e.empty()) return fail(e);
  auto req = make_request(host, port, "GET", target, headers, {}, true);
  boost::system::error_code ec;
  bool done = false;
  http::async_write(p->stream, req, [&](boost::system::error_code e, std::size_t) { ec = e; done = true; });
  if (!run_until(p->ioc, [&] { return done; }, timeout) || ec) return fail("request write failed");
  http::response_parser<http::empty_body> parser;
  parser.skip(true);  // the body is read raw below
  done = false;
  http::async_read_header(p->stream, p->buffer, parser,
                          [&](boost::system::error_code e, std::size_t) { ec = e; done = true; });
  if (!run_until(p->ioc, [&] { return done; }, timeout) || ec) return fail("response header read failed");
  p->status = static_cast<int>(parser.get().result_int());
  for (const auto& f : parser.get()) p->headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  p->body = beast::buffers_to_string(p->buffer.data());  // body bytes that came with the header
  return std::unique_ptr<http_stream_client>(new http_stream_client(std::move(p)));
}

int http_stream_client::status() const { return impl_->status; }

std::string http_stream_client::header(std::string_view name) const {
  for (const auto& [k, v] : impl_->headers) {
    if (iequals(k, name)) return v;
  }
  return {};
}

bool http_stream_client::read_until(std::string_view needle, std::chrono::milliseconds timeout) {
  auto& i = *impl_;
  const auto deadline = steady::now() + timeout;
  while (i.body.find(needle) == std::string::npos) {
    if (i.eof || steady::now() >= deadline) return false;
    if (!i.reading) i.start_read();
    run_until(i.ioc, [&] { return !i.reading; },
              std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()));
  }
  return true;
}

bool http_stream_client::read_to_eof(std::chrono::milliseconds timeout) {
  auto& i = *impl_;
  const auto deadline = steady::now() + timeout;
  while (!i.eof) {
    if (steady::now() >= deadline) return false;
    if (!i.reading) i.start_read();
    run_until(i.ioc, [&] { return !i.reading; },
              std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()));
  }
  return true;
}

const std::string& http_stream_client::body() const { return impl_->body; }

}  // namespace sealcast::test
