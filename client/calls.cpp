// Requests of sealcast::client to the broker: each gets a rid, waits for its reply (matched by
// the reader in session.cpp) within the request timeout, and waits for a connection first while
// reconnecting. Also the warning channel to the application.

#include <cstdio>
#include <cstdlib>

#include "client/client_impl.hpp"
#include "common/asio_nothrow.hpp"
#include "common/detail/coroutine_frame_warning.hpp"

namespace sealcast::client {

namespace {

using steady = std::chrono::steady_clock;

}  // namespace

void client::impl::send_frame(const std::string& json) {
  if (conn) conn->send(json);
}

void client::impl::wake(std::vector<asio::steady_timer*>& list) {
  for (auto* t : list) t->cancel();
}

asio::awaitable<bool> client::impl::wait_until(steady::time_point deadline, std::vector<asio::steady_timer*>& list) {
  // Holds the impl: the waiter list entry must not outlive it.
  auto self = shared_from_this();
  if (steady::now() >= deadline || closed) co_return false;
  asio::steady_timer t(ex);
  t.expires_at(deadline);
  list.push_back(&t);
  co_await t.async_wait(use_nothrow);
  std::erase(list, &t);
  co_return steady::now() < deadline && !closed;
}

asio::awaitable<result<protocol::server::ok>> client::impl::call(protocol::client_frame frame) {
  auto self = shared_from_this();
  const auto type = std::string(protocol::type_of(frame));
  const auto deadline = steady::now() + opts.request_timeout;
  // A request made while reconnecting waits for the connection (within its own timeout).
  while (!conn && st == connection_state::reconnecting && !closed)
    if (!co_await wait_until(deadline, conn_waiters)) break;
  if (closed) co_return error{errc::internal, type + ": client closed"};
  if (!conn) co_return error{errc::internal, type + ": not connected" + (last_error.empty() ? "" : " (" + last_error + ")")};

  const auto n = ++next_rid;
  const auto rid = protocol::request_id::from_number(n);
  std::visit(
      [&](auto& f) {
        if constexpr (requires { f.rid; }) f.rid = rid;
      },
      frame);
  auto cs = std::make_shared<call_state>(ex);
  pending.emplace(n, cs);
  conn->send(protocol::to_json(frame));
  cs->timer.expires_at(deadline);
  while (!cs->done) {
    auto [ec] = co_await cs->timer.async_wait(use_nothrow);
    if (!ec) break;  // expired
  }
  if (!cs->done) {
    pending.erase(n);
    co_return error{errc::internal, type + ": timeout: no reply within " +
                                        std::to_string(opts.request_timeout.count()) + " ms"};
  }
  if (cs->err) co_return error{cs->err->code, cs->err->message};
  if (!cs->ok) co_return error{errc::internal, type + ": " + cs->lost};
  co_return std::move(*cs->ok);
}

void client::impl::warn(warning_kind kind, std::optional<id16> g, std::uint64_t epoch, std::string message) {
  ++stats.warnings;
  if (std::getenv("SEALCAST_CLIENT_DEBUG") != nullptr)
    std::fprintf(stderr, "[sealcast-client %s] warning %s: %s\n", id.user_id().hex().substr(0, 8).c_str(),
                 std::string(to_string(kind)).c_str(), message.c_str());
  if (h.on_warning && !closed) h.on_warning(warning_event{kind, g, epoch, std::move(message)});
}

}  // namespace sealcast::client
