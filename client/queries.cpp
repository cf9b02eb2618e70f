// What sealcast::client asks the broker and remembers: users' keys (checked against their ids),
// names, the groups and their details, presence, fetched messages and keys.

#include <algorithm>

#include "client/client_impl.hpp"
#include "common/detail/coroutine_frame_warning.hpp"

namespace sealcast::client {

namespace {

using steady = std::chrono::steady_clock;

}  // namespace

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

}  // namespace sealcast::client
