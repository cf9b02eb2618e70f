// Serialization of client -> broker frames.

#include <variant>

#include "protocol/codec.hpp"
#include "protocol/detail/json_writer.hpp"

namespace sealcast::protocol {

using detail::json_writer;

namespace {

// {"type":<type>,"rid":<rid>
json_writer open_request(std::string_view type, const request_id& rid, std::size_t reserve = 128) {
  json_writer w(reserve);
  w.begin_object().str("type", type).raw("rid", rid.json());
  return w;
}

std::string group_request(std::string_view type, const request_id& rid, const id16& group) {
  json_writer w = open_request(type, rid);
  w.id("group", group).end_object();
  return std::move(w).take();
}

// ,"epoch":..,"proposal":.. when present, then the closing brace.
template <class F>
std::string close_change_request(json_writer& w, const F& f) {
  if (f.epoch) w.num("epoch", *f.epoch);
  if (f.proposal) w.b64("proposal", *f.proposal);
  w.end_object();
  return std::move(w).take();
}

template <class F>
std::string self_change_request(std::string_view type, const F& f) {
  json_writer w = open_request(type, f.rid, 224);
  w.id("group", f.group);
  return close_change_request(w, f);
}

std::string page_request(std::string_view type, const request_id& rid, const std::optional<id16>& after,
                         const std::optional<std::uint64_t>& limit) {
  json_writer w = open_request(type, rid);
  if (after) w.id("after", *after);
  if (limit) w.num("limit", *limit);
  w.end_object();
  return std::move(w).take();
}

}  // namespace

std::string to_json(const client::hello& f) {
  json_writer w(384);
  w.begin_object().str("type", "hello");
  w.b64("sign_pk", f.sign_pk).b64("kx_pk", f.kx_pk).b64("kx_sig", f.kx_sig).b64("sig", f.sig);
  if (f.name) w.str("name", *f.name);
  w.end_object();
  return std::move(w).take();
}

std::string to_json(const client::create_group& f) {
  json_writer w = open_request("create_group", f.rid, 160 + f.members.size() * 35);
  w.str("name", f.name).str("policy", to_string(f.policy));
  if (f.group) w.id("group", *f.group);
  if (f.max_members) w.num("max_members", *f.max_members);
  w.key("members").begin_array();
  for (const id16& m : f.members) w.id(m);
  w.end_array();
  w.str("custody", to_string(f.custody)).end_object();
  return std::move(w).take();
}

std::string to_json(const client::join& f) { return self_change_request("join", f); }

std::string to_json(const client::leave& f) { return self_change_request("leave", f); }

std::string to_json(const client::add_member& f) {
  json_writer w = open_request("add_member", f.rid, 256);
  w.id("group", f.group).id("user", f.user).str("role", to_string(f.role));
  return close_change_request(w, f);
}

std::string to_json(const client::remove_member& f) {
  json_writer w = open_request("remove_member", f.rid, 256);
  w.id("group", f.group).id("user", f.user);
  return close_change_request(w, f);
}

std::string to_json(const client::set_role& f) {
  json_writer w = open_request("set_role", f.rid, 256);
  w.id("group", f.group).id("user", f.user).str("role", to_string(f.role));
  return close_change_request(w, f);
}

std::string to_json(const client::group_info& f) { return group_request("group_info", f.rid, f.group); }

std::string to_json(const client::list_groups& f) { return page_request("list_groups", f.rid, f.after, f.limit); }

std::string to_json(const client::presence& f) { return group_request("presence", f.rid, f.group); }

std::string to_json(const client::list_users& f) { return page_request("list_users", f.rid, f.after, f.limit); }

std::string to_json(const client::user_keys& f) {
  json_writer w = open_request("user_keys", f.rid);
  w.id("user", f.user).end_object();
  return std::move(w).take();
}

std::string to_json(const client::keys& f) {
  json_writer w = open_request("keys", f.rid);
  w.id("group", f.group).num("from_epoch", f.from_epoch).end_object();
  return std::move(w).take();
}

std::string to_json(const client::manifests& f) {
  json_writer w = open_request("manifests", f.rid);
  w.id("group", f.group).num("from_epoch", f.from_epoch);
  if (f.limit) w.num("limit", *f.limit);
  w.end_object();
  return std::move(w).take();
}

std::string to_json(const client::publish& f) {
  json_writer w = open_request("publish", f.rid, 256 + f.ct.size() * 4 / 3);
  w.id("group", f.group).num("epoch", f.epoch).num("index", f.index).str("alg", to_string(f.alg));
  w.b64("nonce", f.nonce).b64("ct", f.ct).b64("sig", f.sig).end_object();
  return std::move(w).take();
}

std::string to_json(const client::ack& f) {
  json_writer w(96);
  w.begin_object().str("type", "ack").id("group", f.group).num("seq", f.seq).end_object();
  return std::move(w).take();
}

std::string to_json(const client::fetch& f) {
  json_writer w = open_request("fetch", f.rid);
  w.id("group", f.group).num("from_seq", f.from_seq);
  if (f.limit) w.num("limit", *f.limit);
  w.end_object();
  return std::move(w).take();
}

std::string to_json(const client::direct& f) {
  json_writer w = open_request("direct", f.rid, 200 + f.sealed.size() * 4 / 3);
  w.id("to", f.to).b64("sealed", f.sealed).b64("sig", f.sig).end_object();
  return std::move(w).take();
}

std::string to_json(const client::ack_direct& f) {
  json_writer w(80);
  w.begin_object().str("type", "ack_direct").id("id", f.id).end_object();
  return std::move(w).take();
}

std::string to_json(const client::rekey& f) {
  json_writer w = open_request("rekey", f.rid, 320 + f.wrapped.size() * 150);
  w.id("group", f.group).num("epoch", f.epoch).id("key_id", f.key_id).str("alg", to_string(f.alg));
  w.num("changes", f.changes).b64("sig", f.sig).key("wrapped").begin_object();
  for (const auto& [user, blob] : f.wrapped) w.b64(user.hex(), blob);
  w.end_object().end_object();
  return std::move(w).take();
}

std::string to_json(const client_frame& f) {
  return std::visit([](const auto& frame) { return to_json(frame); }, f);
}

std::optional<request_id> rid_of(const client_frame& f) {
  return std::visit(
      [](const auto& frame) -> std::optional<request_id> {
        if constexpr (requires { frame.rid; })
          return frame.rid;
        else
          return std::nullopt;
      },
      f);
}

std::string_view type_of(const client_frame& f) noexcept {
  static constexpr std::string_view names[] = {
      "hello",     "create_group", "join",      "leave",   "add_member", "remove_member", "set_role",
      "group_info", "list_groups", "presence",  "list_users", "user_keys", "keys",        "manifests",
      "publish",   "ack",          "fetch",     "direct",  "ack_direct", "rekey"};
  static_assert(std::size(names) == std::variant_size_v<client_frame>);
  return names[f.index()];
}

}  // namespace sealcast::protocol
