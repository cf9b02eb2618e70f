// Serialization of ok replies with their per-request result fields.

#include "protocol/codec.hpp"
#include "protocol/detail/frame_writers.hpp"
#include "protocol/detail/json_writer.hpp"

namespace sealcast::protocol {

using detail::json_writer;

namespace {

json_writer open_ok(const request_id& rid, std::size_t reserve = 96) {
  json_writer w(reserve);
  w.begin_object().str("type", "ok").raw("rid", rid.json());
  return w;
}

std::string close(json_writer& w) {
  w.end_object();
  return std::move(w).take();
}

// {"type":"ok","rid":..,"<field>":[items...] with the items spliced as they are; the caller
// closes the object (after any further fields).
json_writer open_ok_with_items(const request_id& rid, std::string_view field, std::span<const std::string_view> items) {
  std::size_t size = 64 + rid.json().size() + items.size();
  for (std::string_view item : items) size += item.size();
  json_writer w = open_ok(rid, size);
  w.key(field).begin_array();
  for (std::string_view item : items) w.raw(item);
  w.end_array();
  return w;
}

// "next":n, or null once the list reached the current epoch.
void write_next(json_writer& w, const std::optional<std::uint64_t>& next) {
  if (next)
    w.num("next", *next);
  else
    w.raw("next", "null");
}

}  // namespace

std::string make_ok(const request_id& rid, const empty_result&) {
  json_writer w = open_ok(rid);
  return close(w);
}

std::string make_ok(const request_id& rid, const create_group_result& r) {
  json_writer w = open_ok(rid);
  w.id("group", r.group).num("epoch", r.epoch);
  return close(w);
}

std::string make_ok(const request_id& rid, const epoch_result& r) {
  json_writer w = open_ok(rid);
  w.num("epoch", r.epoch);
  return close(w);
}

std::string make_ok(const request_id& rid, const group_info_result& r) {
  json_writer w = open_ok(rid, 256 + r.members.size() * 80);
  w.str("name", r.name).str("policy", to_string(r.policy)).str("custody", to_string(r.custody));
  w.num("epoch", r.epoch);
  if (r.key_id)
    w.id("key_id", *r.key_id);
  else
    w.raw("key_id", "null");
  w.key("members").begin_array();
  for (const member_status& m : r.members)
    w.begin_object().id("user", m.user).str("role", to_string(m.role)).boolean("online", m.online).end_object();
  w.end_array().num("next_seq", r.next_seq);
  return close(w);
}

std::string make_ok(const request_id& rid, const list_groups_result& r) {
  json_writer w = open_ok(rid, 64 + r.groups.size() * 128);
  w.key("groups").begin_array();
  for (const group_summary& g : r.groups) {
    w.begin_object().id("group", g.group).str("name", g.name).num("epoch", g.epoch);
    w.str("role", to_string(g.role)).num("member_count", g.member_count).end_object();
  }
  w.end_array();
  if (r.next) w.id("next", *r.next);
  return close(w);
}

std::string make_ok(const request_id& rid, const presence_result& r) {
  json_writer w = open_ok(rid, 64 + r.online.size() * 35);
  w.key("online").begin_array();
  for (const id16& u : r.online) w.id(u);
  w.end_array();
  return close(w);
}

std::string make_ok(const request_id& rid, const list_users_result& r) {
  json_writer w = open_ok(rid, 64 + r.users.size() * 96);
  w.key("users").begin_array();
  for (const user_status& u : r.users)
    w.begin_object().id("user", u.user).str("name", u.name).boolean("online", u.online).end_object();
  w.end_array();
  if (r.next) w.id("next", *r.next);
  return close(w);
}

std::string make_ok(const request_id& rid, const user_keys_result& r) {
  json_writer w = open_ok(rid, 320);
  w.b64("sign_pk", r.sign_pk).b64("kx_pk", r.kx_pk).b64("kx_sig", r.kx_sig);
  return close(w);
}

std::string make_ok(const request_id& rid, const keys_result& r) {
  json_writer w = open_ok(rid, 64 + r.keys.size() * 700);
  w.key("keys").begin_array();
  for (const server::key& k : r.keys) detail::write_frame(w, k);
  w.end_array();
  if (r.next) w.num("next", *r.next);
  return close(w);
}

std::string make_ok(const request_id& rid, const manifests_result& r) {
  std::size_t size = 80;
  for (const manifest_entry& e : r.manifests) size += 400 + e.changes.size() * 320;
  json_writer w = open_ok(rid, size);
  w.key("manifests").begin_array();
  for (const manifest_entry& e : r.manifests) detail::write_manifest_entry(w, e);
  w.end_array();
  write_next(w, r.next);
  return close(w);
}

std::string make_ok(const request_id& rid, const publish_result& r) {
  json_writer w = open_ok(rid);
  w.id("id", r.id).num("seq", r.seq).num("ts", r.ts);
  return close(w);
}

std::string make_ok(const request_id& rid, const fetch_result& r) {
  std::size_t size = 64;
  for (const server::message& m : r.messages) size += 320 + m.ct.size() * 4 / 3;
  json_writer w = open_ok(rid, size);
  w.key("messages").begin_array();
  for (const server::message& m : r.messages) detail::write_frame(w, m);
  w.end_array();
  if (r.next) w.num("next", *r.next);
  return close(w);
}

std::string make_ok(const request_id& rid, const direct_result& r) {
  json_writer w = open_ok(rid);
  w.id("id", r.id).num("ts", r.ts);
  return close(w);
}

std::string make_keys_ok(const request_id& rid, std::span<const std::string_view> key_frames,
                         std::optional<std::uint64_t> next) {
  json_writer w = open_ok_with_items(rid, "keys", key_frames);
  if (next) w.num("next", *next);
  return close(w);
}

std::string to_json(const manifest_entry& e) {
  json_writer w(400 + e.changes.size() * 320);
  detail::write_manifest_entry(w, e);
  return std::move(w).take();
}

std::string make_manifests_ok(const request_id& rid, std::span<const std::string_view> entries,
                              std::optional<std::uint64_t> next) {
  json_writer w = open_ok_with_items(rid, "manifests", entries);
  write_next(w, next);
  return close(w);
}

std::string make_fetch_ok(const request_id& rid, std::span<const std::string_view> message_frames,
                          std::optional<std::uint64_t> next) {
  json_writer w = open_ok_with_items(rid, "messages", message_frames);
  if (next) w.num("next", *next);
  return close(w);
}

}  // namespace sealcast::protocol
