#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>

#include "bench/options.hpp"
#include "client/connection.hpp"
#include "crypto/identity.hpp"
#include "crypto/ratchet.hpp"
#include "crypto/secret.hpp"
#include "protocol/frames.hpp"

namespace sealcast::bench {
/// The bench's WebSocket is the client library's (sealcast_client): source-address binding, a
/// configurable subprotocol and binary frames are its connect_options.
using ws_connection = sealcast::client::detail::ws_connection;
}  // namespace sealcast::bench

// One authenticated Sealcast session for the bench, written from docs/protocol.md (v2): challenge,
// hello with a real signature, welcome; requests matched to replies by rid; every key frame
// unwrapped with the session's own kx_sk and checked against its key_id, and the epoch's sender
// ratchets derived from it (own chain for publishing, a receiver chain per sender on first use).
// The bench does not replay the member-set chain of section 6.6: it measures the broker, and the
// test client (tests/support) checks the chain. What a scenario does with messages, keys and
// rekey requests it says through client_hooks. A bench_client lives on one executor (an
// io_context run by one thread, bench_context::next_executor()): call it only from there, e.g.
// through on_client().

namespace sealcast::bench {

class bench_client;

/// Nanoseconds on the steady clock (the bench's one time base; same machine as the broker).
[[nodiscard]] std::uint64_t steady_ns() noexcept;

/// The answer to one request: ok, error, or neither when it timed out or the connection ended.
struct reply {
  std::optional<protocol::server::ok> ok;
  std::optional<protocol::server::error> error;

  /// True for an ok.
  [[nodiscard]] bool is_ok() const noexcept { return ok.has_value(); }
  /// "ok", the error code and message, or "no reply".
  [[nodiscard]] std::string describe() const;
};

/// Called with the reply of a request sent with bench_client::request().
using reply_handler = std::function<void(reply&&)>;

/// What a scenario wants to hear about; called on the client's executor. recv_ns is the time the
/// WebSocket message carrying the frame was read, before it was parsed.
class client_hooks {
 public:
  virtual ~client_hooks() = default;
  /// A group message delivery. The hook may move from `m` (the client reuses the frame's
  /// buffers when it gets them back).
  virtual void on_message(bench_client& c, protocol::server::message& m, std::uint64_t recv_ns) {
    (void)c, (void)m, (void)recv_ns;
  }
  /// A key frame whose key unwrapped and matched its key_id; frame_bytes is its size on the wire
  /// (re-serialized when it came inside a batch).
  virtual void on_key(bench_client& c, const protocol::server::key& k, std::uint64_t recv_ns, std::size_t frame_bytes) {
    (void)c, (void)k, (void)recv_ns, (void)frame_bytes;
  }
  /// A client-custody rekey_request (docs/protocol.md 6.4): only an owner or admin gets one.
  virtual void on_rekey_request(bench_client& c, const protocol::server::rekey_request& rq) { (void)c, (void)rq; }
  /// The connection ended after login.
  virtual void on_closed(bench_client& c, const std::string& why) { (void)c, (void)why; }
};

/// Problems a client met, readable from any thread.
struct client_counters {
  std::atomic<std::uint64_t> messages_in{0};  ///< WebSocket messages read
  std::atomic<std::uint64_t> bytes_in{0};
  std::atomic<std::uint64_t> parse_errors{0};  ///< broker frames that did not parse
  std::atomic<std::uint64_t> key_errors{0};    ///< key frames that did not unwrap or match key_id
  std::atomic<std::uint64_t> stray_errors{0};  ///< error frames no pending request claimed
};

/// One session with the broker.
class bench_client : public std::enable_shared_from_this<bench_client> {
 public:
  /// A client with identity `id` whose I/O runs on `executor`; hooks may be null and must outlive it.
  bench_client(boost::asio::any_io_executor executor, crypto::identity id, client_hooks* hooks);

  /// Connects (from `source` when given), answers the challenge and waits for the welcome; ""
  /// on success, else what failed. Then keeps reading until the connection ends.
  boost::asio::awaitable<std::string> login(ws_target target, std::optional<boost::asio::ip::address> source,
                                            std::chrono::milliseconds timeout);

  /// Sends a request with the next rid; `done` gets the reply (or an empty one if the
  /// connection ends first). Requests without a reply are kept until then.
  void request(protocol::client_frame frame, reply_handler done);
  /// Sends a request and waits at most `timeout` for its reply.
  boost::asio::awaitable<reply> call(protocol::client_frame frame, std::chrono::milliseconds timeout);
  /// Sends a frame that has no reply (ack).
  void send(std::string json);

  /// Waits until the key of (group, epoch) has arrived; false on timeout or disconnect.
  boost::asio::awaitable<bool> wait_key(id16 group, std::uint64_t epoch, std::chrono::milliseconds timeout);
  /// The unwrapped key of (group, epoch), or nullptr.
  [[nodiscard]] const crypto::group_key* key(const id16& group, std::uint64_t epoch) const;
  /// The next index of this client's own ratchet in (group, epoch) and its message key
  /// (docs/protocol.md 7.1); not_found without the epoch's key.
  [[nodiscard]] result<std::pair<std::uint32_t, crypto::aead_key>> next_message_key(const id16& group,
                                                                                    std::uint64_t epoch);
  /// The message key of `sender`'s index in (group, epoch), taken from its receiver chain (derived
  /// on first use): errc::replay for an index already used or dropped, not_found without the key.
  [[nodiscard]] result<crypto::aead_key> take_message_key(const id16& group, std::uint64_t epoch, const id16& sender,
                                                          std::uint32_t index);
  /// The epoch's algorithm as its key frame announced it.
  [[nodiscard]] aead_alg alg_of(const id16& group, std::uint64_t epoch) const;

  /// Closes the WebSocket after what is queued.
  void close();
  /// True between a successful login and the end of the connection.
  [[nodiscard]] bool is_open() const noexcept { return open_.load(std::memory_order_relaxed); }
  /// Requests sent and not answered yet.
  [[nodiscard]] std::size_t pending() const noexcept { return pending_.size(); }

  [[nodiscard]] const crypto::identity& identity() const noexcept { return id_; }
  [[nodiscard]] const id16& user_id() const noexcept { return id_.user_id(); }
  [[nodiscard]] const boost::asio::any_io_executor& executor() const noexcept { return executor_; }
  [[nodiscard]] const client_counters& counters() const noexcept { return counters_; }
  /// The broker's id, from the challenge.
  [[nodiscard]] const id16& broker_id() const noexcept { return broker_; }

 private:
  struct epoch_key {
    crypto::group_key key;
    aead_alg alg = aead_alg::aes_256_gcm;
    crypto::sender_chain own;
    std::unordered_map<id16, crypto::receiver_chain, id16_hash> receivers;
  };

  static boost::asio::awaitable<void> read_loop(std::shared_ptr<bench_client> self);
  void dispatch(protocol::server_frame& f, std::uint64_t recv_ns, std::size_t frame_bytes);
  void on_key(const protocol::server::key& k, std::uint64_t recv_ns, std::size_t frame_bytes);
  void wake_waiters();
  void fail_pending();

  boost::asio::any_io_executor executor_;
  crypto::identity id_;
  client_hooks* hooks_;
  std::shared_ptr<ws_connection> conn_;
  id16 broker_;
  std::atomic<bool> open_{false};
  std::uint64_t next_rid_ = 0;
  std::unordered_map<std::uint64_t, reply_handler> pending_;
  std::map<std::pair<id16, std::uint64_t>, epoch_key> keys_;
  std::vector<protocol::server::message> lean_;  ///< the fast path's frames, buffers reused
  std::vector<boost::asio::steady_timer*> waiters_;  ///< woken after each message and at the end
  client_counters counters_;
};

/// Runs `op` (a coroutine of the client's, e.g. c->login(...), not started yet) on the client's
/// executor and waits for its result: how code on another strand (a scenario) talks to a client.
/// (An awaitable rather than a function object: GCC 12 destroys the captures of a function
/// object handed to co_spawn with use_awaitable twice.)
template <class T>
boost::asio::awaitable<T> on_client(const std::shared_ptr<bench_client>& c, boost::asio::awaitable<T> op);

}  // namespace sealcast::bench

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

template <class T>
boost::asio::awaitable<T> sealcast::bench::on_client(const std::shared_ptr<bench_client>& c,
                                                     boost::asio::awaitable<T> op) {
  return boost::asio::co_spawn(c->executor(), std::move(op), boost::asio::use_awaitable);
}
