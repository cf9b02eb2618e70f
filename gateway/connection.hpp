#pragma once

// The broker's view of one client WebSocket connection. Deliberately free of Asio and Beast so
// that the actor layer can include it cheaply; the implementation lives in ws_session.cpp.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sealcast::broker {

/// Why a connection ended, as reported to connection_handler::on_close.
enum class close_cause {
  peer_closed,    ///< the client closed (close frame or dropped TCP connection)
  server_closed,  ///< connection::close() was called
  slow_consumer,  ///< queued bytes passed slow_consumer_bytes: close 1008, queued frames dropped
  auth_timeout,   ///< mark_authenticated() not called within auth_timeout_ms: close 4001
  too_big,        ///< the client sent a frame larger than max_frame_bytes: close 1009
  bad_data,       ///< the client sent a binary frame: close 1003
  timeout,        ///< idle (ping) timeout, or a close handshake that did not finish in time
  shutdown,       ///< gateway::stop(): close 1001
  error,          ///< any other transport or protocol failure (logged once)
};

/// The spelling of a close cause for logs and events.
[[nodiscard]] std::string_view to_string(close_cause cause) noexcept;

/// How a connection ended: the cause and the WebSocket close code sent or received (0 if none).
struct close_reason {
  close_cause cause = close_cause::error;
  std::uint16_t code = 0;
  std::string reason;
};

class connection;
class outbox;

/// An io shard: one thread that owns many connections, reads them and writes to them. Frames
/// staged for its connections (outbox) reach it in one post, however many connections they are
/// for, so a fan-out costs one cross-thread hand-off per shard, not one per recipient.
class shard_sink {
 public:
  struct item {
    std::shared_ptr<connection> conn;  ///< kept alive until the shard has handed the frame over
    std::shared_ptr<const std::string> frame;
  };
  virtual ~shard_sink() = default;
  /// Hands `items` to the shard's thread, which queues each frame on its connection (in order)
  /// and then starts the writers; a connection that ended meanwhile drops its frames.
  virtual void post(std::vector<item> items) = 0;
};

/// One client WebSocket connection. Every member function is safe to call from any thread; none
/// blocks. Work is posted to the connection's io shard, where a single writer drains the queue.
class connection {
 public:
  virtual ~connection() = default;
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  /// Queues a text frame. Never blocks. Returns false, and drops the frame, when the connection
  /// is closing or closed, or when the frame would push queued_bytes() past the gateway's
  /// slow_consumer_bytes, in which case the connection is closed with 1008 "slow consumer" and
  /// the frames still queued are dropped. The same frame may be shared by many connections.
  virtual bool send(std::shared_ptr<const std::string> frame) = 0;

  /// What offer() did with a frame.
  enum class offer_result : std::uint8_t {
    sent,    ///< queued
    full,    ///< not queued: the send window is full; when_ready() tells when to offer again
    closed,  ///< not queued: the connection is closing or closed (a stalled one is closed now)
  };

  /// Flow-controlled send for streams (backlogs, catch-up): queues the frame only while the
  /// queue is empty or stays within the gateway's send_window_bytes, so a producer that offers
  /// until `full` and resumes on when_ready() never gets near slow_consumer_bytes. A queue that
  /// has not moved for stall_timeout_ms is a reader that stopped: the connection is closed with
  /// 1008 "slow consumer" and `closed` is returned.
  virtual offer_result offer(std::shared_ptr<const std::string> frame) = 0;

  /// offer() for fan-out: the same check and byte accounting, but a `sent` frame is staged in
  /// `out` and reaches the connection's shard when out.flush() runs. Frames offered through one
  /// outbox keep their order; a frame given to send() or offer() after the flush comes after them.
  virtual offer_result offer(std::shared_ptr<const std::string> frame, outbox& out) = 0;

  /// For the connection's shard only, on its thread (shard_sink::post): queues a staged frame;
  /// start_writing() then starts the writer once for the whole batch.
  virtual void take_staged(std::shared_ptr<const std::string> frame) = 0;
  virtual void start_writing() = 0;

  /// Runs `ready` once, on no particular thread, when the queue has drained to half the send
  /// window (at once, posted, if it already has). Dropped unrun if the connection ends first.
  /// `ready` must not block; it typically sends an actor message.
  virtual void when_ready(std::function<void()> ready) = 0;

  /// Graceful close: frames queued before this call are written first, then the close frame
  /// (`code`, `reason` truncated to 123 bytes); later send() calls are refused. If the peer does
  /// not complete the close handshake within the gateway's close_timeout_ms the socket is
  /// dropped. Calling it again, or after the connection ended, does nothing.
  virtual void close(std::uint16_t code, std::string reason) = 0;

  /// Whether the connection is closing or closed (send() and offer() refuse).
  [[nodiscard]] virtual bool closing() const noexcept = 0;

  /// Tells the gateway that the peer authenticated: cancels the auth timeout.
  virtual void mark_authenticated() = 0;

  /// A process-unique id, never reused while the gateway lives.
  [[nodiscard]] std::uint64_t id() const noexcept { return id_; }
  /// The peer address as "ip:port".
  [[nodiscard]] const std::string& remote() const noexcept { return remote_; }
  /// The negotiated subprotocol, empty when none.
  [[nodiscard]] const std::string& subprotocol() const noexcept { return subprotocol_; }
  /// Per-connection state of the connection_handler (set in on_open); touched only by the
  /// handler's calls, which all run on the connection's shard.
  void set_context(std::shared_ptr<void> context) noexcept { context_ = std::move(context); }
  [[nodiscard]] void* context() const noexcept { return context_.get(); }
  /// Bytes accepted by send() and not yet written to the socket.
  [[nodiscard]] std::size_t queued_bytes() const noexcept {
    return queued_bytes_.load(std::memory_order_relaxed);
  }

 protected:
  connection(std::uint64_t id, std::string remote, std::string subprotocol)
      : id_(id), remote_(std::move(remote)), subprotocol_(std::move(subprotocol)) {}

  std::atomic<std::size_t> queued_bytes_{0};

 private:
  const std::uint64_t id_;
  const std::string remote_;
  const std::string subprotocol_;
  std::shared_ptr<void> context_;
};

/// Frames staged for many connections by one producer (a group actor's fan-out), handed to each
/// io shard in one post by flush(). Not thread-safe: one per producer.
class outbox {
 public:
  outbox() = default;
  outbox(const outbox&) = delete;
  outbox& operator=(const outbox&) = delete;
  ~outbox() { flush(); }

  void stage(shard_sink& shard, std::shared_ptr<connection> conn, std::shared_ptr<const std::string> frame) {
    for (auto& b : batches_) {
      if (b.first == &shard) {
        b.second.push_back({std::move(conn), std::move(frame)});
        return;
      }
    }
    batches_.emplace_back(&shard, std::vector<shard_sink::item>{});
    batches_.back().second.push_back({std::move(conn), std::move(frame)});
  }

  /// Hands every staged frame to its shard: one post per shard.
  void flush() {
    for (auto& [shard, items] : batches_) shard->post(std::move(items));
    batches_.clear();
  }

  [[nodiscard]] bool empty() const noexcept { return batches_.empty(); }

 private:
  std::vector<std::pair<shard_sink*, std::vector<shard_sink::item>>> batches_;
};

/// What the broker implements to receive connection events. Every call for a given connection
/// is made on that connection's strand, one at a time and in order (on_open, on_text..., then
/// exactly one on_close). Handlers run on the gateway's io threads: they must not block (they
/// forward to actors and return) and must not throw (a throwing on_text drops the connection).
class connection_handler {
 public:
  virtual ~connection_handler() = default;

  /// A WebSocket upgrade completed. The handler may keep `conn` as long as it likes; after
  /// on_close, send() and close() on it do nothing.
  virtual void on_open(std::shared_ptr<connection> conn) = 0;
  /// A complete text message (at most max_frame_bytes).
  virtual void on_text(const std::shared_ptr<connection>& conn, std::string&& frame) = 0;
  /// The connection ended; called once, after on_open.
  virtual void on_close(const std::shared_ptr<connection>& conn, const close_reason& why) = 0;
};

}  // namespace sealcast::broker
