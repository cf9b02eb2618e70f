// Reading ok replies as typed results, for the client library.

#include <boost/json/object.hpp>

#include "protocol/codec.hpp"
#include "protocol/detail/frame_readers.hpp"
#include "protocol/detail/json_reader.hpp"
#include "protocol/detail/ok_fields.hpp"

namespace sealcast::protocol {

using detail::reader;

namespace {

void read_result(reader&, empty_result&) {}

void read_result(reader& r, create_group_result& out) {
  out.group = r.id("group");
  out.epoch = r.u64("epoch");
}

void read_result(reader& r, epoch_result& out) { out.epoch = r.u64("epoch"); }

void read_result(reader& r, group_info_result& out) {
  out.name = r.str("name");
  out.policy = r.policy("policy");
  out.custody = r.custody("custody");
  out.epoch = r.u64("epoch");
  out.key_id = r.opt_id("key_id");
  r.each_object("members", [&](reader& m) {
    member_status e;
    e.user = m.id("user");
    e.role = m.role("role");
    e.online = m.boolean("online");
    out.members.push_back(e);
  });
  out.next_seq = r.u64("next_seq");
}

void read_result(reader& r, list_groups_result& out) {
  r.each_object("groups", [&](reader& g) {
    group_summary e;
    e.group = g.id("group");
    e.name = g.str("name");
    e.epoch = g.u64("epoch");
    e.role = g.role("role");
    e.member_count = g.u64("member_count");
    out.groups.push_back(std::move(e));
  });
  out.next = r.opt_id("next");
}

void read_result(reader& r, presence_result& out) { out.online = r.id_array("online"); }

void read_result(reader& r, list_users_result& out) {
  r.each_object("users", [&](reader& u) {
    user_status e;
    e.user = u.id("user");
    e.name = u.str("name");
    e.online = u.boolean("online");
    out.users.push_back(std::move(e));
  });
  out.next = r.opt_id("next");
}

void read_result(reader& r, user_keys_result& out) {
  out.sign_pk = r.b64_fixed<32>("sign_pk");
  out.kx_pk = r.b64_fixed<32>("kx_pk");
  out.kx_sig = r.b64_fixed<64>("kx_sig");
}

void read_result(reader& r, keys_result& out) {
  r.each_object("keys", [&](reader& k) { out.keys.push_back(detail::read_key(k)); });
  out.next = r.opt_u64("next");
}

void read_result(reader& r, manifests_result& out) {
  r.each_object("manifests", [&](reader& e) { out.manifests.push_back(detail::read_manifest_entry(e)); });
  out.next = r.opt_u64("next");
}

void read_result(reader& r, publish_result& out) {
  out.id = r.id("id");
  out.seq = r.u64("seq");
  out.ts = r.u64("ts");
}

void read_result(reader& r, fetch_result& out) {
  r.each_object("messages", [&](reader& m) { out.messages.push_back(detail::read_message(m)); });
  out.next = r.opt_u64("next");
}

void read_result(reader& r, direct_result& out) {
  out.id = r.id("id");
  out.ts = r.u64("ts");
}

}  // namespace

template <class T>
result<T> parse_ok_result(const server::ok& reply) {
  static const boost::json::object no_fields;
  const auto* fields = reply.fields.get();
  std::optional<error> err;
  reader r(fields != nullptr ? fields->fields : no_fields, err);
  T out{};
  read_result(r, out);
  if (err) return std::move(*err);
  return out;
}

template result<empty_result> parse_ok_result<empty_result>(const server::ok&);
template result<create_group_result> parse_ok_result<create_group_result>(const server::ok&);
template result<epoch_result> parse_ok_result<epoch_result>(const server::ok&);
template result<group_info_result> parse_ok_result<group_info_result>(const server::ok&);
template result<list_groups_result> parse_ok_result<list_groups_result>(const server::ok&);
template result<presence_result> parse_ok_result<presence_result>(const server::ok&);
template result<list_users_result> parse_ok_result<list_users_result>(const server::ok&);
template result<user_keys_result> parse_ok_result<user_keys_result>(const server::ok&);
template result<keys_result> parse_ok_result<keys_result>(const server::ok&);
template result<manifests_result> parse_ok_result<manifests_result>(const server::ok&);
template result<publish_result> parse_ok_result<publish_result>(const server::ok&);
template result<fetch_result> parse_ok_result<fetch_result>(const server::ok&);
template result<direct_result> parse_ok_result<direct_result>(const server::ok&);

}  // namespace sealcast::protocol
