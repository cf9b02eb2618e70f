// What sealcast::client does with pushes from the broker, one at a time and in order: install
// keys after checking them, verify and decrypt messages (fetching gaps, dropping duplicates),
// open direct messages, answer rekey requests, and track membership.

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "client/client_impl.hpp"
#include "client/verify.hpp"
#include "crypto/aead.hpp"
#include "crypto/direct.hpp"
#include "crypto/group_key.hpp"
#include "crypto/message.hpp"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace sealcast::client {

namespace {

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

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

// -- keys ---------------------------------------------------------------------------------------

asio::awaitable<bool> client::impl::install_key(const protocol::server::key& k, bool announce) {
  auto& g = group(k.group);
  if (auto it = g.epochs.find(k.epoch); it != g.epochs.end()) {
    if (it->second.key_id == k.key_id) co_return false;  // already installed (e.g. our own rekey)
    warn(warning_kind::bad_manifest, k.group, k.epoch,
         "a second, different key for epoch " + std::to_string(k.epoch) + " was refused");
    ++stats.keys_rejected;
    co_return false;
  }
  detail::key_check_context ctx;
  ctx.me = &id;
  ctx.broker_id = state.broker;
  ctx.broker_pk = state.broker_pk;
  if (auto prev = g.epochs.find(k.epoch - 1); k.epoch > 1 && prev != g.epochs.end())
    ctx.prev_hash = prev->second.manifest_hash;
  if (k.custody == key_custody::client) {
    auto pk = co_await sign_pk_of(k.issuer);
    if (pk) ctx.issuer_sign_pk = *pk;
  }
  auto checked = detail::check_key_frame(k, ctx);
  if (!checked.ok) {
    ++stats.keys_rejected;
    warn(checked.kind, k.group, k.epoch, checked.message);
    co_return false;
  }
  // group() may have been re-entered across the co_await; look the entry up again.
  auto& ge = group(k.group);
  ge.epochs.insert_or_assign(
      k.epoch, detail::epoch_entry{checked.ok->key, k.key_id, k.alg, k.custody, k.issuer, checked.ok->manifest_hash});
  while (ge.epochs.size() > detail::max_epochs_kept) ge.epochs.erase(ge.epochs.begin());
  ge.epoch = std::max(ge.epoch, k.epoch);
  for (const auto& m : k.manifest.members)
    if (m.user == id.user_id()) ge.role = m.role;
  ge.member_count = k.manifest.members.size();
  ++stats.keys_installed;
  // The broker's key frame for a rekey of ours can be installed (by keys(), a publish or a
  // message catching up) before the rekey's ok arrives: count the answer now, so that
  // rekeys_answered already includes it when on_key reports issued_by_me.
  if (auto fl = rekeys_in_flight.find({k.group, k.epoch});
      fl != rekeys_in_flight.end() && k.issuer == id.user_id() && fl->second.key_id == k.key_id && !fl->second.counted) {
    fl->second.counted = true;
    ++stats.rekeys_answered;
  }
  mark_dirty();
  wake(key_waiters);
  co_await learn_group(k.group);
  if (announce && h.on_key && !closed)
    h.on_key(key_event{k.group, k.epoch, k.key_id, k.alg, k.custody, k.issuer, k.issuer == id.user_id()});
  co_return true;
}

// -- group messages -----------------------------------------------------------------------------

asio::awaitable<result<group_message>> client::impl::open_message(const protocol::server::message& m) {
  const detail::epoch_entry* ek = nullptr;
  auto find_key = [&] {
    auto git = state.groups.find(m.group);
    if (git == state.groups.end()) return;
    auto it = git->second.epochs.find(m.epoch);
    if (it != git->second.epochs.end()) ek = &it->second;
  };
  find_key();
  if (!ek) {
    // Catch up on keys once (an offline client, or a key frame lost to a race).
    protocol::client_frame r_frame(protocol::client::keys{{}, m.group, m.epoch});
    auto r = co_await call_as<protocol::keys_result>(std::move(r_frame));
    if (r)
      for (const auto& k : r->keys) (void)co_await install_key(k, true);
    find_key();
    if (!ek)
      co_return error{errc::not_found, "no key for group " + m.group.hex() + " epoch " + std::to_string(m.epoch)};
  }
  const crypto::group_key key = ek->key;  // copy: the map may change across co_await below

  co_await learn_group(m.group);
  group_message gm;
  gm.group = m.group;
  if (auto git = state.groups.find(m.group); git != state.groups.end()) gm.group_name = git->second.name;
  gm.seq = m.seq;
  gm.id = m.id;
  gm.sender = m.sender;
  gm.epoch = m.epoch;
  gm.alg = m.alg;
  gm.ts = m.ts;
  if (opts.resolve_names) {
    if (!names.contains(m.sender)) co_await refresh_names();
    if (auto it = names.find(m.sender); it != names.end()) gm.sender_name = it->second;
  }

  const crypto::message_context ctx{m.group, m.epoch, m.sender, m.alg};
  const crypto::sealed_message sealed{m.nonce, m.ct, bytes(m.sig.begin(), m.sig.end())};
  auto pk = co_await sign_pk_of(m.sender);
  if (pk) {
    if (auto v = crypto::verify_message_sig(*pk, ctx, sealed); v)
      gm.verified = true;
    else
      gm.warning = "signature of " + m.sender.hex() + " does not verify";
  } else {
    gm.warning = "sender's signing key unavailable: " + pk.err().message;
  }
  // Decrypt with the message key directly, so an unverified message can still be shown with
  // its warning (the AEAD still proves it came from a holder of the epoch key).
  const auto mk = crypto::message_key(key, m.sender);
  auto pt = crypto::aead_open(m.alg, mk.view(), m.nonce, crypto::message_aad(m.group, m.epoch, m.sender), m.ct);
  if (!pt) co_return error{errc::decrypt_failed, "message " + std::to_string(m.seq) + " of group " + m.group.hex() +
                                                     " does not decrypt: " + pt.err().message};
  gm.body.assign(pt->begin(), pt->end());
  co_return gm;
}

void client::impl::deliver(group_message&& gm) {
  ++stats.messages_received;
  if (!gm.verified)
    warn(warning_kind::bad_signature, gm.group, gm.epoch, "message " + std::to_string(gm.seq) + ": " + gm.warning);
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
        const std::uint64_t limit = std::min(m.seq - from, max_gap_fetch);
        protocol::client_frame r_frame(protocol::client::fetch{{}, m.group, from, limit});
        auto r = co_await call_as<protocol::fetch_result>(std::move(r_frame));
        if (!r) {
          // Not handled: the broker redelivers what is not acknowledged.
          warn(warning_kind::gap, m.group, m.epoch, "gap fetch failed: " + r.err().message);
          co_return;
        }
        for (auto& fm : r->messages) {
          auto& gg = group(m.group);
          if (fm.seq >= m.seq || (gg.seq_known && fm.seq <= gg.last_seq)) continue;
          auto gm = co_await open_message(fm);
          auto& g2 = group(m.group);
          g2.last_seq = std::max(g2.last_seq, fm.seq);
          if (!gm) {
            warn(warning_kind::decrypt_failed, m.group, fm.epoch, gm.err().message);
            continue;
          }
          gm->fetched = true;
          ++stats.fetched;
          deliver(std::move(*gm));
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
    warn(warning_kind::decrypt_failed, m.group, m.epoch, gm.err().message);
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
    if (opts.auto_ack) send_frame(protocol::to_json(protocol::client::ack_direct{d.id}));
    co_return;
  }
  direct_message dm;
  dm.id = d.id;
  dm.from = d.from;
  dm.ts = d.ts;
  auto pk = co_await sign_pk_of(d.from);
  bool ok = false;
  if (!pk) {
    warn(warning_kind::bad_signature, std::nullopt, 0,
         "direct " + d.id.hex() + " from " + d.from.hex() + ": sender's key unavailable: " + pk.err().message);
  } else {
    auto pt = crypto::open_direct(id, d.from, *pk, {d.sealed, bytes(d.sig.begin(), d.sig.end())});
    if (pt) {
      dm.body.assign(pt->begin(), pt->end());
      dm.verified = true;
      ok = true;
    } else {
      warn(pt.err().code == errc::decrypt_failed ? warning_kind::decrypt_failed : warning_kind::bad_signature,
           std::nullopt, 0, "direct " + d.id.hex() + " from " + d.from.hex() + " refused: " + pt.err().message);
    }
  }
  if (pk || closed) {
    // Handled (delivered or refused for good): remember and acknowledge it.
    recent.push_back(d.id);
    while (recent.size() > detail::max_recent_directs) recent.pop_front();
    mark_dirty();
    if (opts.auto_ack) send_frame(protocol::to_json(protocol::client::ack_direct{d.id}));
  }
  if (!ok) co_return;
  if (opts.resolve_names) {
    if (!names.contains(d.from)) co_await refresh_names();
    if (auto it = names.find(d.from); it != names.end()) dm.from_name = it->second;
  }
  ++stats.directs_received;
  if (h.on_direct && !closed) h.on_direct(dm);
}

// -- client custody -----------------------------------------------------------------------------

asio::awaitable<void> client::impl::on_rekey_request(const protocol::server::rekey_request& rq) {
  if (!opts.auto_rekey) co_return;
  auto fail = [&](std::string why) {
    warn(warning_kind::rekey_failed, rq.group, rq.epoch,
         "rekey of epoch " + std::to_string(rq.epoch) + " refused: " + std::move(why));
  };
  const auto me = std::find_if(rq.members.begin(), rq.members.end(), [&](const auto& m) { return m.user == id.user_id(); });
  if (me == rq.members.end()) co_return fail("this user is not among the members");
  if (me->role != member_role::owner && me->role != member_role::admin) co_return fail("this user is not owner or admin");
  if (!std::equal(me->kx_pk.begin(), me->kx_pk.end(), id.kx_pk().begin(), id.kx_pk().end()))
    co_return fail("the request lists another key for this user");
  {
    auto& g = group(rq.group);
    if (g.epochs.contains(rq.epoch)) co_return;  // already rekeyed (a request repeated on reconnect)
    if (rq.epoch == 1 && rq.prev_hash != crypto::digest32{}) co_return fail("epoch 1 must chain to zeros");
    if (auto prev = g.epochs.find(rq.epoch - 1); rq.epoch > 1 && prev != g.epochs.end() &&
                                                 prev->second.manifest_hash != rq.prev_hash)
      co_return fail("prev_hash does not match the manifest of epoch " + std::to_string(rq.epoch - 1));
  }
  if (opts.verify_member_keys) {
    for (const auto& m : rq.members) {
      if (m.user == id.user_id()) continue;
      auto k = co_await verified_keys(m.user);
      if (!k) co_return fail("cannot check the keys of member " + m.user.hex() + ": " + k.err().message);
      if (!std::equal(m.kx_pk.begin(), m.kx_pk.end(), k->kx_pk.begin(), k->kx_pk.end()))
        co_return fail("the kx_pk listed for member " + m.user.hex() + " is not the one its identity signed");
    }
  }
  const auto key = crypto::generate_group_key();
  protocol::client::rekey r;
  r.group = rq.group;
  r.epoch = rq.epoch;
  r.key_id = crypto::key_id(rq.group, rq.epoch, key);
  r.alg = opts.rekey_alg;
  crypto::manifest man;
  man.group = rq.group;
  man.epoch = rq.epoch;
  man.key_id = r.key_id;
  man.alg = r.alg;
  man.prev_hash = rq.prev_hash;
  for (const auto& m : rq.members) {
    man.members.push_back({m.user, bytes(m.kx_pk.begin(), m.kx_pk.end()), m.role});
    auto w = crypto::wrap_group_key(m.kx_pk, rq.group, rq.epoch, key);
    if (!w) co_return fail("cannot wrap to " + m.user.hex() + ": " + w.err().message);
    r.wrapped[m.user] = to_array<80>(*w);
  }
  auto sig = man.sign(id.signer());
  auto hash = man.hash();
  if (!sig || !hash) co_return fail("the manifest does not sign");
  r.manifest_sig = to_array<64>(*sig);
  const std::pair<id16, std::uint64_t> flight_key{rq.group, rq.epoch};
  rekeys_in_flight.insert_or_assign(flight_key, rekey_flight{man.key_id, false});
  protocol::client_frame ok_frame(std::move(r));
  auto ok = co_await call_as<protocol::empty_result>(std::move(ok_frame));
  bool counted = false;
  if (auto fl = rekeys_in_flight.find(flight_key); fl != rekeys_in_flight.end()) {
    counted = fl->second.counted;
    rekeys_in_flight.erase(fl);
  }
  if (!ok && !counted) co_return fail("the broker refused it: " + ok.err().message);
  // Counted once per accepted rekey, before on_key reports the epoch (whichever of the ok and
  // the broker's key frame came first). A key frame with our key_id proves acceptance even if
  // the ok itself was lost (e.g. to a reconnect).
  if (!counted) ++stats.rekeys_answered;
  auto& g = group(rq.group);
  if (g.epochs.contains(rq.epoch)) co_return;  // installed from the key frame; on_key fired there
  g.epochs.insert_or_assign(rq.epoch, detail::epoch_entry{key, man.key_id, man.alg, key_custody::client, id.user_id(), *hash});
  g.epoch = std::max(g.epoch, rq.epoch);
  ++stats.keys_installed;
  mark_dirty();
  wake(key_waiters);
  if (h.on_key && !closed) h.on_key(key_event{rq.group, rq.epoch, man.key_id, man.alg, key_custody::client, id.user_id(), true});
}

// -- membership ---------------------------------------------------------------------------------

void client::impl::on_member(const protocol::server::member& m) {
  auto& g = group(m.group);
  if (m.user == id.user_id()) g.member = m.action == protocol::member_action::joined;
  g.epoch = std::max(g.epoch, m.epoch);
  mark_dirty();
  if (h.on_membership && !closed)
    h.on_membership(membership_event{m.group, m.user, static_cast<member_action>(m.action), m.epoch});
}

}  // namespace sealcast::client
