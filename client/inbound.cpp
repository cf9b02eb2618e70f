// What sealcast::client does with pushes from the broker, one at a time and in order: keys and
// rekey requests go to keys.cpp; here messages are verified and opened with the epoch's ratchet
// (fetching gaps, dropping duplicates, refusing replays), direct messages opened (refusing
// replays), and the broker's membership hints noted.

#include <algorithm>

#include <boost/asio/use_awaitable.hpp>

#include "client/client_impl.hpp"
#include "client/epoch_keys.hpp"
#include "common/asio_nothrow.hpp"
#include "common/detail/coroutine_frame_warning.hpp"
#include "crypto/direct.hpp"
#include "crypto/message.hpp"

namespace sealcast::client {

namespace {

/// Most messages one gap fetch asks for.
constexpr std::uint64_t max_gap_fetch = 1000;

}  // namespace

asio::awaitable<void> client::impl::processor(std::shared_ptr<impl> self) {
  auto& s = *self;
  // Acks are cumulative: one per group when the inbox runs dry, or every so many frames under
  // sustained load so that the broker does not start redelivering.
  constexpr unsigned ack_every = 64;
  unsigned since_flush = 0;
  while (!s.closed) {
    if (s.inbox.empty() || ++since_flush >= ack_every) {
      s.flush_acks();
      since_flush = 0;
    }
    if (s.inbox.empty()) {
      s.inbox_wake.expires_at(asio::steady_timer::time_point::max());
      co_await s.inbox_wake.async_wait(use_nothrow);
      continue;
    }
    auto f = std::move(s.inbox.front());
    s.inbox.pop_front();
    co_await s.handle(f);
  }
  s.processor_running = false;
}

asio::awaitable<void> client::impl::handle(protocol::server_frame& f) {
  if (auto* k = std::get_if<protocol::server::key>(&f)) {
    (void)co_await install_key(*k, true);
  } else if (auto* m = std::get_if<protocol::server::message>(&f)) {
    co_await on_message(*m);
  } else if (auto* d = std::get_if<protocol::server::direct>(&f)) {
    co_await on_direct(*d);
  } else if (auto* rq = std::get_if<protocol::server::rekey_request>(&f)) {
    co_await on_rekey_request(*rq);
  } else if (auto* mb = std::get_if<protocol::server::member>(&f)) {
    on_member(*mb);
  } else if (auto* p = std::get_if<protocol::server::presence>(&f)) {
    if (h.on_presence && !closed) h.on_presence(presence_event{p->group, p->user, p->online});
  }
}

// -- group messages -----------------------------------------------------------------------------

asio::awaitable<result<group_message>> client::impl::open_message(const protocol::server::message& m) {
  const auto what = "message " + std::to_string(m.seq) + " of group " + m.group.hex();
  const auto has_epoch = [&] {
    auto git = state.groups.find(m.group);
    return git != state.groups.end() && git->second.epochs.contains(m.epoch);
  };
  if (!has_epoch()) {
    // Catch up on keys once (an offline client, or a key frame lost to a race).
    (void)co_await catch_up_keys(m.group, m.epoch);
    if (!has_epoch()) co_return error{errc::not_found, what + ": no key of epoch " + std::to_string(m.epoch)};
  }

  co_await learn_group(m.group);
  group_message gm;
  gm.group = m.group;
  if (auto git = state.groups.find(m.group); git != state.groups.end()) gm.group_name = git->second.name;
  gm.seq = m.seq;
  gm.id = m.id;
  gm.sender = m.sender;
  gm.epoch = m.epoch;
  gm.index = m.index;
  gm.alg = m.alg;
  gm.ts = m.ts;
  if (opts.resolve_names) {
    if (!names.contains(m.sender)) co_await refresh_names();
    if (auto it = names.find(m.sender); it != names.end()) gm.sender_name = it->second;
  }
  auto pk = co_await sign_pk_of(m.sender);
  if (!pk) co_return error{errc::bad_signature, what + ": the sender's signing key is unavailable: " + pk.err().message};

  // Nothing is awaited from here on: look the epoch up again (it may have been dropped meanwhile).
  if (!has_epoch()) co_return error{errc::not_found, what + ": no key of epoch " + std::to_string(m.epoch)};
  auto& keys = state.groups.at(m.group).epochs.at(m.epoch);
  crypto::message_context ctx;
  ctx.group = m.group;
  ctx.epoch = m.epoch;
  ctx.sender = m.sender;
  ctx.index = m.index;
  ctx.alg = m.alg;
  const crypto::sealed_message sealed{m.nonce, m.ct, bytes(m.sig.begin(), m.sig.end())};
  auto opened = detail::open_message(keys, *pk, ctx, sealed);
  if (!opened.body) {
    const auto code = opened.kind == warning_kind::replay          ? errc::replay
                      : opened.kind == warning_kind::bad_signature ? errc::bad_signature
                                                                   : errc::decrypt_failed;
    co_return error{code, what + ": " + opened.message};
  }
  mark_dirty();  // a receiving chain moved on
  gm.body.assign(opened.body->begin(), opened.body->end());
  gm.verified = true;
  co_return gm;
}

void client::impl::deliver(group_message&& gm) {
  ++stats.messages_received;
  if (h.on_message && !closed) h.on_message(gm);
}

asio::awaitable<void> client::impl::on_message(protocol::server::message& m) {
  {
    auto& g = group(m.group);
    if (g.seq_known && m.seq <= g.last_seq) {
      ++stats.duplicates_dropped;
      if (opts.auto_ack) acks_due[m.group] = std::max(acks_due[m.group], g.last_seq);
      co_return;
    }
    // A gap: seqs between the last one handled and this one that this client did not publish.
    if (g.seq_known && opts.fetch_gaps && m.seq > g.last_seq + 1) {
      auto& own = own_seqs[m.group];
      std::uint64_t from = g.last_seq + 1;
      while (from < m.seq && own.contains(from)) ++from;
      bool missing = false;
      for (auto q = from; q < m.seq && !missing; ++q) missing = !own.contains(q);
      if (missing) {
        ++stats.gaps_detected;
        warn(warning_kind::gap, m.group, m.epoch,
             "seq jumped from " + std::to_string(g.last_seq) + " to " + std::to_string(m.seq) + "; fetching");
        // The broker bounds each reply (by count, bytes and messages scanned) and says where
        // to go on: ask again until the gap is covered.
        for (std::uint64_t got = 0; from < m.seq && got < max_gap_fetch;) {
        const std::uint64_t limit = std::min(m.seq - from, max_gap_fetch - got);
        protocol::client_frame r_frame(protocol::client::fetch{{}, m.group, from, limit});
        auto r = co_await call_as<protocol::fetch_result>(std::move(r_frame));
        if (!r) {
          // Not handled: the broker redelivers what is not acknowledged.
          warn(warning_kind::gap, m.group, m.epoch, "gap fetch failed: " + r.err().message);
          co_return;
        }
        got += r->messages.size();
        const auto next = r->next.value_or(m.seq);
        from = next > from ? next : m.seq;  // a reply must move on; one that does not ends the loop
        for (auto& fm : r->messages) {
          auto& gg = group(m.group);
          if (fm.seq >= m.seq || (gg.seq_known && fm.seq <= gg.last_seq)) continue;
          auto gm = co_await open_message(fm);
          auto& g2 = group(m.group);
          g2.last_seq = std::max(g2.last_seq, fm.seq);
          if (!gm) {
            warn(detail::warning_of(gm.err().code), m.group, fm.epoch, gm.err().message);
            continue;
          }
          gm->fetched = true;
          ++stats.fetched;
          deliver(std::move(*gm));
        }
        }
      }
    }
  }
  auto gm = co_await open_message(m);
  auto& g = group(m.group);
  if (g.seq_known && m.seq <= g.last_seq) co_return;  // handled meanwhile
  g.last_seq = m.seq;
  g.seq_known = true;
  auto& own = own_seqs[m.group];
  own.erase(own.begin(), own.upper_bound(m.seq));
  if (opts.auto_ack) acks_due[m.group] = m.seq;
  mark_dirty();
  if (!gm) {
    warn(detail::warning_of(gm.err().code), m.group, m.epoch, gm.err().message);
    co_return;
  }
  deliver(std::move(*gm));
}

void client::impl::flush_acks() {
  if (acks_due.empty()) return;
  for (const auto& [g, seq] : acks_due) send_frame(protocol::to_json(protocol::client::ack{g, seq}));
  acks_due.clear();
}

// -- direct messages ----------------------------------------------------------------------------

asio::awaitable<void> client::impl::on_direct(protocol::server::direct& d) {
  auto& recent = state.recent_directs;
  if (std::find(recent.begin(), recent.end(), d.id) != recent.end()) {
    // Delivered again (a reconnect, a lost ack): handled already.
    if (opts.auto_ack) send_frame(protocol::to_json(protocol::client::ack_direct{d.id}));
    co_return;
  }
  const auto what = "direct " + d.id.hex() + " from " + d.from.hex();
  // HPKE draws a fresh enc for every seal: one seen before is the same message sent again under
  // another id (section 8).
  detail::enc_prefix enc{};
  const bool has_enc = d.sealed.size() >= enc.size();
  if (has_enc) std::copy_n(d.sealed.begin(), enc.size(), enc.begin());
  const auto seen_enc = [&] {
    return has_enc && std::find(state.recent_encs.begin(), state.recent_encs.end(), enc) != state.recent_encs.end();
  };
  const auto remember = [&](bool opened) {
    recent.push_back(d.id);
    while (recent.size() > detail::max_recent_directs) recent.pop_front();
    if (opened && has_enc) {
      state.recent_encs.push_back(enc);
      while (state.recent_encs.size() > detail::max_recent_encs) state.recent_encs.pop_front();
    }
    mark_dirty();
    if (opts.auto_ack) send_frame(protocol::to_json(protocol::client::ack_direct{d.id}));
  };
  if (seen_enc()) {
    warn(warning_kind::replay, std::nullopt, 0, what + " refused: a replay of a direct message already received");
    remember(false);
    co_return;
  }
  direct_message dm;
  dm.id = d.id;
  dm.from = d.from;
  dm.ts = d.ts;
  auto pk = co_await sign_pk_of(d.from);
  if (!pk) {
    // Not handled: the broker delivers it again (unless the client is closing).
    warn(warning_kind::bad_signature, std::nullopt, 0, what + ": sender's key unavailable: " + pk.err().message);
    if (closed) remember(false);
    co_return;
  }
  if (seen_enc()) {  // the same seal opened meanwhile (two deliveries in flight)
    warn(warning_kind::replay, std::nullopt, 0, what + " refused: a replay of a direct message already received");
    remember(false);
    co_return;
  }
  auto pt = crypto::open_direct(id, d.from, *pk, {d.sealed, bytes(d.sig.begin(), d.sig.end())});
  if (!pt) {
    warn(pt.err().code == errc::decrypt_failed ? warning_kind::decrypt_failed : warning_kind::bad_signature,
         std::nullopt, 0, what + " refused: " + pt.err().message);
    remember(false);
    co_return;
  }
  dm.body.assign(pt->begin(), pt->end());
  dm.verified = true;
  remember(true);
  if (opts.resolve_names) {
    if (!names.contains(d.from)) co_await refresh_names();
    if (auto it = names.find(d.from); it != names.end()) dm.from_name = it->second;
  }
  ++stats.directs_received;
  if (h.on_direct && !closed) h.on_direct(dm);
}

// -- membership ---------------------------------------------------------------------------------

void client::impl::on_member(const protocol::server::member& m) {
  // A hint (section 5): what the client shows as membership is what it verified in epochs. Only
  // this user's own removal has no epoch to verify it by (a removed member gets no key of the
  // epoch that removes it), so that alone is reported, as the broker's word.
  // A hint about a group this client has no state of makes none: a broker pushing hints for
  // random ids must not grow the state file.
  auto it = state.groups.find(m.group);
  if (it == state.groups.end()) return;
  auto& g = it->second;
  g.epoch = std::max(g.epoch, m.epoch);
  if (m.user != id.user_id()) return;
  g.member = m.action == protocol::member_action::joined;
  mark_dirty();
  if (m.action == protocol::member_action::joined || !h.on_membership || closed) return;
  membership_event ev;
  ev.group = m.group;
  ev.epoch = m.epoch;
  ev.action = m.action == protocol::member_action::left ? change_action::leave : change_action::remove;
  ev.user = m.user;
  ev.verified = false;
  h.on_membership(ev);
}

}  // namespace sealcast::client
