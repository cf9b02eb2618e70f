// The names of sealcast::client's enums and what the application can read without a request:
// identity, connection state, groups, keys held, the verified chain, names and counters.

#include "client/client_impl.hpp"

namespace sealcast::client {

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
