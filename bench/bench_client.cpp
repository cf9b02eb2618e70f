#include "bench/bench_client.hpp"

#include <algorithm>
#include <charconv>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/detached.hpp>

#include "bench/lean_frames.hpp"
#include "common/asio_nothrow.hpp"
#include "common/detail/coroutine_frame_warning.hpp"
#include "crypto/auth.hpp"
#include "crypto/group_key.hpp"
#include "crypto/ratchet.hpp"

namespace sealcast::bench {

namespace asio = boost::asio;

std::uint64_t steady_ns() noexcept {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

std::string reply::describe() const {
  if (ok) return "ok";
  if (error) return std::string(to_string(error->code)) + ": " + error->message;
  return "no reply";
}

bench_client::bench_client(asio::any_io_executor executor, crypto::identity id, client_hooks* hooks)
    : executor_(std::move(executor)), id_(std::move(id)), hooks_(hooks) {}

asio::awaitable<std::string> bench_client::login(ws_target target, std::optional<asio::ip::address> source,
                                                 std::chrono::milliseconds timeout) {
  auto self = shared_from_this();
  conn_ = std::make_shared<ws_connection>(executor_);
  // sealcast.v2, text frames; named locals (see ws_connection::open).
  client::detail::ws_url url{false, target.host, target.port, target.path};
  const client::detail::tls_settings tls{};
  client::detail::connect_options how;
  how.source = source;
  how.subprotocol = "sealcast.v2";
  how.user_agent = "sealcast-bench";
  if (auto err = co_await conn_->open(std::move(url), tls, timeout, std::move(how)); !err.empty()) co_return err;

  // One deadline for the whole handshake: past it the socket is dropped, which ends the read.
  auto done = std::make_shared<bool>(false);
  asio::steady_timer deadline(executor_);
  deadline.expires_after(timeout);
  deadline.async_wait([conn = conn_, done](const boost::system::error_code& ec) {
    if (!ec && !*done) conn->abort();
  });
  auto finish = [&](std::string result) {
    *done = true;
    deadline.cancel();
    if (!result.empty()) conn_->abort();
    return result;
  };

  auto [ec, text] = co_await conn_->read();
  if (ec) co_return finish("no challenge: " + ec.message());
  auto first = protocol::parse_server_frame(text);
  if (!first || !std::holds_alternative<protocol::server::challenge>(*first))
    co_return finish("first frame is not a challenge: " + std::string(text.substr(0, 200)));
  const auto& ch = std::get<protocol::server::challenge>(*first);
  broker_ = ch.broker;
  protocol::client::hello h;
  h.sign_pk = to_array<32>(id_.sign_pk());
  h.kx_pk = to_array<32>(id_.kx_pk());
  h.kx_sig = to_array<64>(id_.kx_sig());
  h.sig = to_array<64>(crypto::sign_auth(id_.signer(), ch.nonce, ch.broker));
  conn_->send(protocol::to_json(h));

  for (;;) {
    auto [rec, msg] = co_await conn_->read();
    if (rec) co_return finish("no welcome: " + rec.message());
    const auto recv_ns = steady_ns();
    auto frames = protocol::parse_server_frames(msg);
    if (!frames) co_return finish("unparseable frame before welcome: " + frames.err().message);
    bool welcomed = false;
    for (auto& f : *frames) {
      if (welcomed) {
        dispatch(f, recv_ns, 0);  // keys coalesced into the welcome's batch
      } else if (auto* w = std::get_if<protocol::server::welcome>(&f)) {
        if (w->user != id_.user_id()) co_return finish("welcome names another user: " + w->user.hex());
        welcomed = true;
      } else if (auto* e = std::get_if<protocol::server::error>(&f)) {
        co_return finish("hello refused: " + std::string(to_string(e->code)) + ": " + e->message);
      }
    }
    if (welcomed) break;
  }
  finish({});
  open_.store(true, std::memory_order_relaxed);
  asio::co_spawn(executor_, read_loop(self), asio::detached);
  co_return std::string{};
}

asio::awaitable<void> bench_client::read_loop(std::shared_ptr<bench_client> self) {
  auto& c = *self;
  for (;;) {
    auto [ec, text] = co_await c.conn_->read();
    if (ec) {
      c.open_.store(false, std::memory_order_relaxed);
      c.fail_pending();
      c.wake_waiters();
      if (c.hooks_) c.hooks_->on_closed(c, ec.message());
      co_return;
    }
    const auto recv_ns = steady_ns();
    c.counters_.messages_in.fetch_add(1, std::memory_order_relaxed);
    c.counters_.bytes_in.fetch_add(text.size(), std::memory_order_relaxed);
    // The hot frames (message, batches of messages) in the writer's form skip the generic parser.
    if (const auto n = parse_message_frames_lean(text, c.lean_)) {
      for (std::size_t i = 0; i < *n; ++i)
        if (c.hooks_) c.hooks_->on_message(c, c.lean_[i], recv_ns);
      c.wake_waiters();
      continue;
    }
    auto frames = protocol::parse_server_frames(text);
    if (!frames) {
      c.counters_.parse_errors.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    const bool single = frames->size() == 1;
    for (auto& f : *frames) c.dispatch(f, recv_ns, single ? text.size() : 0);
    c.wake_waiters();
  }
}

void bench_client::dispatch(protocol::server_frame& f, std::uint64_t recv_ns, std::size_t frame_bytes) {
  if (auto* m = std::get_if<protocol::server::message>(&f)) {
    if (hooks_) hooks_->on_message(*this, *m, recv_ns);
  } else if (auto* k = std::get_if<protocol::server::key>(&f)) {
    on_key(*k, recv_ns, frame_bytes ? frame_bytes : protocol::to_json(*k).size());
  } else if (auto* rq = std::get_if<protocol::server::rekey_request>(&f)) {
    if (hooks_) hooks_->on_rekey_request(*this, *rq);
  } else if (auto* ok = std::get_if<protocol::server::ok>(&f)) {
    auto n = ok->rid.number();
    auto it = n ? pending_.find(*n) : pending_.end();
    if (it == pending_.end()) return;
    auto done = std::move(it->second);
    pending_.erase(it);
    reply r;
    r.ok = std::move(*ok);
    done(std::move(r));
  } else if (auto* e = std::get_if<protocol::server::error>(&f)) {
    auto n = e->rid ? e->rid->number() : std::nullopt;
    auto it = n ? pending_.find(*n) : pending_.end();
    if (it == pending_.end()) {
      counters_.stray_errors.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    auto done = std::move(it->second);
    pending_.erase(it);
    reply r;
    r.error = std::move(*e);
    done(std::move(r));
  }
  // member, presence, direct: nothing to do in these scenarios.
}

void bench_client::on_key(const protocol::server::key& k, std::uint64_t recv_ns, std::size_t frame_bytes) {
  auto key = crypto::unwrap_group_key(id_.kx_sk(), k.group, k.epoch, k.key_id, k.wrapped);
  if (!key) {
    counters_.key_errors.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // The same key again (sent on every login): keep the chains where they are.
  if (auto it = keys_.find({k.group, k.epoch}); it == keys_.end() || !(it->second.key == *key)) {
    epoch_key ek{*key, k.alg, crypto::sender_chain(crypto::initial_chain(*key, id_.user_id()), 0), {}};
    keys_.insert_or_assign({k.group, k.epoch}, std::move(ek));
  }
  if (hooks_) hooks_->on_key(*this, k, recv_ns, frame_bytes);
}

void bench_client::request(protocol::client_frame frame, reply_handler done) {
  if (!open_.load(std::memory_order_relaxed)) {
    done(reply{});
    return;
  }
  const auto n = ++next_rid_;
  const auto rid = protocol::request_id::from_number(n);
  std::visit(
      [&](auto& f) {
        if constexpr (requires { f.rid; }) f.rid = rid;
      },
      frame);
  pending_.emplace(n, std::move(done));
  conn_->send(protocol::to_json(frame));
}

asio::awaitable<reply> bench_client::call(protocol::client_frame frame, std::chrono::milliseconds timeout) {
  // The state outlives this frame if the reply comes after the timeout.
  struct state {
    explicit state(const asio::any_io_executor& ex) : timer(ex) {}
    asio::steady_timer timer;
    std::optional<reply> r;
  };
  auto st = std::make_shared<state>(executor_);
  request(std::move(frame), [st](reply&& r) {
    st->r = std::move(r);
    st->timer.cancel();
  });
  if (!st->r) {
    st->timer.expires_after(timeout);
    co_await st->timer.async_wait(use_nothrow);
  }
  co_return st->r ? std::move(*st->r) : reply{};
}

void bench_client::send(std::string json) {
  if (conn_) conn_->send(std::move(json));
}

asio::awaitable<bool> bench_client::wait_key(id16 group, std::uint64_t epoch, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  asio::steady_timer t(executor_);
  while (!key(group, epoch)) {
    if (!is_open() || std::chrono::steady_clock::now() >= deadline) co_return false;
    t.expires_at(deadline);
    waiters_.push_back(&t);
    co_await t.async_wait(use_nothrow);
    std::erase(waiters_, &t);
  }
  co_return true;
}

const crypto::group_key* bench_client::key(const id16& group, std::uint64_t epoch) const {
  auto it = keys_.find({group, epoch});
  return it == keys_.end() ? nullptr : &it->second.key;
}

result<std::pair<std::uint32_t, crypto::aead_key>> bench_client::next_message_key(const id16& group,
                                                                                  std::uint64_t epoch) {
  auto it = keys_.find({group, epoch});
  if (it == keys_.end()) return error{errc::not_found, "no key of epoch " + std::to_string(epoch)};
  return it->second.own.next();
}

result<crypto::aead_key> bench_client::take_message_key(const id16& group, std::uint64_t epoch, const id16& sender,
                                                        std::uint32_t index) {
  auto it = keys_.find({group, epoch});
  if (it == keys_.end()) return error{errc::not_found, "no key of epoch " + std::to_string(epoch)};
  auto& ek = it->second;
  auto chain = ek.receivers.find(sender);
  if (chain == ek.receivers.end())
    chain = ek.receivers.emplace(sender, crypto::receiver_chain(crypto::initial_chain(ek.key, sender), 0)).first;
  return chain->second.take(index);
}

aead_alg bench_client::alg_of(const id16& group, std::uint64_t epoch) const {
  auto it = keys_.find({group, epoch});
  return it == keys_.end() ? aead_alg::aes_256_gcm : it->second.alg;
}

void bench_client::close() {
  if (conn_) conn_->close();
}

void bench_client::wake_waiters() {
  for (auto* t : waiters_) t->cancel();
}

void bench_client::fail_pending() {
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& [n, done] : pending) done(reply{});
}

}  // namespace sealcast::bench
