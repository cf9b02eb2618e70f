// sealcast::client: construction, connect/close, requests with rid correlation and timeouts,
// publish and send_direct, and the state file writer.

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "client/client_impl.hpp"
#include "client/epoch_keys.hpp"
#include "common/asio_nothrow.hpp"
#include "common/detail/coroutine_frame_warning.hpp"
#include "crypto/direct.hpp"
#include "crypto/message.hpp"

namespace sealcast::client {

namespace {

using steady = std::chrono::steady_clock;

/// The blocking part of a state write, run on the client's I/O pool.
asio::awaitable<status> write_on_pool(std::filesystem::path path, crypto::secure_bytes payload,
                                      std::string passphrase, crypto::argon2_params kdf) {
  co_return detail::write_state(path, payload, passphrase, kdf);
}

/// The blocking state read, run on the client's I/O pool.
/// (co_spawn needs a default-constructible result, hence the optional.)
asio::awaitable<std::optional<result<std::pair<crypto::identity, detail::client_state>>>> read_on_pool(
    std::filesystem::path path, std::string passphrase) {
  co_return detail::read_state(path, passphrase);
}

}  // namespace

std::string_view to_string(connection_state s) noexcept {
  switch (s) {
    case connection_state::disconnected: return "disconnected";
    case connection_state::connecting: return "connecting";
    case connection_state::connected: return "connected";
    case connection_state::reconnecting: return "reconnecting";
    case connection_state::closed: return "closed";
  }
  return "unknown";
}

std::string_view to_string(change_action a) noexcept { return protocol::to_string(a); }

std::string_view to_string(warning_kind k) noexcept {
  switch (k) {
    case warning_kind::bad_signature: return "bad_signature";
    case warning_kind::bad_manifest: return "bad_manifest";
    case warning_kind::chain_break: return "chain_break";
    case warning_kind::bad_key: return "bad_key";
    case warning_kind::replay: return "replay";
    case warning_kind::decrypt_failed: return "decrypt_failed";
    case warning_kind::rekey_failed: return "rekey_failed";
    case warning_kind::gap: return "gap";
    case warning_kind::protocol: return "protocol";
    case warning_kind::state_file: return "state_file";
    case warning_kind::broker_changed: return "broker_changed";
  }
  return "unknown";
}

// -- impl ---------------------------------------------------------------------------------------

client::impl::impl(asio::any_io_executor executor, crypto::identity identity, options o)
    : ex(std::move(executor)), id(std::move(identity)), opts(std::move(o)), backoff(ex), inbox_wake(ex), save_timer(ex) {}

client::impl::~impl() {
  if (io_pool) io_pool->join();
}

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

asio::awaitable<result<crypto::public_identity>> client::impl::verified_keys(id16 user) {
  if (auto it = pub_keys.find(user); it != pub_keys.end()) co_return it->second;
  protocol::client_frame r_frame(protocol::client::user_keys{{}, user});
  auto r = co_await call_as<protocol::user_keys_result>(std::move(r_frame));
  if (!r) co_return r.err();
  crypto::public_identity p{bytes(r->sign_pk.begin(), r->sign_pk.end()), bytes(r->kx_pk.begin(), r->kx_pk.end()),
                            bytes(r->kx_sig.begin(), r->kx_sig.end())};
  if (crypto::user_id_of(p.sign_pk) != user)
    co_return error{errc::bad_key, "the broker returned keys that do not belong to user " + user.hex()};
  if (auto v = p.validate(); !v) co_return error{errc::bad_key, "user " + user.hex() + " has unusable keys: " + v.err().message};
  pub_keys[user] = p;
  sign_pks[user] = p.sign_pk;
  co_return p;
}

asio::awaitable<result<bytes>> client::impl::sign_pk_of(id16 user) {
  if (user == id.user_id()) co_return id.sign_pk();
  if (auto it = sign_pks.find(user); it != sign_pks.end()) co_return it->second;
  auto k = co_await verified_keys(user);
  if (!k) co_return k.err();
  co_return k->sign_pk;
}

asio::awaitable<void> client::impl::refresh_names() {
  if (names_refreshed != steady::time_point{} && steady::now() - names_refreshed < std::chrono::seconds(2)) co_return;
  names_refreshed = steady::now();
  protocol::client_frame r_frame(protocol::client::list_users{});
  auto r = co_await call_as<protocol::list_users_result>(std::move(r_frame));
  if (!r) co_return;
  for (const auto& u : r->users) names[u.user] = u.name;
}

asio::awaitable<void> client::impl::learn_group(id16 g) {
  // A group this client was added to while online: its name comes from list_groups, once.
  if (auto it = state.groups.find(g); it != state.groups.end() && !it->second.name.empty()) co_return;
  if (!groups_asked.insert(g).second) co_return;
  protocol::client_frame f(protocol::client::list_groups{});
  auto r = co_await call_as<protocol::list_groups_result>(std::move(f));
  if (!r) co_return;
  for (const auto& gs : r->groups) {
    auto& e = group(gs.group);
    e.name = gs.name;
    e.role = gs.role;
    e.member_count = gs.member_count;
  }
  mark_dirty();
}

detail::group_entry& client::impl::group(const id16& g) { return state.groups[g]; }

void client::impl::warn(warning_kind kind, std::optional<id16> g, std::uint64_t epoch, std::string message) {
  ++stats.warnings;
  if (std::getenv("SEALCAST_CLIENT_DEBUG") != nullptr)
    std::fprintf(stderr, "[sealcast-client %s] warning %s: %s\n", id.user_id().hex().substr(0, 8).c_str(),
                 std::string(to_string(kind)).c_str(), message.c_str());
  if (h.on_warning && !closed) h.on_warning(warning_event{kind, g, epoch, std::move(message)});
}

// -- state file ---------------------------------------------------------------------------------

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

// -- requests -----------------------------------------------------------------------------------

asio::awaitable<result<std::vector<group_summary>>> client::list_groups() {
  auto self = impl_;
  protocol::client_frame r_frame(protocol::client::list_groups{});
  auto r = co_await self->call_as<protocol::list_groups_result>(std::move(r_frame));
  if (!r) co_return r.err();
  std::vector<group_summary> out;
  for (const auto& g : r->groups) {
    auto& e = self->group(g.group);
    e.name = g.name;
    e.role = g.role;
    e.epoch = g.epoch;
    e.member = true;
    e.member_count = g.member_count;
    out.push_back(group_summary{g.group, g.name, g.epoch, g.role, g.member_count});
  }
  self->mark_dirty();
  co_return out;
}

asio::awaitable<result<std::vector<user_info>>> client::list_users() {
  auto self = impl_;
  protocol::client_frame r_frame(protocol::client::list_users{});
  auto r = co_await self->call_as<protocol::list_users_result>(std::move(r_frame));
  if (!r) co_return r.err();
  std::vector<user_info> out;
  for (const auto& u : r->users) {
    self->names[u.user] = u.name;
    out.push_back(user_info{u.user, u.name, u.online});
  }
  self->names_refreshed = steady::now();
  co_return out;
}

asio::awaitable<result<crypto::public_identity>> client::user_keys(id16 user) {
  auto self = impl_;
  co_return co_await self->verified_keys(user);
}

asio::awaitable<result<group_details>> client::group_info(id16 group) {
  auto self = impl_;
  protocol::client_frame r_frame(protocol::client::group_info{{}, group});
  auto r = co_await self->call_as<protocol::group_info_result>(std::move(r_frame));
  if (!r) co_return r.err();
  group_details d;
  d.group = group;
  d.name = r->name;
  d.policy = r->policy;
  d.custody = r->custody;
  d.epoch = r->epoch;
  d.key_id = r->key_id;
  d.next_seq = r->next_seq;
  for (const auto& m : r->members) {
    auto it = self->names.find(m.user);
    d.members.push_back(member_info{m.user, it == self->names.end() ? std::string{} : it->second, m.role, m.online});
  }
  auto& g = self->group(group);
  g.name = r->name;
  g.epoch = r->epoch;
  g.member_count = r->members.size();
  co_return d;
}

asio::awaitable<result<std::vector<id16>>> client::presence(id16 group) {
  auto self = impl_;
  protocol::client_frame r_frame(protocol::client::presence{{}, group});
  auto r = co_await self->call_as<protocol::presence_result>(std::move(r_frame));
  if (!r) co_return r.err();
  co_return std::move(r->online);
}

asio::awaitable<result<std::vector<group_message>>> client::fetch(id16 group, std::uint64_t from_seq,
                                                                  std::optional<std::uint64_t> limit) {
  auto self = impl_;
  protocol::client_frame r_frame(protocol::client::fetch{{}, group, from_seq, limit});
  auto r = co_await self->call_as<protocol::fetch_result>(std::move(r_frame));
  if (!r) co_return r.err();
  std::vector<group_message> out;
  for (const auto& m : r->messages) {
    auto gm = co_await self->open_message(m);
    if (!gm) {
      self->warn(detail::warning_of(gm.err().code), group, m.epoch, gm.err().message);
      continue;
    }
    gm->fetched = true;
    out.push_back(std::move(*gm));
  }
  co_return out;
}

asio::awaitable<result<std::size_t>> client::keys(id16 group, std::uint64_t from_epoch) {
  auto self = impl_;
  std::size_t n = 0;
  for (std::optional<std::uint64_t> from = from_epoch; from;) {
    protocol::client_frame r_frame(protocol::client::keys{{}, group, *from});
    auto r = co_await self->call_as<protocol::keys_result>(std::move(r_frame));
    if (!r) co_return r.err();
    std::sort(r->keys.begin(), r->keys.end(), [](const auto& a, const auto& b) { return a.epoch < b.epoch; });
    for (const auto& k : r->keys)
      if (co_await self->install_key(k, true)) ++n;
    from = r->next && *r->next > *from ? r->next : std::nullopt;
  }
  co_return n;
}

asio::awaitable<result<publish_receipt>> client::publish(id16 group, bytes body) {
  auto self = impl_;
  auto& s = *self;
  const auto deadline = steady::now() + s.opts.request_timeout;
  std::uint64_t refused_epoch = 0;  // an epoch the broker refused: wait for a newer one
  bool caught_up = false;
  for (;;) {
    const auto* g = [&]() -> const detail::group_entry* {
      auto it = s.state.groups.find(group);
      return it == s.state.groups.end() ? nullptr : &it->second;
    }();
    const std::uint64_t e = g && !g->epochs.empty() ? g->epochs.rbegin()->first : 0;
    if (e == 0 || e <= refused_epoch) {
      if (!co_await s.wait_until(deadline, s.key_waiters)) {
        if (s.closed) co_return error{errc::internal, "publish: client closed"};
        co_return error{errc::rekey_pending, "publish: no usable key for group " + group.hex() + " (epoch " +
                                                 std::to_string(e) + ") within the request timeout"};
      }
      continue;
    }
    // The next index of this client's own chain (section 7.2); an index the broker then refuses
    // is simply never used, receivers skip it.
    auto& ek = s.state.groups.at(group).epochs.rbegin()->second;
    crypto::message_context ctx;
    ctx.group = group;
    ctx.epoch = e;
    ctx.sender = s.id.user_id();
    auto sealed = detail::seal_next(ek, s.id.signer(), ctx, body);
    if (!sealed) co_return sealed.err();
    s.mark_dirty();
    protocol::client::publish p;
    p.group = group;
    p.epoch = e;
    p.index = sealed->index;
    p.alg = ek.alg;
    p.nonce = std::move(sealed->msg.nonce);
    p.ct = std::move(sealed->msg.ct);
    p.sig = to_array<64>(sealed->msg.sig);
    protocol::client_frame r_frame(std::move(p));
    auto r = co_await s.call_as<protocol::publish_result>(std::move(r_frame));
    if (r) {
      s.own_seqs[group].insert(r->seq);
      co_return publish_receipt{r->id, r->seq, r->ts, e};
    }
    const auto code = r.err().code;
    if (code == errc::rekey_pending || code == errc::stale_epoch) {
      refused_epoch = e;
      if (code == errc::stale_epoch && !caught_up) {
        caught_up = true;
        (void)co_await s.catch_up_keys(group, e + 1);
      }
      if (steady::now() >= deadline) co_return r.err();
      continue;
    }
    co_return r.err();
  }
}

asio::awaitable<result<publish_receipt>> client::publish(id16 group, std::string_view text) {
  return publish(group, bytes(text.begin(), text.end()));
}

asio::awaitable<result<direct_receipt>> client::send_direct(id16 user, bytes body) {
  auto self = impl_;
  auto keys = co_await self->verified_keys(user);
  if (!keys) co_return keys.err();
  auto sealed = crypto::seal_direct(self->id, user, keys->kx_pk, body);
  if (!sealed) co_return sealed.err();
  protocol::client_frame f(protocol::client::direct{{}, user, std::move(sealed->sealed), to_array<64>(sealed->sig)});
  auto r = co_await self->call_as<protocol::direct_result>(std::move(f));
  if (!r) co_return r.err();
  co_return direct_receipt{r->id, r->ts};
}

asio::awaitable<result<direct_receipt>> client::send_direct(id16 user, std::string_view text) {
  return send_direct(user, bytes(text.begin(), text.end()));
}

void client::ack(id16 group, std::uint64_t seq) { impl_->send_frame(protocol::to_json(protocol::client::ack{group, seq})); }

void client::ack_direct(id16 id) { impl_->send_frame(protocol::to_json(protocol::client::ack_direct{id})); }

// -- inspection ---------------------------------------------------------------------------------

const crypto::identity& client::identity() const noexcept { return impl_->id; }
const id16& client::user_id() const noexcept { return impl_->id.user_id(); }
connection_state client::state() const noexcept { return impl_->st; }
id16 client::broker_id() const { return impl_->state.broker; }

std::vector<group_summary> client::groups() const {
  std::vector<group_summary> out;
  for (const auto& [gid, g] : impl_->state.groups)
    if (g.member) out.push_back(group_summary{gid, g.name, g.epoch, g.role, g.member_count});
  return out;
}

std::uint64_t client::current_epoch(const id16& group) const {
  auto it = impl_->state.groups.find(group);
  if (it == impl_->state.groups.end() || it->second.epochs.empty()) return 0;
  return it->second.epochs.rbegin()->first;
}

bool client::has_key(const id16& group, std::uint64_t epoch) const {
  auto it = impl_->state.groups.find(group);
  return it != impl_->state.groups.end() && it->second.epochs.contains(epoch);
}

std::uint64_t client::verified_epoch(const id16& group) const {
  auto it = impl_->state.groups.find(group);
  return it == impl_->state.groups.end() ? 0 : it->second.chain.epoch;
}

std::vector<member_info> client::verified_members(const id16& group) const {
  std::vector<member_info> out;
  auto it = impl_->state.groups.find(group);
  if (it == impl_->state.groups.end()) return out;
  for (const auto& [user, m] : it->second.chain.members) {
    auto n = impl_->names.find(user);
    out.push_back(member_info{user, n == impl_->names.end() ? std::string{} : n->second, m.role, false});
  }
  return out;
}

std::uint64_t client::last_seq(const id16& group) const {
  auto it = impl_->state.groups.find(group);
  return it == impl_->state.groups.end() ? 0 : it->second.last_seq;
}

std::string client::name_of(const id16& user) const {
  if (user == impl_->id.user_id() && !impl_->opts.name.empty()) return impl_->opts.name;
  auto it = impl_->names.find(user);
  return it == impl_->names.end() ? std::string{} : it->second;
}

client_stats client::stats() const { return impl_->stats; }

const asio::any_io_executor& client::executor() const noexcept { return impl_->ex; }

}  // namespace sealcast::client
