#pragma once

// How an answer travels from a handler (any thread) back to its HTTP session (its strand).

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "gateway/http_server.hpp"

namespace sealcast::broker::detail {

class sse_stream;

/// A handler's answer: a complete response, or (stream set) the start of an event stream.
struct outcome {
  unsigned status = 500;
  std::string content_type;
  std::string body;
  header_list headers;
  std::shared_ptr<sse_stream> stream;
};

/// The session side of an exchange. Every member is thread-safe and only posts.
class response_sink {
 public:
  virtual ~response_sink() = default;
  /// The answer to request number `seq` of the connection (stale answers are ignored).
  virtual void deliver(std::uint64_t seq, outcome o) = 0;
  /// An event-stream chunk to write.
  virtual void push_chunk(std::string chunk) = 0;
  /// Ends the event stream after the queued chunks (`hard`: drop the socket now).
  virtual void end_stream(bool hard) = 0;
};

/// A Server-Sent Events stream as handed to the broker. Holds its session weakly, so a stream
/// kept by the broker does not keep a dead connection alive.
class sse_stream final : public event_stream {
 public:
  sse_stream(std::weak_ptr<response_sink> sink, std::size_t limit) : sink_(std::move(sink)), limit_(limit) {}

  bool write(std::string chunk) override;
  void close() override;
  [[nodiscard]] bool is_open() const override { return open_.load(std::memory_order_acquire); }

  /// The session saw the stream end (peer gone, stop, write error).
  void mark_closed() { open_.store(false, std::memory_order_release); }
  /// The session wrote `n` queued bytes.
  void written(std::size_t n) { queued_.fetch_sub(n, std::memory_order_relaxed); }

 private:
  std::weak_ptr<response_sink> sink_;
  const std::size_t limit_;
  std::atomic<std::size_t> queued_{0};
  std::atomic<bool> open_{true};
};

/// One request's pending answer. The first respond() or stream() wins; if the last responder
/// copy goes away without either, the client gets 500. Holds the session weakly: an answer that
/// comes after the connection ended (or after stop()) goes nowhere.
class http_exchange {
 public:
  http_exchange(std::weak_ptr<response_sink> sink, std::uint64_t seq, std::size_t stream_limit)
      : sink_(std::move(sink)), seq_(seq), stream_limit_(stream_limit) {}
  ~http_exchange();
  http_exchange(const http_exchange&) = delete;
  http_exchange& operator=(const http_exchange&) = delete;

  /// Completes the exchange with `o` unless it is already complete.
  void respond(outcome o);
  /// Completes the exchange with an event stream; a closed stream if already complete.
  std::shared_ptr<event_stream> stream(header_list extra);

 private:
  std::weak_ptr<response_sink> sink_;
  const std::uint64_t seq_;
  const std::size_t stream_limit_;
  std::atomic<bool> done_{false};
};

}  // namespace sealcast::broker::detail
