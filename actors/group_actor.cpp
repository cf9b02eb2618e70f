#include <caf/all.hpp>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <chrono>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "actors/events.hpp"
#include "actors/group_state.hpp"
#include "actors/scheduler.hpp"
#include "common/log.hpp"
#include "common/overloaded.hpp"
#include "common/time.hpp"
#include "persistence/keys.hpp"
#include "protocol/codec.hpp"

namespace sealcast::actors {

namespace {

using persistence::member_role;
namespace pc = protocol::client;

std::string member_frame(const id16& group, const id16& user, protocol::member_action action, std::uint64_t epoch) {
  return protocol::to_json(protocol::server::member{group, user, action, epoch});
}

/// Test hook: with SEALCAST_TEST_GROUP_FAILS=<n> in the environment, the n-th `group_info`
/// handled by any group actor throws, so that the actor fails as an unexpected error would end
/// it (the integration tests check that its route is closed and the group reloads).
bool group_fault_due() {
  static const std::uint64_t at = [] {
    const char* v = std::getenv("SEALCAST_TEST_GROUP_FAILS");
    if (v == nullptr || *v == '\0') return std::uint64_t{0};
    const auto n = std::strtoull(v, nullptr, 10);
    if (n != 0)
      log::warn("group", "TEST HOOK ACTIVE: a group actor will fail; never use this in production",
                {{"variable", "SEALCAST_TEST_GROUP_FAILS"}, {"at", std::to_string(n)}});
    return static_cast<std::uint64_t>(n);
  }();
  static std::atomic<std::uint64_t> seen{0};
  return at != 0 && seen.fetch_add(1, std::memory_order_relaxed) + 1 == at;
}

group_actor::behavior_type group_behavior(group_actor_t* self) {
  auto& st = self->state;
  const auto retry = std::chrono::seconds(std::max<std::int64_t>(1, st.svc->cfg.pubsub.retry_interval.count()));
  self->delayed_send(self, retry, retry_atom::value);
  self->set_exit_handler([self](const caf::exit_msg& msg) {
    auto& s = self->state;
    // A member whose change is still being written keeps its stored row: its old state written
    // now could land after the change.
    if (s.change_subject)
      if (auto* m = s.find_member(*s.change_subject)) m->dirty = false;
    s.flush_cursors();
    self->quit(msg.reason);
  });
  return {
      [self](client_request& req) {
        auto& s = self->state;
        if (std::holds_alternative<pc::group_info>(req.frame) && group_fault_due())
          throw std::runtime_error("SEALCAST_TEST_GROUP_FAILS: failing on purpose");
        s.touched();
        if (s.changing) {
          s.stash.push_back(std::move(req));
          return;
        }
        s.handle(req);
      },
      [self](backlog_atom, presence_change& p) -> bool {
        self->state.touched();
        // A user connected: keys and backlog go out now; the answer lets the directory send
        // the direct-message backlog after every group's (PROTOCOL.md section 3).
        self->state.on_online(p.user, p.conn);
        return true;
      },
      [self](presence_change& p) {
        self->state.touched();
        if (p.online)
          self->state.on_online(p.user, p.conn, p.restore);
        else
          self->state.on_offline(p.user, p.conn);
      },
      [self](stream_ready& r) { self->state.on_stream_ready(r.user, r.conn); },
      [self](pump_atom) { self->state.run_pumps(); },
      [self](write_done& w) {
        auto& s = self->state;
        auto it = s.writes.find(w.token);
        if (it == s.writes.end()) return;
        auto then = std::move(it->second);
        s.writes.erase(it);
        then(w);
      },
      [self, retry](retry_atom) {
        auto& s = self->state;
        self->delayed_send(self, retry, retry_atom::value);
        if (s.idle_offered) return;  // waiting for the directory's answer: nothing starts
        s.retry_tick();
        s.maybe_rotate_by_policy();
        s.maybe_offer_idle();
      },
      [self](stop_atom) {
        // The directory accepted the offer and forgot this actor: what it holds is stored.
        self->state.flush_cursors();
        self->quit();
      },
      [self](clean_atom) {
        auto& s = self->state;
        s.touched();
        if (s.change_subject) {
          s.clean_after_change = true;  // it flushes cursors: after the change (change_subject)
          return;
        }
        s.clean_tick();
      },
      [self](flush_atom) {
        auto& s = self->state;
        s.cursor_flush_scheduled = false;
        if (s.change_subject) {
          s.flush_after_change = true;
          return;
        }
        s.flush_cursors();
      },
      [self](rotate_request& r) {
        self->state.touched();
        if (self->state.defunct) {
          if (r.done) r.done(0, error{errc::not_found, "unknown group"});
          return;
        }
        if (self->state.changing) {
          if (r.done) r.done(0, error{errc::rekey_pending, "a membership change is in progress; try again"});
          return;
        }
        // The scheduler read the stored record: the epoch may have rotated since.
        if (r.reason == rotation_by_age &&
            !epoch_aged(self->state.rec, self->state.svc->cfg.pubsub.key_rotation_interval, now_ms()))
          return;
        self->state.rotate(r);
      },
      [self](deadline_atom, std::uint64_t epoch) { self->state.on_rekey_deadline(epoch); },
      [self](group_query& q) {
        self->state.touched();
        if (!q.done) return;
        if (self->state.defunct) return q.done(std::nullopt);
        q.done(self->state.snapshot());
      },
      [self](message_query& q) {
        self->state.touched();
        if (!q.done) return;
        if (self->state.defunct) return q.done(std::nullopt);
        q.done(self->state.message_status(q.seq, q.id));
      },
  };
}

}  // namespace

// -- lifecycle --------------------------------------------------------------------------------

bool group_state::load(const id16& group) {
  auto& store = *svc->store;
  auto g = store.get_group(group);
  if (!g) return false;
  rec = std::move(*g);
  auto ms = store.members_of(group);
  if (ms) {
    for (auto& m : *ms) {
      member_state st;
      st.rec = m;
      if (auto u = store.get_user(m.user)) {
        st.kx_pk = u->kx_pk;
        st.sign_pk = u->sign_pk;
      }
      st.sent_seq = m.acked_seq;
      members.emplace(m.user, std::move(st));
    }
  }
  // The pending messages: metadata only, read in pages so that a large backlog never sits in
  // memory; frames are read back when needed.
  window.clear();
  window_base = rec.next_seq;
  constexpr std::size_t load_page = 64;
  for (std::uint64_t from = 0;;) {
    auto msgs = store.messages_of(group, from, load_page);
    if (!msgs || msgs->empty()) break;
    for (auto& m : *msgs) {
      if (m.seq >= rec.next_seq) continue;
      if (window.empty()) window_base = m.seq;
      while (window_base + window.size() < m.seq) {
        pending_message gap;  // a seq with no stored message (deleted or never written): settled
        gap.seq = window_base + window.size();
        gap.dead = true;
        window.push_back(std::move(gap));
      }
      window.push_back(pending_message{m.seq, m.id, m.sender, m.epoch, m.ts_ms, 0, nullptr, true, false});
    }
    from = msgs->back().seq + 1;
    if (msgs->size() < load_page) break;
  }
  while (!window.empty() && window_base + window.size() < rec.next_seq) {
    pending_message gap;
    gap.seq = window_base + window.size();
    gap.dead = true;
    window.push_back(std::move(gap));
  }
  // Failed deliveries of the stored messages; rows of messages gone meanwhile are dropped.
  if (auto failures = store.delivery_failures_of(group)) {
    persistence::write_batch stale;
    for (auto& f : *failures) {
      auto* e = entry(f.seq);
      if (e && !e->dead) {
        failed_deliveries[f.seq].push_back(f.user);  // rows come in seq, then user order
      } else if (stale.empty() || stale.ops().back().key != persistence::keys::prefix(group, f.seq)) {
        stale.delete_delivery_failures(group, f.seq, f.seq + 1);
      }
    }
    if (!stale.empty()) svc->writer->submit(std::move(stale), nullptr);
  }
  for (auto& [id, m] : members) skip_settled(m);
  load_key_holders(rec.epoch);
  if (rec.pending_epoch != 0 && rec.pending_epoch != rec.epoch) load_key_holders(rec.pending_epoch);
  loaded = true;
  svc->counters.groups_loaded.fetch_add(1, std::memory_order_relaxed);
  return true;
}

group_actor spawn_group(caf::actor_system& sys, std::shared_ptr<services> svc, const id16& group) {
  return sys.spawn([svc, group](group_actor_t* self) -> group_actor::behavior_type {
    self->state.self = self;
    self->state.svc = svc;
    if (!self->state.load(group)) {
      log::error("group", "group vanished from the store", {{"group", group.hex()}});
      self->quit();
      return {group_actor::behavior_type::unsafe_init{}, caf::behavior{}};  // none: it has quit
    }
    // Members online before this load (an unloaded group is reloaded by any request).
    members_online ask{group, {}};
    for (auto& [id, m] : self->state.members) ask.users.push_back(id);
    self->send(svc->directory, std::move(ask));
    return group_behavior(self);
  });
}

group_actor spawn_new_group(caf::actor_system& sys, std::shared_ptr<services> svc, group_creation c) {
  return sys.spawn([svc, c = std::move(c)](group_actor_t* self) mutable -> group_actor::behavior_type {
    self->state.self = self;
    self->state.svc = svc;
    self->state.create(c);
    return group_behavior(self);
  });
}

void group_state::create(group_creation& c) {
  rec = c.group;
  loaded = true;
  svc->counters.groups_loaded.fetch_add(1, std::memory_order_relaxed);
  window_base = rec.next_seq;
  persistence::write_batch batch;
  const auto now = now_ms();
  // The members enter memory once the creation is stored.
  std::map<id16, member_state> founding;
  for (auto& [user, role] : c.members) {
    member_state m;
    m.rec = persistence::member_record{rec.id, user.id, role, now, 0, rec.next_seq};
    m.kx_pk = user.kx_pk;
    m.sign_pk = user.sign_pk;
    batch.put_member(m.rec);
    founding.emplace(user.id, std::move(m));
  }
  std::vector<persistence::manifest_member> next;
  next.reserve(founding.size());
  for (auto& [id, m] : founding) next.push_back({id, m.kx_pk, m.rec.role});
  // Genesis (docs/protocol.md 6.5): the creator as owner first, then the others in order.
  std::vector<persistence::change_record> genesis;
  for (auto& [user, role] : c.members)
    genesis.push_back(make_change(crypto::change_action::add, user.id, user.kx_pk, static_cast<std::uint8_t>(role),
                                  rec.owner));
  changing = true;
  auto conn = c.conn;
  auto rid = c.rid;
  auto founded = std::make_shared<std::map<id16, member_state>>(std::move(founding));
  start_epoch(
      "created", true, std::move(genesis), std::move(next), std::move(batch),
      [this, conn, rid](std::uint64_t epoch, const std::optional<error>& err) {
        if (err) {
          // Nothing was stored: the group does not exist, and this actor refuses everything
          // sent to it from now on.
          defunct = true;
          reply_error(conn, rid, errc::internal, "the group could not be created: " + err->message);
          finish_change();
          return;
        }
        // In client custody the group has no key until the first rekey: epoch 0 (PROTOCOL.md 5).
        const auto reported = rec.custody == persistence::key_custody::client ? rec.epoch : epoch;
        reply(conn, protocol::make_ok(rid, protocol::create_group_result{rec.id, reported}));
        // Ask the directory which members are online so that they receive the key and messages.
        for (auto& [id, m] : members) self->send(svc->directory, online_atom::value, rec.id, id);
        finish_change();
      },
      [this, founded] {
        // Stored: the members exist now, and the creation's events precede its first key_rotated.
        members = std::move(*founded);
        svc->emit(event{event_type::group_created, rec.id, rec.owner, std::nullopt,
                        event_data({{"name", rec.name},
                                    {"custody", protocol::to_string(static_cast<protocol::key_custody>(rec.custody))},
                                    {"members", members.size()}})});
        for (auto& [id, m] : members) svc->emit(event{event_type::member_joined, rec.id, id, std::nullopt, "{}"});
        log::info("group", "group created",
                  {{"group", rec.id.hex()}, {"owner", rec.owner.hex()}, {"members", members.size()}});
      });
}

void group_state::finish_change() {
  changing = false;
  change_subject.reset();
  // What waited for the change: cursor flushes and the cleanup that writes member rows.
  if (std::exchange(clean_after_change, false)) clean_tick();
  if (std::exchange(flush_after_change, false)) flush_cursors();
  while (!stash.empty() && !changing) {
    auto req = std::move(stash.front());
    stash.pop_front();
    handle(req);
  }
}

// -- helpers ----------------------------------------------------------------------------------

void group_state::reply(const connection_ptr& conn, std::string json) const {
  if (conn) conn->send(std::make_shared<const std::string>(std::move(json)));
}

void group_state::reply_error(const connection_ptr& conn, const protocol::request_id& rid, errc code,
                              std::string message) const {
  log::write(code == errc::internal ? log::level::error : log::level::info, "group", "request refused",
             {{"group", rec.id.hex()}, {"code", to_string(code)}, {"message", message}});
  reply(conn, protocol::to_json(protocol::server::error{rid, code, std::move(message)}));
}

void group_state::commit(persistence::write_batch batch, std::function<void(const write_done&)> then) {
  const auto token = ++next_token;
  writes.emplace(token, std::move(then));
  auto me = caf::actor_cast<group_actor>(self);
  svc->writer->submit(std::move(batch), [me, token](const status& st) {
    caf::anon_send(me, write_done{token, st.ok(), st.ok() ? std::string{} : st.err().message});
  });
}

member_state* group_state::find_member(const id16& user) {
  auto it = members.find(user);
  return it == members.end() ? nullptr : &it->second;
}

void group_state::touched() {
  ++received;
  idle_ticks = 0;
  idle_offered = false;
}

void group_state::maybe_offer_idle() {
  // Idle: nobody online, nothing pending, nothing being written or waited for. Two retry ticks
  // in a row, then the directory is offered this actor's stop.
  bool idle = window.empty() && writes.empty() && !changing && stash.empty() && !rekey_asked &&
              rec.pending_epoch == 0;
  for (auto& [id, m] : members) idle = idle && m.conns.empty() && !m.dirty;
  if (!idle) {
    idle_ticks = 0;
    return;
  }
  if (++idle_ticks < 2) return;
  idle_offered = true;
  self->send(svc->directory, idle_atom::value, rec.id, received);
}

bool group_state::is_admin(const id16& user) const {
  auto it = members.find(user);
  return it != members.end() &&
         (it->second.rec.role == member_role::owner || it->second.rec.role == member_role::admin);
}

void group_state::push_to_members(const std::shared_ptr<const std::string>& frame, const id16* except) const {
  for (auto& [id, m] : members) {
    if (except && id == *except) continue;
    for (auto& c : m.conns) c->send(frame);
  }
}

// -- requests ---------------------------------------------------------------------------------

void group_state::handle(client_request& req) {
  auto& conn = req.conn;
  const id16 user = req.user;
  if (defunct) {
    if (auto rid = protocol::rid_of(req.frame))
      reply_error(conn, *rid, errc::internal, "the group could not be created; create it again");
    return;
  }
  std::visit(
      overloaded{
          [&](pc::publish& p) { accept_publish(req, p); },
          [&](pc::ack& a) { on_ack(user, a.seq); },
          [&](pc::fetch& f) { fetch(req, f); },
          [&](pc::keys& k) { keys_request(req, k); },
          [&](pc::rekey& r) { on_rekey(req, r); },
          [&](pc::manifests& m) { manifests_request(req, m); },
          [&](pc::group_info& g) {
            // An open group's members and epoch are no secret: a client about to join signs its
            // join proposal against the current epoch (docs/protocol.md 6.3).
            if (!find_member(user) && rec.policy != persistence::group_policy::open)
              return reply_error(conn, g.rid, errc::not_member, "not a member of this group");
            protocol::group_info_result r;
            r.name = rec.name;
            r.policy = static_cast<protocol::group_policy>(rec.policy);
            r.custody = static_cast<protocol::key_custody>(rec.custody);
            r.epoch = rec.epoch;
            if (auto* e = epoch_rec(rec.epoch)) r.key_id = e->key_id;
            for (auto& [id, m] : members)
              r.members.push_back({id, static_cast<protocol::member_role>(m.rec.role), !m.conns.empty()});
            r.next_seq = rec.next_seq;
            reply(conn, protocol::make_ok(g.rid, r));
          },
          [&](pc::presence& p) {
            if (!find_member(user)) return reply_error(conn, p.rid, errc::not_member, "not a member of this group");
            protocol::presence_result r;
            for (auto& [id, m] : members)
              if (!m.conns.empty()) r.online.push_back(id);
            reply(conn, protocol::make_ok(p.rid, r));
          },
          [&](pc::join& j) {
            if (find_member(user)) return reply_error(conn, j.rid, errc::exists, "already a member of this group");
            if (rec.policy != persistence::group_policy::open)
              return reply_error(conn, j.rid, errc::forbidden, "this group is invite-only");
            if (members.size() >= rec.max_members)
              return reply_error(conn, j.rid, errc::group_full, "the group has reached max_members");
            auto u = req.subject ? result<persistence::user_record>(*req.subject) : svc->store->get_user(user);
            if (!u) return reply_error(conn, j.rid, errc::internal, "user record not found");
            auto change = proposed_change(req, crypto::change_action::join, user, u->kx_pk,
                                          static_cast<std::uint8_t>(member_role::member), j.epoch, j.proposal);
            if (!change) return reply_error(conn, j.rid, change.err().code, change.err().message);
            if (auto q = quota.join(svc->cfg.limits, user); !q) return reply_error(conn, j.rid, q.err().code, q.err().message);
            admit_member(conn, j.rid, *u, member_role::member, "member joined", std::move(*change));
          },
          [&](pc::add_member& a) {
            if (!find_member(user)) return reply_error(conn, a.rid, errc::not_member, "not a member of this group");
            if (!is_admin(user)) return reply_error(conn, a.rid, errc::forbidden, "only the owner or an admin may add members");
            if (a.role == protocol::member_role::owner)
              return reply_error(conn, a.rid, errc::bad_request, "field 'role' must be \"member\" or \"admin\"");
            if (find_member(a.user)) return reply_error(conn, a.rid, errc::exists, "already a member of this group");
            if (members.size() >= rec.max_members)
              return reply_error(conn, a.rid, errc::group_full, "the group has reached max_members");
            auto u = req.subject ? result<persistence::user_record>(*req.subject) : svc->store->get_user(a.user);
            if (!u) return reply_error(conn, a.rid, errc::unknown_user, "unknown user " + a.user.hex());
            auto change = proposed_change(req, crypto::change_action::add, a.user, u->kx_pk,
                                          static_cast<std::uint8_t>(a.role), a.epoch, a.proposal);
            if (!change) return reply_error(conn, a.rid, change.err().code, change.err().message);
            if (auto q = quota.add(svc->cfg.limits, rec.custody == persistence::key_custody::broker); !q)
              return reply_error(conn, a.rid, q.err().code, q.err().message);
            admit_member(conn, a.rid, *u, static_cast<member_role>(a.role), "member added", std::move(*change));
          },
          [&](pc::leave& l) {
            auto* m = find_member(user);
            if (!m) return reply_error(conn, l.rid, errc::not_member, "not a member of this group");
            if (m->rec.role == member_role::owner)
              return reply_error(conn, l.rid, errc::forbidden, "the owner cannot leave the group");
            auto change = proposed_change(req, crypto::change_action::leave, user, key32{}, 0, l.epoch, l.proposal);
            if (!change) return reply_error(conn, l.rid, change.err().code, change.err().message);
            remove_member(conn, l.rid, user, protocol::member_action::left, std::move(*change));
          },
          [&](pc::remove_member& r) {
            if (!find_member(user)) return reply_error(conn, r.rid, errc::not_member, "not a member of this group");
            if (!is_admin(user)) return reply_error(conn, r.rid, errc::forbidden, "only the owner or an admin may remove members");
            auto* target = find_member(r.user);
            if (!target) return reply_error(conn, r.rid, errc::not_found, "user " + r.user.hex() + " is not a member");
            if (target->rec.role == member_role::owner)
              return reply_error(conn, r.rid, errc::forbidden, "the owner cannot be removed");
            auto change = proposed_change(req, crypto::change_action::remove, r.user, key32{}, 0, r.epoch, r.proposal);
            if (!change) return reply_error(conn, r.rid, change.err().code, change.err().message);
            remove_member(conn, r.rid, r.user, protocol::member_action::removed, std::move(*change));
          },
          [&](pc::set_role& r) {
            if (!find_member(user)) return reply_error(conn, r.rid, errc::not_member, "not a member of this group");
            if (!is_admin(user)) return reply_error(conn, r.rid, errc::forbidden, "only the owner or an admin may change roles");
            if (r.role == protocol::member_role::owner)
              return reply_error(conn, r.rid, errc::bad_request, "field 'role' must be \"member\" or \"admin\"");
            auto* target = find_member(r.user);
            if (!target) return reply_error(conn, r.rid, errc::not_found, "user " + r.user.hex() + " is not a member");
            if (target->rec.role == member_role::owner)
              return reply_error(conn, r.rid, errc::forbidden, "the owner's role cannot be changed");
            if (target->rec.role == static_cast<member_role>(r.role))
              return reply_error(conn, r.rid, errc::exists, "the member already has that role");
            auto change = proposed_change(req, crypto::change_action::role, r.user, key32{},
                                          static_cast<std::uint8_t>(r.role), r.epoch, r.proposal);
            if (!change) return reply_error(conn, r.rid, change.err().code, change.err().message);
            change_role(conn, r.rid, r.user, static_cast<member_role>(r.role), std::move(*change));
          },
          [&](auto& other) {
            reply(conn, protocol::to_json(protocol::server::error{
                            protocol::rid_of(protocol::client_frame{other}), errc::internal,
                            "request not handled by the group"}));
          },
      },
      req.frame);
}

namespace {

/// `members` (in user id order) with `m` inserted, replaced or, when `remove`, taken out.
std::vector<persistence::manifest_member> with_member(std::vector<persistence::manifest_member> members,
                                                      const persistence::manifest_member& m, bool remove = false) {
  auto it = std::lower_bound(members.begin(), members.end(), m.user,
                             [](const persistence::manifest_member& a, const id16& b) { return a.user < b; });
  const bool found = it != members.end() && it->user == m.user;
  if (remove) {
    if (found) members.erase(it);
  } else if (found) {
    *it = m;
  } else {
    members.insert(it, m);
  }
  return members;
}

}  // namespace

// A membership change touches memory only once its write is durable: until then the actor is
// exactly what the store holds, and a change that could not be stored answers `internal` and
// sends nothing else (no key frame, member frame or event).

void group_state::admit_member(const connection_ptr& conn, const protocol::request_id& rid,
                               const persistence::user_record& user, persistence::member_role role,
                               std::string reason, persistence::change_record change) {
  // A new member is a recipient from the next seq on: nothing published before it joined.
  member_state m;
  m.rec = persistence::member_record{rec.id, user.id, role, now_ms(), rec.next_seq - 1, rec.next_seq};
  m.kx_pk = user.kx_pk;
  m.sign_pk = user.sign_pk;
  m.sent_seq = m.rec.acked_seq;
  persistence::write_batch batch;
  batch.put_member(m.rec);
  auto next = with_member(manifest_members(), {user.id, user.kx_pk, role});
  changing = true;
  const id16 added = user.id;
  start_epoch(std::move(reason), false, {std::move(change)}, std::move(next), std::move(batch),
              [this, conn, rid, added, m = std::move(m)](std::uint64_t epoch, const std::optional<error>& err) mutable {
                if (err) {
                  reply_error(conn, rid, err->code, err->message);
                  finish_change();
                  return;
                }
                members.emplace(added, std::move(m));
                svc->emit(event{event_type::member_joined, rec.id, added, std::nullopt, "{}"});
                reply(conn, protocol::make_ok(rid, protocol::epoch_result{epoch}));
                push_to_members(std::make_shared<const std::string>(
                    member_frame(rec.id, added, protocol::member_action::joined, epoch)));
                self->send(svc->directory, online_atom::value, rec.id, added);
                finish_change();
              });
}

void group_state::remove_member(const connection_ptr& conn, const protocol::request_id& rid, const id16& user,
                                protocol::member_action action, persistence::change_record change) {
  persistence::write_batch batch;
  batch.delete_member(rec.id, user);
  auto next = with_member(manifest_members(), {user, {}, member_role::member}, true);
  changing = true;
  change_subject = user;
  start_epoch(action == protocol::member_action::left ? "member left" : "member removed", true, {std::move(change)},
              std::move(next), std::move(batch),
              [this, conn, rid, user, action](std::uint64_t epoch, const std::optional<error>& err) {
                if (err) {
                  reply_error(conn, rid, err->code, err->message);
                  finish_change();
                  return;
                }
                auto leaving = members.extract(user);
                svc->emit(event{event_type::member_left, rec.id, user, std::nullopt,
                                std::string("{\"reason\":\"") +
                                    (action == protocol::member_action::left ? "left" : "removed") + "\"}"});
                reply(conn, protocol::make_ok(rid, protocol::epoch_result{epoch}));
                auto frame = std::make_shared<const std::string>(member_frame(rec.id, user, action, epoch));
                push_to_members(frame);
                if (!leaving.empty())
                  for (auto& c : leaving.mapped().conns) c->send(frame);
                delete_delivered();
                finish_change();
              });
}

void group_state::change_role(const connection_ptr& conn, const protocol::request_id& rid, const id16& user,
                              persistence::member_role role, persistence::change_record change) {
  auto* m = find_member(user);
  auto updated = m->rec;
  updated.role = role;
  persistence::write_batch batch;
  batch.put_member(updated);
  auto next = with_member(manifest_members(), {user, m->kx_pk, role});
  changing = true;
  change_subject = user;
  start_epoch("role changed", false, {std::move(change)}, std::move(next), std::move(batch),
              [this, conn, rid, user, role](std::uint64_t epoch, const std::optional<error>& err) {
                if (err) {
                  reply_error(conn, rid, err->code, err->message);
                  finish_change();
                  return;
                }
                // The row was written with the cursor of the request; a cursor moved meanwhile
                // is dirty and its flush (held until finish_change) writes the new role too.
                if (auto* target = find_member(user)) target->rec.role = role;
                reply(conn, protocol::make_ok(rid, protocol::epoch_result{epoch}));
                finish_change();
              });
}

result<persistence::change_record> group_state::proposed_change(const client_request& req, crypto::change_action action,
                                                               const id16& subject, const key32& kx_pk,
                                                               std::uint8_t role, std::optional<std::uint64_t> epoch,
                                                               const std::optional<sig64>& proposal) {
  auto change = make_change(action, subject, kx_pk, role, req.user);
  if (rec.custody != persistence::key_custody::client) return change;
  if (!epoch || !proposal)
    return error{errc::bad_request,
                 "a client-custody group needs fields 'epoch' and 'proposal': the change signed by its proposer"};
  if (rec.epoch == 0) return error{errc::rekey_pending, "the group's first key is not committed yet"};
  if (*epoch != rec.epoch)
    return error{errc::stale_epoch, "the proposal names epoch " + std::to_string(*epoch) + "; the current epoch is " +
                                        std::to_string(rec.epoch)};
  key32 pk{};
  if (const auto* m = find_member(req.user)) pk = m->sign_pk;
  else if (req.subject && req.subject->id == req.user) pk = req.subject->sign_pk;
  else if (auto u = svc->store->get_user(req.user)) pk = u->sign_pk;
  else return error{errc::internal, "the proposer's user record is missing"};
  const auto c = to_crypto(change);
  if (auto v = crypto::verify_proposal(rec.id, rec.epoch, c, req.user, pk, *proposal); !v)
    return error{errc::bad_signature, "the proposal does not verify: " + v.err().message};
  if (auto v = crypto::check_entitlement(epoch_set(rec.epoch), rec.policy, c, req.user); !v)
    return error{errc::forbidden, v.err().message};
  // The pending changes must stay committable, or one member could jam the group for good: the
  // commit rule refuses a proposal (change line and proposer, whatever its signature) that
  // appears twice, and a change that does not apply in order (docs/protocol.md 6.4).
  auto working = epoch_set(rec.epoch);
  const auto line = c.line();
  for (const auto& pending : rec.pending_changes) {
    const auto p = to_crypto(pending);
    if (p.line() == line && p.by == c.by)
      return error{errc::rekey_pending, "the same change is already pending; make it again after the next commit"};
    (void)crypto::apply_change(working, p);
  }
  if (auto v = crypto::apply_change(working, c); !v)
    return error{errc::rekey_pending, "the change conflicts with a pending change (" + v.err().message +
                                          "); make it again after the next commit"};
  change.has_proposal = true;
  change.by_pk = pk;
  change.sig = *proposal;
  return change;
}

}  // namespace sealcast::actors
