// What sealcast::client sends: group messages sealed with the next index of its own ratchet
// (waiting for a usable key, catching up after stale_epoch), direct messages sealed to the
// recipient's verified key, and acknowledgements.

#include "client/client_impl.hpp"
#include "client/epoch_keys.hpp"
#include "common/detail/coroutine_frame_warning.hpp"
#include "crypto/direct.hpp"
#include "crypto/message.hpp"

namespace sealcast::client {

namespace {

using steady = std::chrono::steady_clock;

}  // namespace

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
    // The broker named a newer epoch (welcome, an add's reply) than the newest key held: its key
    // frame may simply not have arrived yet. Ask for it once rather than seal under the old
    // epoch, which the broker still accepts for a grace period but which a member added since
    // cannot read. Without an answer, the newest key held is used and the broker decides.
    if (g && e != 0 && g->epoch > e && !caught_up) {
      caught_up = true;
      (void)co_await s.catch_up_keys(group, e + 1);
      continue;
    }
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

}  // namespace sealcast::client
