#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "bench/fanout_common.hpp"
#include "bench/options.hpp"
#include "common/error.hpp"

// The one publish loop of the fanout scenario, whatever the target: open loop (message i is due
// at start + i/rate and latency counts from that due time, so a stall is charged to every message
// that queued behind it) or closed loop (--rate max: a window of unanswered publishes, latency
// from the actual send). What differs per target (seal and send a frame, what its "ack" is) sits
// behind paced_publisher.

namespace sealcast::bench {

/// The answer to one publish, exactly once: acknowledged (ok, with the time the ack was read) or
/// failed (with the reason).
using publish_done = std::function<void(bool ok, std::uint64_t ack_ns, std::string_view why)>;

/// One publisher as paced_publish_loop drives it; called on its executor only.
class paced_publisher {
 public:
  virtual ~paced_publisher() = default;
  /// The strand the publisher's connection lives on.
  [[nodiscard]] virtual const boost::asio::any_io_executor& executor() const = 0;
  /// Whether the connection can still publish.
  [[nodiscard]] virtual bool is_open() const = 0;
  /// Seals the message due at `intended` (steady ns, also written into its first 8 plaintext
  /// bytes) and sends it; `done` gets its answer (possibly before this returns). An error means
  /// nothing was sent and `done` is not called: the loop counts a failed publish and stops.
  [[nodiscard]] virtual status publish(std::uint64_t intended, publish_done done) = 0;
};

/// Publishes from start_ns until end_ns (by due time in open loop, by the clock in closed loop)
/// at `per_publisher` messages/s (ignored in closed loop), with at most --window (closed loop)
/// or --max-outstanding (open loop) unanswered publishes; counts sends, acks and failures in
/// `st` and increments st.loops_done at the end. Spawn it on p.executor().
/// Open loop: the first message is due `phase` (in [0, 1)) of an interval after start_ns; publisher
/// i of P gets i/P, so that P publishers together send evenly spaced messages, not P at once.
boost::asio::awaitable<void> paced_publish_loop(paced_publisher& p, fanout_stats& st, const bench_options& o,
                                                double per_publisher, double phase, std::uint64_t start_ns,
                                                std::uint64_t end_ns);

}  // namespace sealcast::bench
