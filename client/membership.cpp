// Membership requests (docs/protocol.md sections 5 and 6.3): in broker custody plain requests;
// in client custody each carries a proposal this client signs against the group's epoch, so that
// no commit can apply a change its entitled party did not ask for.

#include <algorithm>

#include "client/client_impl.hpp"
#include "common/detail/coroutine_frame_warning.hpp"
#include "crypto/group_context.hpp"
#include "crypto/random.hpp"

namespace sealcast::client {

namespace {

/// The request for change `c`, with its proposal when there is one.
protocol::client_frame request_for(const id16& group, const crypto::change& c, std::optional<std::uint64_t> epoch,
                                   std::optional<sig64> proposal) {
  switch (c.action) {
    case crypto::change_action::add:
      return protocol::client::add_member{{}, group, c.user, c.role.value_or(member_role::member), epoch, proposal};
    case crypto::change_action::remove:
      return protocol::client::remove_member{{}, group, c.user, epoch, proposal};
    case crypto::change_action::role:
      return protocol::client::set_role{{}, group, c.user, c.role.value_or(member_role::member), epoch, proposal};
    case crypto::change_action::join:
      return protocol::client::join{{}, group, epoch, proposal};
    case crypto::change_action::leave:
      break;
  }
  return protocol::client::leave{{}, group, epoch, proposal};
}

}  // namespace

asio::awaitable<result<client::impl::proposal_base>> client::impl::proposal_base_of(id16 g, bool joining) {
  // group_info's custody and epoch; in client custody (unless joining: a non-member cannot read
  // the chain before it is accepted) the chain is verified up to that epoch first (section 6.6).
  protocol::client_frame f(protocol::client::group_info{{}, g});
  auto info = co_await call_as<protocol::group_info_result>(std::move(f));
  // group_info is open to non-members of open groups only; a join of any other group is plain,
  // and the broker's answer to it (forbidden, not_found) is the one to give.
  if (!info && joining && info.err().code != errc::internal) co_return proposal_base{key_custody::broker, 0};
  if (!info) co_return info.err();
  if (info->custody == key_custody::broker || joining) co_return proposal_base{info->custody, info->epoch};
  auto verified = co_await verify_to(g, info->epoch);
  if (!verified) co_return verified.err();
  co_return proposal_base{key_custody::client, group(g).chain.epoch};
}

asio::awaitable<result<std::uint64_t>> client::impl::change_membership(id16 g, crypto::change c) {
  auto self = shared_from_this();
  const bool joining = c.action == crypto::change_action::join;
  // The verified chain's custody and epoch when this client has them, else group_info's.
  std::optional<proposal_base> base;
  if (auto it = state.groups.find(g); !joining && it != state.groups.end() && it->second.chain.pinned &&
                                      (it->second.chain.custody == key_custody::broker || it->second.chain.epoch > 0))
    base = proposal_base{it->second.chain.custody, it->second.chain.epoch};
  if (!base) {
    auto b = co_await proposal_base_of(g, joining);
    if (!b) co_return b.err();
    base = *b;
  }

  for (int attempt = 0;; ++attempt) {
    std::optional<std::uint64_t> epoch;
    std::optional<sig64> proposal;
    if (base->custody == key_custody::client) {
      if (base->epoch == 0)
        co_return error{errc::rekey_pending,
                        "group " + g.hex() + " has no first epoch yet: nothing to propose against"};
      epoch = base->epoch;
      proposal = crypto::sign_proposal(id.signer(), g, base->epoch, c);
    }
    auto frame = request_for(g, c, epoch, proposal);
    auto r = co_await call_as<protocol::epoch_result>(std::move(frame));
    if (r) co_return r->epoch;
    // The group moved on (a commit landed meanwhile): catch up once and propose again.
    if (r.err().code != errc::stale_epoch || attempt > 0 || base->custody != key_custody::client) co_return r.err();
    auto b = co_await proposal_base_of(g, joining);
    if (!b) co_return b.err();
    base = *b;
  }
}

asio::awaitable<result<group_created>> client::create_group(group_spec spec) {
  auto self = impl_;
  auto& s = *self;
  const bool client_custody = spec.custody == key_custody::client;
  // This client chooses the id and pins the context (custody, policy, itself as creator) before
  // the broker answers: a broker that answers with another group, or pushes a genesis of its own
  // for this id, is refused (section 6.6 step 2).
  const id16 gid = spec.id.value_or(crypto::random_id());
  if (auto it = s.state.groups.find(gid); it != s.state.groups.end() && (it->second.chain.pinned || it->second.chain.epoch > 0))
    co_return error{errc::exists, "group " + gid.hex() + " is already known to this client"};
  {
    auto& g = s.group(gid);
    g.chain.pinned = true;
    g.chain.custody = spec.custody;
    g.chain.policy = spec.policy;
    g.chain.creator = s.id.user_id();
  }
  protocol::client::create_group c;
  c.name = spec.name;
  c.policy = spec.policy;
  c.group = gid;
  c.max_members = spec.max_members;
  if (!client_custody) c.members = spec.members;  // client custody: each added with a proposal below
  c.custody = spec.custody;
  protocol::client_frame r_frame(std::move(c));
  auto r = co_await s.call_as<protocol::create_group_result>(std::move(r_frame));
  if (!r) co_return r.err();
  if (r->group != gid)
    co_return error{errc::bad_request, "the broker created group " + r->group.hex() + " instead of " + gid.hex()};
  {
    auto& g = s.group(gid);
    g.name = spec.name;
    g.role = member_role::owner;
    g.member = true;
    g.epoch = r->epoch;
    g.seq_known = true;  // a new group starts at seq 1: every gap from here on is real
    g.member_count = client_custody ? 1 : spec.members.size() + 1;
  }
  s.mark_dirty();
  if (!client_custody || spec.members.empty()) co_return group_created{gid, r->epoch};

  const auto created = "group " + gid.hex() + " was created, but ";
  auto has_first_epoch = [&s, gid] { return s.group(gid).chain.epoch >= 1; };
  if (!co_await s.wait_for(has_first_epoch, s.opts.request_timeout))
    co_return error{errc::rekey_pending, created + "its first epoch was not committed within the request timeout (" +
                                             (s.opts.auto_rekey ? "" : "auto_rekey is off; ") +
                                             "the owner's client must answer the rekey_request)"};
  for (const auto& m : spec.members) {
    auto added = co_await add_member(gid, m);
    if (!added) co_return error{added.err().code, created + "adding " + m.hex() + " failed: " + added.err().message};
    // One by one: the next proposal is made against the epoch that has this member.
    auto listed = [&s, gid, m] { return s.group(gid).chain.members.contains(m); };
    (void)co_await s.wait_for(listed, s.opts.request_timeout);
  }
  co_return group_created{gid, s.group(gid).chain.epoch};
}

asio::awaitable<result<std::uint64_t>> client::add_member(id16 group, id16 user, member_role role) {
  auto self = impl_;
  crypto::change c;
  c.action = crypto::change_action::add;
  c.user = user;
  c.role = role;
  // The change line names the subject's key (client custody): the one its identity signed.
  const auto it = self->state.groups.find(group);
  if (it == self->state.groups.end() || !it->second.chain.pinned || it->second.chain.custody == key_custody::client) {
    auto keys = co_await self->verified_keys(user);
    if (!keys) co_return keys.err();
    c.kx_pk = to_array<32>(keys->kx_pk);
  }
  co_return co_await self->change_membership(group, c);
}

asio::awaitable<result<std::uint64_t>> client::remove_member(id16 group, id16 user) {
  auto self = impl_;
  crypto::change c;
  c.action = crypto::change_action::remove;
  c.user = user;
  co_return co_await self->change_membership(group, c);
}

asio::awaitable<result<std::uint64_t>> client::set_role(id16 group, id16 user, member_role role) {
  auto self = impl_;
  crypto::change c;
  c.action = crypto::change_action::role;
  c.user = user;
  c.role = role;
  co_return co_await self->change_membership(group, c);
}

asio::awaitable<result<std::uint64_t>> client::join(id16 group) {
  auto self = impl_;
  crypto::change c;
  c.action = crypto::change_action::join;
  c.user = self->id.user_id();
  c.kx_pk = to_array<32>(self->id.kx_pk());
  c.role = member_role::member;
  auto r = co_await self->change_membership(group, c);
  if (!r) co_return r.err();
  auto& g = self->group(group);
  g.member = true;
  g.epoch = std::max(g.epoch, *r);
  self->mark_dirty();
  co_return *r;
}

asio::awaitable<status> client::leave(id16 group) {
  auto self = impl_;
  crypto::change c;
  c.action = crypto::change_action::leave;
  c.user = self->id.user_id();
  auto r = co_await self->change_membership(group, c);
  if (!r) co_return r.err();
  if (auto it = self->state.groups.find(group); it != self->state.groups.end()) it->second.member = false;
  self->mark_dirty();
  co_return status{};
}

}  // namespace sealcast::client
