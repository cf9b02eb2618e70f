// sealcast::client's life cycle: construction, connect (reading the state file first, on the
// client's I/O pool), waiting for the connection, and close with the final state write.

#include <filesystem>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "client/client_impl.hpp"
#include "common/asio_nothrow.hpp"
#include "common/detail/coroutine_frame_warning.hpp"

namespace sealcast::client {

namespace {

using steady = std::chrono::steady_clock;

/// The blocking state read, run on the client's I/O pool.
/// (co_spawn needs a default-constructible result, hence the optional.)
asio::awaitable<std::optional<result<std::pair<crypto::identity, detail::client_state>>>> read_on_pool(
    std::filesystem::path path, std::string passphrase) {
  co_return detail::read_state(path, passphrase);
}

}  // namespace

client::impl::impl(asio::any_io_executor executor, crypto::identity identity, options o)
    : ex(std::move(executor)), id(std::move(identity)), opts(std::move(o)), backoff(ex), inbox_wake(ex), save_timer(ex) {}

client::impl::~impl() {
  if (io_pool) io_pool->join();
}

// -- client -------------------------------------------------------------------------------------

client::client(asio::any_io_executor executor, crypto::identity id, options opts)
    : impl_(std::make_shared<impl>(std::move(executor), std::move(id), std::move(opts))) {}

client::~client() {
  if (impl_) impl_->close();
}

void client::set_handlers(handlers h) { impl_->h = std::move(h); }

asio::awaitable<status> client::connect() {
  auto self = impl_;
  auto& s = *self;
  if (s.closed) co_return error{errc::internal, "client closed"};
  if (s.st == connection_state::connected) co_return status{};
  if (s.st == connection_state::connecting || s.st == connection_state::reconnecting)
    co_return error{errc::bad_request, "connect: already connecting (use wait_connected)"};
  auto u = detail::parse_ws_url(s.opts.url);
  if (!u) co_return u.err();
  s.url = *u;
  if (!s.state_loaded && !s.opts.state_file.empty()) {
    std::error_code fec;
    if (std::filesystem::exists(s.opts.state_file, fec)) {
      if (!s.io_pool) s.io_pool = std::make_unique<asio::thread_pool>(1);
      auto pool = s.io_pool->get_executor();
      auto op = read_on_pool(s.opts.state_file, s.opts.passphrase);
      auto read = co_await asio::co_spawn(pool, std::move(op), asio::use_awaitable);
      auto& r = *read;
      if (!r) co_return r.err();
      if (r->first.user_id() != s.id.user_id())
        co_return error{errc::bad_key, "state file " + s.opts.state_file.string() + " belongs to user " +
                                           r->first.user_id().hex() + ", not " + s.id.user_id().hex()};
      s.state = std::move(r->second);
      // What this client sent after the last save must never be sent again under the same index
      // (section 7.3); login marks the state dirty, so the skipped indexes are saved soon.
      detail::skip_own_chains(s.state);
    }
    s.state_loaded = true;
  } else if (s.opts.state_file.empty()) {
    s.state_loaded = true;
  }
  s.set_state(connection_state::connecting, "connecting to " + s.opts.url);
  auto r = co_await s.login();
  if (s.closed) co_return error{errc::internal, "client closed"};
  if (!r) {
    s.last_error = r.err().message;
    s.set_state(connection_state::disconnected, r.err().message);
    co_return r;
  }
  s.set_state(connection_state::connected, "connected");
  co_return status{};
}

asio::awaitable<bool> client::wait_connected(std::chrono::milliseconds timeout) {
  auto self = impl_;
  const auto deadline = steady::now() + timeout;
  while (self->st != connection_state::connected) {
    if (self->closed || !co_await self->wait_until(deadline, self->conn_waiters)) break;
  }
  co_return self->st == connection_state::connected;
}

void client::close() { impl_->close(); }

asio::awaitable<status> client::close_and_flush() {
  auto self = impl_;
  self->close();
  self->save_timer.cancel();  // also when the session had already ended (reconnecting gave up)
  if (self->opts.state_file.empty() || !self->state_loaded) co_return status{};
  // close() cancelled the saver's coalescing wait, so a running saver writes the latest state
  // now and stops; wait for it. Write here only what is still unsaved (e.g. no saver ran).
  while (self->saver_running) {
    asio::steady_timer t(self->ex);
    t.expires_after(std::chrono::milliseconds(5));
    co_await t.async_wait(use_nothrow);
  }
  if (!self->dirty) co_return self->last_save;
  co_return co_await self->save_now();
}

}  // namespace sealcast::client
