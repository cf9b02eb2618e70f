#include "bench/nats_client.hpp"

#include <charconv>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "bench/bench_client.hpp"
#include "common/asio_nothrow.hpp"
#include "common/detail/coroutine_frame_warning.hpp"

namespace sealcast::bench {

namespace asio = boost::asio;

namespace {

constexpr std::string_view crlf = "\r\n";
constexpr std::size_t max_line = 64 * 1024;

/// Splits a protocol line into its space/tab separated words (at most `n`); returns the count.
std::size_t split(std::string_view line, std::string_view* words, std::size_t n) {
  std::size_t k = 0;
  std::size_t i = 0;
  while (i < line.size() && k < n) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i == line.size()) break;
    const auto start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    words[k++] = line.substr(start, i - start);
  }
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  return i < line.size() ? n + 1 : k;  // n + 1: too many words
}

bool starts_with_op(std::string_view line, std::string_view op) {
  if (line.size() < op.size()) return false;
  for (std::size_t i = 0; i < op.size(); ++i)
    // Ops are case-insensitive (`op` is upper case); only letters fold.
    if (const char c = line[i]; (c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c) != op[i]) return false;
  return line.size() == op.size() || line[op.size()] == ' ' || line[op.size()] == '\t';
}

}  // namespace

std::optional<std::size_t> nats_parser::parse(std::string_view in,
                                              const std::function<void(const nats_event&)>& on_event,
                                              std::string& error) {
  std::size_t pos = 0;
  while (pos < in.size()) {
    const auto eol = in.find(crlf, pos);
    if (eol == std::string_view::npos) {
      if (in.size() - pos > max_line) {
        error = "a protocol line longer than " + std::to_string(max_line) + " bytes";
        return std::nullopt;
      }
      break;  // incomplete line
    }
    const auto line = in.substr(pos, eol - pos);
    nats_event e;
    std::size_t next = eol + 2;
    if (starts_with_op(line, "MSG")) {
      std::string_view w[5];
      const auto n = split(line, w, 5);
      if (n != 4 && n != 5) {
        error = "bad MSG line: " + std::string(line.substr(0, 200));
        return std::nullopt;
      }
      std::size_t size = 0;
      const auto len = w[n - 1];
      const auto [p, ec] = std::from_chars(len.data(), len.data() + len.size(), size);
      if (ec != std::errc{} || p != len.data() + len.size() || size > max_payload) {
        error = "bad MSG size: " + std::string(line.substr(0, 200));
        return std::nullopt;
      }
      if (in.size() < next + size + 2) break;  // the payload is not complete yet
      if (in.substr(next + size, 2) != crlf) {
        error = "MSG payload not followed by CRLF";
        return std::nullopt;
      }
      e.what = nats_event::kind::msg;
      e.subject = w[1];
      e.sid = w[2];
      e.payload = in.substr(next, size);
      next += size + 2;
    } else if (starts_with_op(line, "PING")) {
      e.what = nats_event::kind::ping;
    } else if (starts_with_op(line, "PONG")) {
      e.what = nats_event::kind::pong;
    } else if (starts_with_op(line, "+OK")) {
      e.what = nats_event::kind::ok;
    } else if (starts_with_op(line, "-ERR")) {
      e.what = nats_event::kind::err;
      e.text = line.size() > 5 ? line.substr(5) : std::string_view{};
    } else if (starts_with_op(line, "INFO")) {
      e.what = nats_event::kind::info;
      e.text = line.size() > 5 ? line.substr(5) : std::string_view{};
    } else {
      error = "unknown protocol message: " + std::string(line.substr(0, 200));
      return std::nullopt;
    }
    on_event(e);
    pos = next;
  }
  return pos;
}

std::string nats_parser::feed(std::string_view data, const std::function<void(const nats_event&)>& on_event) {
  std::string error;
  if (buf_.empty()) {
    // The common case: whole messages in one frame, parsed in place.
    const auto used = parse(data, on_event, error);
    if (!used) return error;
    buf_.assign(data.substr(*used));
    return {};
  }
  buf_.append(data);
  const auto used = parse(buf_, on_event, error);
  if (!used) return error;
  buf_.erase(0, *used);
  return {};
}

nats_client::nats_client(asio::any_io_executor executor, hooks* h)
    : executor_(std::move(executor)), hooks_(h), conn_(std::make_shared<ws_connection>(executor_)) {}

asio::awaitable<std::string> nats_client::connect(ws_target target, std::optional<asio::ip::address> source,
                                                  std::chrono::milliseconds timeout, bool echo) {
  // nats-server's WebSocket listener: no subprotocol, binary frames.
  client::detail::ws_url url{false, target.host, target.port, target.path};
  const client::detail::tls_settings tls{};
  client::detail::connect_options how;
  how.source = source;
  how.subprotocol.clear();
  how.binary = true;
  how.user_agent = "sealcast-bench";
  auto err = co_await conn_->open(std::move(url), tls, timeout, std::move(how));
  if (!err.empty()) co_return err;
  open_ = true;
  asio::co_spawn(executor_, read_loop(shared_from_this()), asio::detached);
  std::string hello =
      "CONNECT {\"verbose\":false,\"pedantic\":false,\"tls_required\":false,\"headers\":false,\"name\":\"sealcast-bench\","
      "\"lang\":\"cpp\",\"version\":\"0.1\",\"protocol\":1,\"echo\":";
  hello += echo ? "true}\r\n" : "false}\r\n";
  conn_->send(std::move(hello));
  if (!co_await flush(timeout)) co_return open_ ? "no PONG after CONNECT" : "the server closed the connection";
  co_return std::string{};
}

void nats_client::subscribe(std::string_view subject, unsigned sid) {
  std::string f = "SUB ";
  f.append(subject).append(" ").append(std::to_string(sid)).append(crlf);
  conn_->send(std::move(f));
}

void nats_client::publish(std::string_view subject, std::string_view payload, pong_handler flushed) {
  if (!open_) {
    flushed(false, 0);
    return;
  }
  std::string f;
  f.reserve(subject.size() + payload.size() + 32);
  f.append("PUB ").append(subject).append(" ").append(std::to_string(payload.size())).append(crlf);
  f.append(payload).append(crlf).append("PING\r\n");
  pongs_.push_back(std::move(flushed));
  conn_->send(std::move(f));
}

asio::awaitable<bool> nats_client::flush(std::chrono::milliseconds timeout) {
  struct waiter {
    explicit waiter(const asio::any_io_executor& ex) : timer(ex) {}
    asio::steady_timer timer;
    bool done = false;
    bool ok = false;
  };
  auto w = std::make_shared<waiter>(executor_);
  if (!open_) co_return false;
  pongs_.push_back([w](bool ok, std::uint64_t) {
    w->done = true;
    w->ok = ok;
    w->timer.cancel();
  });
  conn_->send("PING\r\n");
  w->timer.expires_after(timeout);
  co_await w->timer.async_wait(use_nothrow);
  co_return w->done && w->ok;
}

void nats_client::close() {
  open_ = false;
  conn_->close();
}

void nats_client::fail_pongs() {
  auto pending = std::move(pongs_);
  pongs_.clear();
  for (auto& h : pending) h(false, 0);
}

void nats_client::on_event(const nats_event& e, std::uint64_t recv_ns) {
  switch (e.what) {
    case nats_event::kind::msg:
      if (hooks_) hooks_->on_msg(*this, e.subject, e.payload, recv_ns);
      break;
    case nats_event::kind::ping:
      conn_->send("PONG\r\n");
      break;
    case nats_event::kind::pong:
      if (!pongs_.empty()) {
        auto h = std::move(pongs_.front());
        pongs_.pop_front();
        h(true, recv_ns);
      }
      break;
    case nats_event::kind::err:
      if (hooks_) hooks_->on_server_error(*this, e.text);
      break;
    case nats_event::kind::info:
    case nats_event::kind::ok:
      break;
  }
}

asio::awaitable<void> nats_client::read_loop(std::shared_ptr<nats_client> self) {
  std::string why;
  for (;;) {
    auto [ec, data] = co_await self->conn_->read();
    const auto recv_ns = steady_ns();
    if (ec) {
      why = ec.message();
      break;
    }
    auto err = self->parser_.feed(data, [&](const nats_event& e) { self->on_event(e, recv_ns); });
    if (!err.empty()) {
      self->protocol_errors_.fetch_add(1);
      why = "protocol error: " + err;
      self->conn_->abort();
      break;
    }
  }
  const bool was_open = self->open_.exchange(false);
  self->fail_pongs();
  if (self->hooks_) self->hooks_->on_closed(*self, was_open ? why : "closed");
}

}  // namespace sealcast::bench
