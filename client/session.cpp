// The connection life cycle of sealcast::client: login (challenge, hello, welcome), the reader
// that routes replies to their requests and pushes to the inbox, and reconnecting with backoff.

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <random>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "client/client_impl.hpp"
#include "common/asio_nothrow.hpp"
#include "common/detail/coroutine_frame_warning.hpp"
#include "crypto/auth.hpp"

namespace sealcast::client {

void client::impl::set_state(connection_state s, std::string reason, unsigned attempt) {
  if (st == s && s != connection_state::reconnecting) return;
  st = s;
  wake(conn_waiters);
  if (h.on_connection) h.on_connection(connection_event{s, std::move(reason), attempt});
}

asio::awaitable<status> client::impl::login() {
  auto self = shared_from_this();
  auto c = std::make_shared<detail::ws_connection>(ex);
  const detail::tls_settings tls{opts.tls_verify, opts.tls_ca_file};
  if (auto err = co_await c->open(url, tls, opts.connect_timeout); !err.empty())
    co_return error{errc::internal, "cannot connect to " + opts.url + ": " + err};

  // One deadline for the whole handshake: past it the socket is dropped, which ends the read.
  auto timed_out = std::make_shared<bool>(false);
  asio::steady_timer deadline(ex);
  deadline.expires_after(opts.connect_timeout);
  deadline.async_wait([c, timed_out](const boost::system::error_code& ec) {
    if (!ec) {
      *timed_out = true;
      c->abort();
    }
  });
  auto fail = [&](errc code, std::string why) -> status {
    deadline.cancel();
    c->abort();
    if (*timed_out) why += " (handshake timed out)";
    return error{code, std::move(why)};
  };

  auto [ec, text] = co_await c->read();
  if (ec) co_return fail(errc::internal, "no challenge from " + opts.url + ": " + ec.message());
  auto first = protocol::parse_server_frame(text);
  if (!first || !std::holds_alternative<protocol::server::challenge>(*first))
    co_return fail(errc::bad_request, "the first frame from " + opts.url + " is not a Sealcast challenge");
  const auto ch = std::get<protocol::server::challenge>(*first);
  if (ch.protocol != protocol::protocol_version)
    co_return fail(errc::bad_request, "unsupported protocol version " + std::to_string(ch.protocol));
  const bytes broker_pk(ch.broker_pk.begin(), ch.broker_pk.end());
  if (crypto::user_id_of(broker_pk) != ch.broker)
    co_return fail(errc::bad_key, "the broker's key does not match its id");
  if (!state.broker.is_zero() && (state.broker != ch.broker || state.broker_pk != broker_pk)) {
    // Section 3: a known broker must stay the same broker; every broker-custody epoch this client
    // verified was signed by it.
    const auto why = "the broker's id changed from " + state.broker.hex() + " to " + ch.broker.hex() +
                     "; refusing it (a new broker needs a new state file)";
    warn(warning_kind::broker_changed, std::nullopt, 0, why);
    co_return fail(errc::bad_key, why);
  }

  protocol::client::hello hello;
  hello.sign_pk = to_array<32>(id.sign_pk());
  hello.kx_pk = to_array<32>(id.kx_pk());
  hello.kx_sig = to_array<64>(id.kx_sig());
  hello.sig = to_array<64>(crypto::sign_auth(id.signer(), ch.nonce, ch.broker));
  if (!opts.name.empty()) hello.name = opts.name;
  c->send(protocol::to_json(hello));

  std::vector<protocol::server_frame> after;
  std::optional<protocol::server::welcome> welcome;
  while (!welcome) {
    auto [rec, msg] = co_await c->read();
    if (rec) {
      auto reason = c->close_reason();
      co_return fail(reason.starts_with("4001") ? errc::auth_failed : errc::internal,
                     "no welcome: " + (reason.empty() ? rec.message() : "closed " + reason));
    }
    auto frames = protocol::parse_server_frames(msg);
    if (!frames) co_return fail(errc::bad_request, "unparseable frame before welcome: " + frames.err().message);
    for (auto& f : *frames) {
      if (welcome) {
        after.push_back(std::move(f));  // keys coalesced into the welcome's batch
      } else if (auto* w = std::get_if<protocol::server::welcome>(&f)) {
        if (w->user != id.user_id()) co_return fail(errc::auth_failed, "welcome names another user: " + w->user.hex());
        welcome = std::move(*w);
      } else if (auto* e = std::get_if<protocol::server::error>(&f)) {
        co_return fail(e->code, "hello refused: " + std::string(to_string(e->code)) + ": " + e->message);
      }
    }
  }
  deadline.cancel();
  if (closed) {
    c->close();
    co_return error{errc::internal, "closed during connect"};
  }

  if (state.broker != ch.broker || state.broker_pk != broker_pk) {
    state.broker = ch.broker;
    state.broker_pk = broker_pk;
    mark_dirty();
  }
  for (const auto& wg : welcome->groups) {
    auto& g = group(wg.group);
    g.name = wg.name;
    g.role = wg.role;
    g.epoch = wg.epoch;
    g.member = true;
  }
  mark_dirty();
  conn = c;
  const auto my_gen = ++gen;
  for (auto& f : after) route(f);
  asio::co_spawn(ex, read_loop(self, c, my_gen), asio::detached);
  if (!processor_running) {
    processor_running = true;
    asio::co_spawn(ex, processor(self), asio::detached);
  }
  co_return status{};
}

asio::awaitable<void> client::impl::read_loop(std::shared_ptr<impl> self, std::shared_ptr<detail::ws_connection> c,
                                              std::uint64_t my_gen) {
  for (;;) {
    auto [ec, text] = co_await c->read();
    if (ec) {
      const auto reason = c->close_reason();
      self->on_disconnected(my_gen, reason.empty() ? ec.message() : "closed by the broker: " + reason);
      co_return;
    }
    if (std::getenv("SEALCAST_CLIENT_DEBUG") != nullptr)
      std::fprintf(stderr, "[sealcast-client %s] <- %.*s\n", self->id.user_id().hex().substr(0, 8).c_str(),
                   static_cast<int>(std::min<std::size_t>(text.size(), 300)), text.data());
    auto frames = protocol::parse_server_frames(text);
    if (!frames) {
      self->warn(warning_kind::protocol, std::nullopt, 0, "unparseable frame from the broker: " + frames.err().message);
      continue;
    }
    for (auto& f : *frames) self->route(f);
  }
}

void client::impl::route(protocol::server_frame& f) {
  if (auto* ok = std::get_if<protocol::server::ok>(&f)) {
    auto n = ok->rid.number();
    auto it = n ? pending.find(*n) : pending.end();
    if (it == pending.end()) return;  // a reply that came after its timeout
    auto cs = it->second;
    pending.erase(it);
    cs->ok = std::move(*ok);
    cs->done = true;
    cs->timer.cancel();
    return;
  }
  if (auto* e = std::get_if<protocol::server::error>(&f)) {
    auto n = e->rid ? e->rid->number() : std::nullopt;
    auto it = n ? pending.find(*n) : pending.end();
    if (it == pending.end()) {
      if (!e->rid)
        warn(warning_kind::protocol, std::nullopt, 0,
             "error from the broker: " + std::string(to_string(e->code)) + ": " + e->message);
      return;
    }
    auto cs = it->second;
    pending.erase(it);
    cs->err = std::move(*e);
    cs->done = true;
    cs->timer.cancel();
    return;
  }
  if (std::holds_alternative<protocol::server::challenge>(f) || std::holds_alternative<protocol::server::welcome>(f))
    return;
  inbox.push_back(std::move(f));
  inbox_wake.cancel();
}

void client::impl::fail_pending(const std::string& why) {
  auto p = std::move(pending);
  pending.clear();
  for (auto& [n, cs] : p) {
    cs->lost = why;
    cs->done = true;
    cs->timer.cancel();
  }
}

void client::impl::on_disconnected(std::uint64_t which, const std::string& why) {
  if (which != gen || closed) return;
  conn.reset();
  last_error = why;
  fail_pending("connection lost: " + why);
  if (!opts.reconnect) {
    closed = true;
    set_state(connection_state::closed, "connection lost: " + why);
    inbox_wake.cancel();
    save_timer.cancel();
    mark_dirty();
    return;
  }
  set_state(connection_state::reconnecting, why, 0);
  asio::co_spawn(ex, reconnect_loop(shared_from_this(), why), asio::detached);
}

asio::awaitable<void> client::impl::reconnect_loop(std::shared_ptr<impl> self, std::string why) {
  auto& s = *self;
  std::random_device rd;
  std::mt19937_64 rng(rd());
  auto delay = std::max(s.opts.reconnect_min, std::chrono::milliseconds(1));
  for (unsigned attempt = 1; !s.closed; ++attempt) {
    std::uniform_int_distribution<std::int64_t> jitter(0, delay.count() / 2);
    s.backoff.expires_after(delay + std::chrono::milliseconds(jitter(rng)));
    co_await s.backoff.async_wait(use_nothrow);
    if (s.closed) co_return;
    s.set_state(connection_state::reconnecting, "attempt " + std::to_string(attempt) + " after: " + why, attempt);
    auto r = co_await s.login();
    if (s.closed) co_return;
    if (r) {
      ++s.stats.reconnects;
      s.set_state(connection_state::connected, "reconnected");
      co_return;
    }
    why = r.err().message;
    s.last_error = why;
    if (s.opts.reconnect_attempts != 0 && attempt >= s.opts.reconnect_attempts) {
      s.closed = true;
      s.set_state(connection_state::closed, "gave up reconnecting: " + why);
      s.inbox_wake.cancel();
      s.save_timer.cancel();
      s.mark_dirty();
      co_return;
    }
    delay = std::min(delay * 2, std::max(s.opts.reconnect_max, s.opts.reconnect_min));
  }
}

void client::impl::close() {
  if (closed) return;
  closed = true;
  backoff.cancel();
  save_timer.cancel();  // a waiting saver writes now instead of after state_save_interval
  flush_acks();
  if (conn) conn->close();
  conn.reset();
  fail_pending("client closed");
  inbox_wake.cancel();
  set_state(connection_state::closed, "closed");
  mark_dirty();
}

}  // namespace sealcast::client
