// One client WebSocket connection: owned by one io shard (an io_context run by one thread, so
// the shard's executor is the connection's strand), a reader coroutine, and a writer that is a
// chain of completion handlers, one async_write at a time, fed by a queue of shared frames. The
// only translation unit that instantiates Beast's WebSocket stream.
//
// Unlike Asio's cpp20 chat_server, the writer does not park on a timer between bursts: it is
// started by the first frame queued and ends when the queue is empty. A parked writer (its
// co_spawn frames, its timer and the pending wait) measured ~1.3 KB per idle connection, which
// the 8 KB budget per idle connection could not afford; ordering and "one writer" are the same.
//
// Fan-out reaches a shard once per batch (io_shard::post): frames for all its connections are
// queued, then their writers start from one task, so frames due together leave in one write.

#include "gateway/detail/ws_session.hpp"

#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "gateway/detail/net.hpp"
#include "common/asio_nothrow.hpp"
#include "common/log.hpp"

namespace sealcast::broker::detail {
namespace {

namespace websocket = beast::websocket;
namespace http = beast::http;
using frame_ptr = std::shared_ptr<const std::string>;

/// Bytes prepared while waiting for the next message (most client frames are larger and are
/// then read to the end with async_read).
constexpr std::size_t idle_read_bytes = 128;

/// True for errors that simply mean "the peer went away".
bool is_disconnect(const beast::error_code& ec) {
  return ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::error::operation_aborted ||
         ec == asio::error::not_connected || ec == asio::ssl::error::stream_truncated ||
         ec == beast::http::error::end_of_stream;
}

template <class Stream>
class ws_session final : public connection,
                         public closable,
                         public std::enable_shared_from_this<ws_session<Stream>> {
 public:
  ws_session(std::shared_ptr<gateway_state> st, Stream&& stream, std::uint64_t id, std::string remote,
             std::string subprotocol)
      : connection(id, std::move(remote), std::move(subprotocol)),
        st_(std::move(st)),
        ws_(std::move(stream)),
        shard_(st_->shard_of(ws_.get_executor())) {}

  /// Starts the accept coroutine on the session's strand.
  void start(upgrade_request req) {
    asio::co_spawn(ws_.get_executor(), accept(this->shared_from_this(), std::move(req)), asio::detached);
  }

  bool send(frame_ptr frame) override {
    if (!frame || refusing_.load(std::memory_order_acquire)) return false;
    const std::size_t n = frame->size();
    const std::size_t before = queued_bytes_.fetch_add(n, std::memory_order_relaxed);
    if (before == 0) progress_ms_.store(steady_ms(), std::memory_order_relaxed);  // the queue starts
    if (before + n > st_->options.slow_consumer_bytes) {
      queued_bytes_.fetch_sub(n, std::memory_order_relaxed);
      slow_consumer();
      return false;
    }
    asio::post(ws_.get_executor(), [self = this->shared_from_this(), f = std::move(frame)]() mutable {
      self->enqueue(std::move(f));
    });
    return true;
  }

  offer_result offer(frame_ptr frame) override {
    if (!frame) return offer_result::full;
    const auto r = reserve(frame->size());
    if (r != offer_result::sent) return r;
    asio::post(ws_.get_executor(), [self = this->shared_from_this(), f = std::move(frame)]() mutable {
      self->enqueue(std::move(f));
    });
    return offer_result::sent;
  }

  offer_result offer(frame_ptr frame, outbox& out) override {
    if (!frame) return offer_result::full;
    const auto r = reserve(frame->size());
    if (r != offer_result::sent) return r;
    out.stage(shard_, this->shared_from_this(), std::move(frame));
    return offer_result::sent;
  }

  void take_staged(frame_ptr frame) override {
    if (phase_ != phase::open) {  // closing or closed: refused frames are not counted
      queued_bytes_.fetch_sub(frame->size(), std::memory_order_relaxed);
      return;
    }
    queue_.push_back(std::move(frame));
  }

  void start_writing() override {
    if (writing_ || phase_ == phase::done || phase_ == phase::accepting || head_ == queue_.size()) return;
    writing_ = true;
    write_next();
  }

  void when_ready(std::function<void()> ready) override {
    asio::post(ws_.get_executor(), [self = this->shared_from_this(), r = std::move(ready)]() mutable {
      if (self->phase_ == phase::done || self->phase_ == phase::closing) return;
      if (self->ready_now()) return r();
      self->waiters_.push_back(std::move(r));
      self->arm_stall_check();
    });
  }

  void close(std::uint16_t code, std::string reason) override {
    refusing_.store(true, std::memory_order_release);
    asio::post(ws_.get_executor(), [self = this->shared_from_this(), code, r = std::move(reason)]() mutable {
      self->begin_close(close_cause::server_closed, code, std::move(r), false);
    });
  }

  [[nodiscard]] bool closing() const noexcept override { return refusing_.load(std::memory_order_acquire); }

  void mark_authenticated() override {
    asio::post(ws_.get_executor(), [self = this->shared_from_this()] {
      self->authenticated_ = true;
      if (self->phase_ == phase::open) self->deadline_.reset();  // cancels the auth timeout
    });
  }

  void shut_down() override {
    asio::post(ws_.get_executor(), [self = this->shared_from_this()] {
      if (self->phase_ == phase::accepting) self->shutdown_pending_ = true;
      self->begin_close(close_cause::shutdown, 1001, "going away", false);
    });
  }

  void abort() override {
    asio::post(ws_.get_executor(), [self = this->shared_from_this()] { self->drop_socket(); });
  }

 private:
  enum class phase : std::uint8_t { accepting, open, closing, done };
  enum class deadline_kind : std::uint8_t { auth, close };

  static asio::awaitable<void> accept(std::shared_ptr<ws_session> self, upgrade_request req) {
    auto& ws = self->ws_;
    const auto& opt = self->st_->options;
    // Limits before anything else.
    ws.read_message_max(opt.max_frame_bytes);
    ws.auto_fragment(false);
    websocket::permessage_deflate pmd;
    pmd.server_enable = false;
    pmd.client_enable = false;
    ws.set_option(pmd);
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = std::chrono::milliseconds(opt.handshake_timeout_ms);
    timeouts.idle_timeout = opt.idle_timeout == 0 ? websocket::stream_base::none()
                                                  : std::chrono::seconds(opt.idle_timeout);
    timeouts.keep_alive_pings = opt.idle_timeout != 0;
    ws.set_option(timeouts);
    beast::get_lowest_layer(ws).expires_never();  // the websocket timeouts take over
    ws.set_option(websocket::stream_base::decorator([proto = &self->subprotocol()](websocket::response_type& res) {
      res.set(http::field::server, "sealcastd");
      if (!proto->empty()) res.set(http::field::sec_websocket_protocol, *proto);
    }));

    auto [ec] = co_await ws.async_accept(req, use_nothrow);
    req = {};  // the request is not needed past the handshake
    if (ec) {
      self->phase_ = phase::done;
      self->drop_socket();
      self->release_slot();
      co_return;
    }
    self->phase_ = phase::open;
    self->st_->handler.on_open(self);
    // stop() came during the handshake: the client already has its 101, so close properly.
    if (self->shutdown_pending_) self->begin_close(close_cause::shutdown, 1001, "going away", false);
    if (opt.auth_timeout_ms != 0 && !self->authenticated_ && self->phase_ == phase::open) {
      self->arm_deadline(deadline_kind::auth, std::chrono::milliseconds(opt.auth_timeout_ms));
    }
    const auto ex = ws.get_executor();
    asio::co_spawn(ex, reader(self), [self](const std::exception_ptr& e) {
      if (!e) return;
      log::error("gateway", "connection handler threw; dropping the connection",
                 {{"conn", self->id()}, {"peer", self->remote()}});
      if (!self->cause_) self->cause_ = close_cause::error;
      self->drop_socket();
      self->finish(asio::error::operation_aborted);
    });
  }

  static asio::awaitable<void> reader(std::shared_ptr<ws_session> self) {
    const std::shared_ptr<connection> conn = self;
    for (;;) {
      // A fresh string per message, and the wait for the next one prepares only a few bytes
      // (a plain async_read prepares 1536): an idle connection holds almost nothing here.
      std::string message;
      auto buffer = asio::dynamic_buffer(message);
      auto [ec, n] = co_await self->ws_.async_read_some(buffer, idle_read_bytes, use_nothrow);
      if (!ec && !self->ws_.is_message_done()) {
        auto [rest_ec, rest_n] = co_await self->ws_.async_read(buffer, use_nothrow);
        ec = rest_ec;
        (void)rest_n;
      }
      (void)n;
      if (ec) {
        self->finish(ec);
        co_return;
      }
      if (!self->ws_.got_text()) {
        self->begin_close(close_cause::bad_data, 1003, "text frames only", true);
        continue;
      }
      if (self->phase_ != phase::open) continue;  // closing: the handler has had its say
      self->st_->handler.on_text(conn, std::move(message));
    }
  }

  /// Starts the writer unless it is running; it drains the queue (and sends a pending close).
  void kick() {
    if (writing_ || phase_ == phase::done || phase_ == phase::accepting) return;
    writing_ = true;
    // Posted, not started inline: frames already posted to the shard are queued first, so a
    // burst leaves in one coalesced write.
    asio::post(ws_.get_executor(), [self = this->shared_from_this()] { self->write_next(); });
  }

  /// The writer: one async_write at a time, each completion starting the next, until the queue
  /// is empty (then a pending close frame). A chain of completion handlers rather than a
  /// coroutine: nothing is allocated per burst beyond the write operation itself.
  void write_next() {
    if (phase_ == phase::done) {
      writing_ = false;
      return;
    }
    if (head_ < queue_.size()) {
      auto [frame, accounted] = next_frame();
      in_flight_ = std::move(frame);
      in_flight_bytes_ = accounted;
      ws_.async_write(asio::buffer(*in_flight_), [self = this->shared_from_this()](const beast::error_code& ec,
                                                                                   std::size_t) {
        self->queued_bytes_.fetch_sub(self->in_flight_bytes_, std::memory_order_relaxed);
        self->in_flight_.reset();
        if (ec) {
          self->writing_ = false;
          self->on_write_error(ec);
          return;
        }
        self->progress_ms_.store(steady_ms(), std::memory_order_relaxed);
        self->wake_waiters();
        self->write_next();
      });
    } else if (phase_ == phase::closing && !close_written_) {
      close_written_ = true;
      const websocket::close_reason reason(static_cast<websocket::close_code>(close_code_), close_text_);
      // The reader ends when the peer answers (or the close deadline fires).
      ws_.async_close(reason, [self = this->shared_from_this()](const beast::error_code& ec) {
        self->writing_ = false;
        if (ec) self->on_write_error(ec);
      });
    } else {
      writing_ = false;  // idle: the next enqueue() starts the writer again
    }
  }

  /// Takes the next frame off the queue, coalescing several when the gateway allows it; returns
  /// it with the queued bytes it stands for.
  std::pair<frame_ptr, std::size_t> next_frame() {
    const auto& opt = st_->options;
    const std::size_t available = queue_.size() - head_;
    std::size_t count = 1;
    std::size_t bytes = queue_[head_]->size();
    if (opt.coalesce && available > 1) {
      while (count < available && count < opt.coalesce_max_items &&
             bytes + queue_[head_ + count]->size() <= opt.coalesce_max_bytes) {
        bytes += queue_[head_ + count]->size();
        ++count;
      }
    }
    frame_ptr out;
    if (count == 1) {
      out = std::move(queue_[head_]);
    } else {
      out = std::make_shared<const std::string>(
          opt.coalesce(std::span<const frame_ptr>(queue_.data() + head_, count)));
    }
    pop(count);
    return {std::move(out), bytes};
  }

  void pop(std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) queue_[head_ + i].reset();
    head_ += count;
    if (head_ == queue_.size()) {
      queue_.clear();
      head_ = 0;
      if (queue_.capacity() > 16) queue_.shrink_to_fit();  // keep idle connections small
    }
  }

  [[nodiscard]] static std::uint64_t steady_ms() noexcept {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::steady_clock::now().time_since_epoch())
                                          .count());
  }

  /// A queue holding `queued` bytes that has not moved for stall_timeout_ms.
  [[nodiscard]] bool stalled(std::size_t queued) const noexcept {
    const auto since = progress_ms_.load(std::memory_order_relaxed);
    return queued != 0 && since != 0 && steady_ms() > since + st_->options.stall_timeout_ms;
  }

  [[nodiscard]] bool ready_now() const noexcept {
    return queued_bytes_.load(std::memory_order_relaxed) <= st_->options.send_window_bytes / 2;
  }

  /// While producers wait for room, checks that the queue moves: one that has not moved for
  /// stall_timeout_ms is a reader that stopped, closed as a slow consumer.
  void arm_stall_check() {
    if (stall_armed_) return;
    stall_armed_ = true;
    if (!stall_timer_) stall_timer_ = std::make_unique<asio::steady_timer>(ws_.get_executor());
    stall_timer_->expires_after(std::chrono::milliseconds(st_->options.stall_timeout_ms));
    stall_timer_->async_wait([self = this->shared_from_this()](const beast::error_code& ec) {
      self->stall_armed_ = false;
      if (ec || self->phase_ != phase::open || self->waiters_.empty()) return;
      if (self->stalled(self->queued_bytes_.load(std::memory_order_relaxed))) {
        self->begin_close(close_cause::slow_consumer, 1008, "slow consumer", true);
        return;
      }
      self->arm_stall_check();
    });
  }

  /// The send window's check and byte accounting for offer(): `sent` when the bytes are counted.
  offer_result reserve(std::size_t n) {
    const auto& opt = st_->options;
    std::size_t cur = queued_bytes_.load(std::memory_order_relaxed);
    for (;;) {
      if (refusing_.load(std::memory_order_acquire)) return offer_result::closed;
      if (cur != 0 && cur + n > opt.send_window_bytes) {
        if (stalled(cur)) {
          slow_consumer();
          return offer_result::closed;
        }
        return offer_result::full;
      }
      if (cur + n > opt.slow_consumer_bytes && cur != 0) return offer_result::full;
      if (queued_bytes_.compare_exchange_weak(cur, cur + n, std::memory_order_relaxed)) break;
    }
    if (cur == 0) progress_ms_.store(steady_ms(), std::memory_order_relaxed);  // the queue starts
    return offer_result::sent;
  }

  void slow_consumer() {
    if (refusing_.exchange(true, std::memory_order_acq_rel)) return;
    asio::post(ws_.get_executor(), [self = this->shared_from_this()] {
      self->begin_close(close_cause::slow_consumer, 1008, "slow consumer", true);
    });
  }

  /// Runs the producers waiting for room once the queue has drained to half the send window.
  void wake_waiters() {
    if (waiters_.empty() || !ready_now()) return;
    auto ready = std::move(waiters_);
    waiters_.clear();
    for (auto& r : ready) r();
  }

  void enqueue(frame_ptr frame) {
    if (phase_ != phase::open) {  // closing or closed: refused frames are not counted
      queued_bytes_.fetch_sub(frame->size(), std::memory_order_relaxed);
      return;
    }
    queue_.push_back(std::move(frame));
    kick();
  }

  void drop_queue() {
    std::size_t bytes = 0;
    for (std::size_t i = head_; i < queue_.size(); ++i) bytes += queue_[i]->size();
    queued_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
    queue_.clear();
    queue_.shrink_to_fit();
    head_ = 0;
  }

  void begin_close(close_cause cause, std::uint16_t code, std::string text, bool drop) {
    if (phase_ != phase::open) return;
    phase_ = phase::closing;
    refusing_.store(true, std::memory_order_release);
    cause_ = cause;
    close_code_ = code;
    if (text.size() > 123) text.resize(123);  // a close frame's payload is at most 125 bytes
    close_text_ = std::move(text);
    if (drop) drop_queue();
    waiters_.clear();
    arm_deadline(deadline_kind::close, std::chrono::milliseconds(st_->options.close_timeout_ms));
    kick();
  }

  void arm_deadline(deadline_kind kind, std::chrono::milliseconds after) {
    if (!deadline_) deadline_ = std::make_unique<asio::steady_timer>(ws_.get_executor());
    deadline_->expires_after(after);
    deadline_->async_wait([self = this->shared_from_this(), kind](const beast::error_code& ec) {
      if (!ec) self->on_deadline(kind);
    });
  }

  void on_deadline(deadline_kind kind) {
    if (kind == deadline_kind::auth && phase_ == phase::open && !authenticated_) {
      const auto& frame = st_->options.auth_timeout_frame;
      if (!frame.empty()) {
        queued_bytes_.fetch_add(frame.size(), std::memory_order_relaxed);
        enqueue(std::make_shared<const std::string>(frame));
      }
      begin_close(close_cause::auth_timeout, 4001, "auth timeout", false);
    } else if (kind == deadline_kind::close && phase_ == phase::closing) {
      drop_socket();  // the peer (or its TCP window) did not let the close finish
    }
  }

  void on_write_error(const beast::error_code& ec) {
    if (!cause_ && !is_disconnect(ec) && ec != websocket::error::closed) log_once(ec, "connection write failed");
    drop_socket();  // ends the reader, which reports on_close
  }

  void drop_socket() {
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).close();
  }

  /// Reports the end of the connection once and releases everything it holds.
  void finish(const beast::error_code& ec) {
    if (phase_ == phase::done) return;
    close_reason why;
    if (cause_) {
      why = close_reason{*cause_, close_code_, close_text_};
    } else if (ec == websocket::error::closed) {
      const auto& r = ws_.reason();
      why = close_reason{close_cause::peer_closed, r.code, std::string(r.reason.data(), r.reason.size())};
    } else if (ec == websocket::error::message_too_big) {
      why = close_reason{close_cause::too_big, 1009, "message too big"};
    } else if (ec == beast::error::timeout) {
      why = close_reason{close_cause::timeout, 0, "idle timeout"};
    } else if (is_disconnect(ec)) {
      why = close_reason{close_cause::peer_closed, 0, {}};
    } else {
      log_once(ec, "connection read failed");
      why = close_reason{close_cause::error, 0, ec.message()};
    }
    phase_ = phase::done;
    refusing_.store(true, std::memory_order_release);
    drop_queue();
    waiters_.clear();
    stall_timer_.reset();
    deadline_.reset();
    // Beast's idle/ping timer would otherwise stay armed while the broker holds this object,
    // keeping the io_context busy at stop().
    ws_.set_option(websocket::stream_base::timeout{websocket::stream_base::none(),
                                                   websocket::stream_base::none(), false});
    drop_socket();
    st_->handler.on_close(this->shared_from_this(), why);
    release_slot();
  }

  void release_slot() {
    st_->live.remove(id());
    st_->ws_count.fetch_sub(1, std::memory_order_relaxed);
  }

  void log_once(const beast::error_code& ec, std::string_view what) {
    if (logged_) return;
    logged_ = true;
    log::warn("gateway", what, {{"conn", id()}, {"peer", remote()}, {"error", ec.message()}});
  }

  std::shared_ptr<gateway_state> st_;
  websocket::stream<Stream> ws_;
  std::unique_ptr<asio::steady_timer> deadline_;    // auth timeout, then close timeout; null when idle
  io_shard& shard_;                                 // the io thread that owns this connection
  std::vector<frame_ptr> queue_;                    // queue_[head_..] waits to be written
  frame_ptr in_flight_;                             // being written
  std::size_t in_flight_bytes_ = 0;                 // the queued bytes it stands for
  std::size_t head_ = 0;
  std::vector<std::function<void()>> waiters_;     // when_ready() callbacks waiting for room
  std::unique_ptr<asio::steady_timer> stall_timer_;  // armed while waiters_ is not empty
  bool stall_armed_ = false;
  std::atomic<std::uint64_t> progress_ms_{0};       // last write completed, or queue started
  std::atomic<bool> refusing_{false};               // send() refuses once closing
  std::optional<close_cause> cause_;                // set when the server starts the close
  std::string close_text_;
  std::uint16_t close_code_ = 0;
  phase phase_ = phase::accepting;
  bool authenticated_ = false;
  bool close_written_ = false;
  bool writing_ = false;  // a writer coroutine is running
  bool shutdown_pending_ = false;
  bool logged_ = false;
};

template <class Stream>
void start(std::shared_ptr<gateway_state> st, Stream&& stream, upgrade_request req) {
  const auto& opt = st->options;
  const bool wants = list_offers(req[http::field::sec_websocket_protocol], opt.subprotocol);
  const auto id = st->next_id.fetch_add(1, std::memory_order_relaxed);
  auto remote = remote_string(beast::get_lowest_layer(stream).socket());
  auto session = std::make_shared<ws_session<Stream>>(st, std::move(stream), id, std::move(remote),
                                                      wants ? opt.subprotocol : std::string{});
  if (!st->live.add(id, session)) {  // stopping: refuse quietly
    st->ws_count.fetch_sub(1, std::memory_order_relaxed);
    session->abort();
    return;
  }
  session->start(std::move(req));
}

}  // namespace

void io_shard::post(std::vector<item> items) {
  asio::post(ioc, [this, items = std::move(items)]() mutable {
    for (auto& it : items) {
      it.conn->take_staged(std::move(it.frame));
      if (dirty.empty() || dirty.back() != it.conn) dirty.push_back(std::move(it.conn));
    }
    if (start_posted) return;
    start_posted = true;
    // Every frame of this batch, and of any batch or reply queued behind it, is queued before
    // the writers start: a connection with several frames due writes them at once.
    asio::post(ioc, [this] {
      start_posted = false;
      auto due = std::move(dirty);
      dirty.clear();
      for (auto& c : due) c->start_writing();
    });
  });
}

void start_ws_session(std::shared_ptr<gateway_state> state, beast::tcp_stream stream, upgrade_request req) {
  start(std::move(state), std::move(stream), std::move(req));
}

void start_ws_session(std::shared_ptr<gateway_state> state, beast::ssl_stream<beast::tcp_stream> stream,
                      upgrade_request req) {
  start(std::move(state), std::move(stream), std::move(req));
}

}  // namespace sealcast::broker::detail
