// Parsing of client -> broker frames: one reader function per type, dispatched by `type`.

#include <iterator>
#include <string>
#include <variant>

#include <boost/json/object.hpp>

#include "protocol/codec.hpp"
#include "protocol/detail/json_reader.hpp"

namespace sealcast::protocol {

namespace json = boost::json;
using detail::reader;

namespace {

client_frame read_hello(reader& r, const request_id&) {
  client::hello f;
  f.sign_pk = r.b64_fixed<32>("sign_pk");
  f.kx_pk = r.b64_fixed<32>("kx_pk");
  f.kx_sig = r.b64_fixed<64>("kx_sig");
  f.sig = r.b64_fixed<64>("sig");
  f.name = r.opt_str("name");
  return f;
}

client_frame read_create_group(reader& r, const request_id& rid) {
  client::create_group f;
  f.rid = rid;
  f.name = r.str("name");
  f.policy = r.policy("policy");
  f.group = r.opt_id("group");
  f.max_members = r.opt_u64("max_members");
  if (r.has("members")) f.members = r.id_array("members");
  if (r.has("custody")) f.custody = r.custody("custody");
  return f;
}

template <class F>
client_frame read_group_request(reader& r, const request_id& rid) {
  F f;
  f.rid = rid;
  f.group = r.id("group");
  return f;
}

// A change request's client-custody fields (section 5): the proposal and the epoch it was made in.
template <class F>
void read_proposal(reader& r, F& f) {
  f.epoch = r.opt_u64("epoch");
  f.proposal = r.opt_b64_fixed<64>("proposal");
}

// add_member and set_role take member or admin; owner only ever comes from the genesis commit.
member_role read_assignable_role(reader& r) {
  const member_role role = r.role("role");
  if (role == member_role::owner) r.fail("role", "must be one of admin, member");
  return role;
}

template <class F>
client_frame read_self_change(reader& r, const request_id& rid) {
  F f;
  f.rid = rid;
  f.group = r.id("group");
  read_proposal(r, f);
  return f;
}

client_frame read_add_member(reader& r, const request_id& rid) {
  client::add_member f;
  f.rid = rid;
  f.group = r.id("group");
  f.user = r.id("user");
  if (r.has("role")) f.role = read_assignable_role(r);
  read_proposal(r, f);
  return f;
}

client_frame read_remove_member(reader& r, const request_id& rid) {
  client::remove_member f;
  f.rid = rid;
  f.group = r.id("group");
  f.user = r.id("user");
  read_proposal(r, f);
  return f;
}

client_frame read_set_role(reader& r, const request_id& rid) {
  client::set_role f;
  f.rid = rid;
  f.group = r.id("group");
  f.user = r.id("user");
  f.role = read_assignable_role(r);
  read_proposal(r, f);
  return f;
}

template <class F>
client_frame read_bare_request(reader&, const request_id& rid) {
  F f;
  f.rid = rid;
  return f;
}

/// list_groups and list_users: an optional page (`after`, `limit` from 1 to `max_limit`).
template <class F, std::uint64_t max_limit>
client_frame read_page_request(reader& r, const request_id& rid) {
  F f;
  f.rid = rid;
  f.after = r.opt_id("after");
  f.limit = r.opt_u64("limit");
  if (f.limit && (*f.limit == 0 || *f.limit > max_limit))
    r.fail("limit", "must be from 1 to " + std::to_string(max_limit));
  return f;
}

client_frame read_user_keys(reader& r, const request_id& rid) {
  client::user_keys f;
  f.rid = rid;
  f.user = r.id("user");
  return f;
}

client_frame read_keys(reader& r, const request_id& rid) {
  client::keys f;
  f.rid = rid;
  f.group = r.id("group");
  f.from_epoch = r.u64("from_epoch");
  return f;
}

client_frame read_manifests(reader& r, const request_id& rid) {
  client::manifests f;
  f.rid = rid;
  f.group = r.id("group");
  f.from_epoch = r.u64("from_epoch");
  if (f.from_epoch == 0) r.fail("from_epoch", "must be at least 1");
  f.limit = r.opt_u64("limit");
  if (f.limit && (*f.limit == 0 || *f.limit > max_manifests_limit))
    r.fail("limit", "must be from 1 to " + std::to_string(max_manifests_limit));
  return f;
}

client_frame read_publish(reader& r, const request_id& rid) {
  client::publish f;
  f.rid = rid;
  f.group = r.id("group");
  f.epoch = r.u64("epoch");
  f.index = r.u32("index");
  f.alg = r.alg("alg");
  f.nonce = r.b64("nonce");
  r.check_nonce("nonce", f.nonce, f.alg);
  f.ct = r.b64("ct", min_ct_size);
  f.sig = r.b64_fixed<64>("sig");
  return f;
}

client_frame read_ack(reader& r, const request_id&) {
  client::ack f;
  f.group = r.id("group");
  f.seq = r.u64("seq");
  return f;
}

client_frame read_fetch(reader& r, const request_id& rid) {
  client::fetch f;
  f.rid = rid;
  f.group = r.id("group");
  f.from_seq = r.u64("from_seq");
  f.limit = r.opt_u64("limit");
  return f;
}

client_frame read_direct(reader& r, const request_id& rid) {
  client::direct f;
  f.rid = rid;
  f.to = r.id("to");
  f.sealed = r.b64("sealed", min_sealed_size);
  f.sig = r.b64_fixed<64>("sig");
  return f;
}

client_frame read_ack_direct(reader& r, const request_id&) {
  client::ack_direct f;
  f.id = r.id("id");
  return f;
}

client_frame read_rekey(reader& r, const request_id& rid) {
  client::rekey f;
  f.rid = rid;
  f.group = r.id("group");
  f.epoch = r.u64("epoch");
  f.key_id = r.id("key_id");
  f.alg = r.alg("alg");
  f.changes = r.u64("changes");
  f.sig = r.b64_fixed<64>("sig");
  f.wrapped = r.wrapped_map("wrapped");
  return f;
}

struct frame_spec {
  std::string_view type;
  bool needs_rid;
  client_frame (*read)(reader&, const request_id&);
};

constexpr frame_spec specs[] = {
    {"publish", true, read_publish},
    {"ack", false, read_ack},
    {"direct", true, read_direct},
    {"ack_direct", false, read_ack_direct},
    {"fetch", true, read_fetch},
    {"hello", false, read_hello},
    {"create_group", true, read_create_group},
    {"join", true, read_self_change<client::join>},
    {"leave", true, read_self_change<client::leave>},
    {"add_member", true, read_add_member},
    {"remove_member", true, read_remove_member},
    {"set_role", true, read_set_role},
    {"group_info", true, read_group_request<client::group_info>},
    {"list_groups", true, read_page_request<client::list_groups, max_list_groups_limit>},
    {"presence", true, read_group_request<client::presence>},
    {"list_users", true, read_page_request<client::list_users, max_list_users_limit>},
    {"user_keys", true, read_user_keys},
    {"keys", true, read_keys},
    {"manifests", true, read_manifests},
    {"rekey", true, read_rekey},
};
static_assert(std::size(specs) == std::variant_size_v<client_frame>);

frame_error fail(errc code, std::string message, std::optional<request_id> rid) {
  return frame_error{error{code, std::move(message)}, std::move(rid)};
}

}  // namespace

frame_result<client_frame> parse_client_frame(std::string_view text) {
  detail::document doc;
  if (status s = doc.parse(text); !s) return frame_error{s.err(), std::nullopt};
  const json::object* obj = doc.root().if_object();
  if (obj == nullptr) return fail(errc::bad_request, "a frame must be a JSON object", std::nullopt);

  // The rid first, so that every later failure can be answered with it.
  const json::value* rid_v = obj->if_contains("rid");
  std::optional<request_id> rid;
  if (rid_v != nullptr) rid = detail::read_rid(*rid_v, doc.rid_number_text());

  const json::value* type_v = obj->if_contains("type");
  if (type_v == nullptr) return fail(errc::bad_request, "field 'type' is missing", rid);
  const json::string* type_s = type_v->if_string();
  if (type_s == nullptr) return fail(errc::bad_request, "field 'type' must be a string", rid);
  const std::string_view type(type_s->data(), type_s->size());
  const frame_spec* spec = nullptr;
  for (const frame_spec& s : specs) {
    if (s.type == type) {
      spec = &s;
      break;
    }
  }
  if (spec == nullptr) return fail(errc::unknown_type, "unknown type '" + std::string(detail::clip(type)) + "'", rid);

  if (spec->needs_rid && !rid) {
    return fail(errc::bad_request,
                rid_v == nullptr ? "field 'rid' is missing" : "field 'rid' must be a string or a number", std::nullopt);
  }
  std::optional<error> err;
  reader r(*obj, err);
  client_frame frame = spec->read(r, rid ? *rid : request_id{});
  if (err) return frame_error{std::move(*err), std::move(rid)};
  return frame;
}

}  // namespace sealcast::protocol
