#include "bench/paced_loop.hpp"

#include <memory>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "bench/bench_client.hpp"
#include "bench/runner.hpp"
#include "common/asio_nothrow.hpp"
#include "common/detail/coroutine_frame_warning.hpp"

namespace sealcast::bench {

namespace asio = boost::asio;

namespace {

/// What the loop shares with the answers still on their way; they may arrive after it ended.
struct pace {
  std::size_t outstanding = 0;
  asio::steady_timer* wake = nullptr;  ///< the loop's timer while it runs
};

}  // namespace

asio::awaitable<void> paced_publish_loop(paced_publisher& p, fanout_stats& st, const bench_options& o,
                                         double per_publisher, double phase, std::uint64_t start_ns,
                                         std::uint64_t end_ns) {
  auto state = std::make_shared<pace>();
  asio::steady_timer timer(p.executor());
  state->wake = &timer;
  const bool closed_loop = !o.rate.has_value();
  const std::size_t cap = closed_loop ? o.window : o.max_outstanding;
  const auto interval = closed_loop ? 0 : static_cast<std::uint64_t>(1e9 / per_publisher);
  std::uint64_t next = start_ns + static_cast<std::uint64_t>(phase * static_cast<double>(interval));
  co_await sleep_until_ns(start_ns);
  while (p.is_open()) {
    const auto now = steady_ns();
    if (closed_loop ? now >= end_ns : next >= end_ns) break;
    if (!closed_loop && next > now) {
      timer.expires_after(std::chrono::nanoseconds(next - now));
      co_await timer.async_wait(use_nothrow);
      continue;
    }
    if (state->outstanding >= cap) {  // an answer cancels the wait
      timer.expires_after(std::chrono::milliseconds(50));
      co_await timer.async_wait(use_nothrow);
      continue;
    }
    const std::uint64_t intended = closed_loop ? now : next;
    next += interval;
    ++state->outstanding;
    st.sent.fetch_add(1, std::memory_order_relaxed);
    if (st.in_window(intended)) st.sent_window.fetch_add(1, std::memory_order_relaxed);
    auto sent = p.publish(intended, [&st, state, intended](bool ok, std::uint64_t ack_ns, std::string_view why) {
      --state->outstanding;
      if (state->wake) state->wake->cancel();
      if (ok)
        st.ack(ack_ns, intended);
      else
        st.error("publish: " + std::string(why));
    });
    if (!sent) {
      --state->outstanding;
      st.error(sent.err().message);
      break;
    }
  }
  state->wake = nullptr;
  st.loops_done.fetch_add(1);
}

}  // namespace sealcast::bench
