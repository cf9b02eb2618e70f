// The state file writer of sealcast::client: changes mark the state dirty, one saver coroutine
// coalesces them for state_save_interval and writes on the client's I/O pool.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "client/client_impl.hpp"
#include "common/asio_nothrow.hpp"
#include "common/detail/coroutine_frame_warning.hpp"

namespace sealcast::client {

namespace {

/// The blocking part of a state write, run on the client's I/O pool.
asio::awaitable<status> write_on_pool(std::filesystem::path path, crypto::secure_bytes payload,
                                      std::string passphrase, crypto::argon2_params kdf) {
  co_return detail::write_state(path, payload, passphrase, kdf);
}

}  // namespace

void client::impl::mark_dirty() {
  if (opts.state_file.empty() || !state_loaded) return;
  dirty = true;
  if (saver_running) return;  // the running saver picks the change up
  saver_running = true;
  asio::co_spawn(ex, saver(shared_from_this()), asio::detached);
}

asio::awaitable<void> client::impl::saver(std::shared_ptr<impl> self) {
  auto& s = *self;
  while (s.dirty) {
    // Coalesce changes for state_save_interval; close() cancels the wait so that the final
    // state is written at once, and once.
    if (!s.closed) {
      s.save_timer.expires_after(s.opts.state_save_interval);
      co_await s.save_timer.async_wait(use_nothrow);
    }
    auto r = co_await s.save_now();
    if (!r) s.warn(warning_kind::state_file, std::nullopt, 0, r.err().message);
  }
  s.saver_running = false;
}

asio::awaitable<status> client::impl::save_now() {
  dirty = false;
  if (!io_pool) io_pool = std::make_unique<asio::thread_pool>(1);
  auto payload = detail::encode_state(id, state);
  // Named locals, not temporaries, in co_await'ed calls (GCC 12 destroys those twice).
  auto pool = io_pool->get_executor();
  auto op = write_on_pool(opts.state_file, std::move(payload), opts.passphrase, opts.kdf);
  last_save = co_await asio::co_spawn(pool, std::move(op), asio::use_awaitable);
  co_return last_save;
}

}  // namespace sealcast::client
