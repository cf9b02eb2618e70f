// Serialization of broker -> client frames.

#include <variant>

#include "protocol/codec.hpp"
#include "protocol/detail/frame_writers.hpp"
#include "protocol/detail/json_writer.hpp"
#include "protocol/detail/ok_fields.hpp"

namespace sealcast::protocol {

using detail::json_writer;

namespace detail {

void write_changes(json_writer& w, const std::vector<change>& changes, change_context where) {
  w.begin_array();
  for (const change& c : changes) {
    w.begin_object().str("action", to_string(c.action)).id("user", c.user);
    if (c.kx_pk) w.b64("kx_pk", *c.kx_pk);
    if (c.role) w.str("role", to_string(*c.role));
    if (c.by) w.id("by", *c.by);
    if (c.by_pk) w.b64("by_pk", *c.by_pk);
    if (c.sig) w.b64("sig", *c.sig);
    if (where == change_context::rekey_request) {
      if (c.sign_pk) w.b64("sign_pk", *c.sign_pk);
      if (c.kx_sig) w.b64("kx_sig", *c.kx_sig);
    }
    w.end_object();
  }
  w.end_array();
}

namespace {

// The fields a key frame and a manifest entry share (section 6.2), in the same order.
template <class T>
void write_context(json_writer& w, const T& f) {
  w.num("epoch", f.epoch).id("key_id", f.key_id).str("alg", to_string(f.alg)).str("custody", to_string(f.custody));
  w.str("policy", to_string(f.policy)).id("issuer", f.issuer);
  if (f.issuer_pk) w.b64("issuer_pk", *f.issuer_pk);
  w.b64("sig", f.sig).key("changes");
  write_changes(w, f.changes, change_context::manifest);
}

// {"type":"key","group":..,<context> : every key frame of an epoch up to `wrapped`.
void write_key_head(json_writer& w, const server::key& f) {
  w.begin_object().str("type", "key").id("group", f.group);
  write_context(w, f);
}

}  // namespace

void write_frame(json_writer& w, const server::key& f) {
  write_key_head(w, f);
  w.b64("wrapped", f.wrapped).end_object();
}

void write_manifest_entry(json_writer& w, const manifest_entry& e) {
  w.begin_object();
  write_context(w, e);
  w.end_object();
}

void write_frame(json_writer& w, const server::message& f) {
  w.begin_object().str("type", "message").id("group", f.group).num("seq", f.seq).id("id", f.id);
  w.id("sender", f.sender).num("epoch", f.epoch).num("index", f.index).str("alg", to_string(f.alg));
  w.b64("nonce", f.nonce).b64("ct", f.ct).b64("sig", f.sig).num("ts", f.ts).end_object();
}

}  // namespace detail

std::string to_json(const server::challenge& f) {
  json_writer w(192);
  w.begin_object().str("type", "challenge").num("protocol", f.protocol).id("broker", f.broker);
  w.b64("broker_pk", f.broker_pk).b64("nonce", f.nonce).end_object();
  return std::move(w).take();
}

std::string to_json(const server::welcome& f) {
  json_writer w(96 + f.groups.size() * 120);
  w.begin_object().str("type", "welcome").id("user", f.user).key("groups").begin_array();
  for (const welcome_group& g : f.groups) {
    w.begin_object().id("group", g.group).str("name", g.name).num("epoch", g.epoch);
    w.str("role", to_string(g.role)).end_object();
  }
  w.end_array();
  if (f.more_after) w.id("more_after", *f.more_after);
  w.end_object();
  return std::move(w).take();
}

std::string to_json(const server::ok& f) {
  json_writer w(64);
  w.begin_object().str("type", "ok").raw("rid", f.rid.json());
  std::string out = std::move(w).take();
  if (const auto* fields = f.fields.get()) detail::append_fields(out, *fields);
  out += '}';
  return out;
}

std::string to_json(const server::error& f) {
  json_writer w(96 + f.message.size());
  w.begin_object().str("type", "error");
  if (f.rid) w.raw("rid", f.rid->json());
  w.str("code", to_string(f.code)).str("message", f.message).end_object();
  return std::move(w).take();
}

std::string to_json(const frame_error& e) { return to_json(server::error{e.rid, e.err.code, e.err.message}); }

namespace {

// Room for one change with every optional field (a rekey_request add): reserve hints only.
constexpr std::size_t change_json_size = 512;

}  // namespace

std::string to_json(const server::key& f) {
  json_writer w(640 + f.changes.size() * change_json_size);
  detail::write_frame(w, f);
  return std::move(w).take();
}

std::string key_frame_prefix(const server::key& f) {
  json_writer w(560 + f.changes.size() * change_json_size);
  detail::write_key_head(w, f);
  w.key("wrapped");
  std::string out = std::move(w).take();
  out += '"';
  return out;
}

std::string finish_key_frame(std::string_view prefix, const wrapped_key& wrapped) {
  std::string out;
  out.reserve(prefix.size() + (wrapped.size() + 2) / 3 * 4 + 2);
  out += prefix;
  detail::append_base64(out, wrapped);
  out += "\"}";
  return out;
}

std::string to_json(const server::message& f) {
  json_writer w(320 + f.ct.size() * 4 / 3);
  detail::write_frame(w, f);
  return std::move(w).take();
}

std::string to_json(const server::direct& f) {
  json_writer w(256 + f.sealed.size() * 4 / 3);
  w.begin_object().str("type", "direct").id("id", f.id).id("from", f.from).b64("sealed", f.sealed);
  w.b64("sig", f.sig).num("ts", f.ts).end_object();
  return std::move(w).take();
}

std::string to_json(const server::member& f) {
  json_writer w(160);
  w.begin_object().str("type", "member").id("group", f.group).id("user", f.user);
  w.str("action", to_string(f.action)).num("epoch", f.epoch).end_object();
  return std::move(w).take();
}

std::string to_json(const server::presence& f) {
  json_writer w(128);
  w.begin_object().str("type", "presence").id("group", f.group).id("user", f.user);
  w.boolean("online", f.online).end_object();
  return std::move(w).take();
}

std::string to_json(const server::rekey_request& f) {
  json_writer w(256 + f.changes.size() * change_json_size);
  w.begin_object().str("type", "rekey_request").id("group", f.group).num("epoch", f.epoch);
  w.str("reason", f.reason).b64("prev_hash", f.prev_hash).key("changes");
  detail::write_changes(w, f.changes, detail::change_context::rekey_request);
  w.num("deadline", f.deadline).end_object();
  return std::move(w).take();
}

std::string to_json(const server_frame& f) {
  return std::visit([](const auto& frame) { return to_json(frame); }, f);
}

std::string to_json(const server::batch& f) {
  std::vector<std::string> items;
  items.reserve(f.items.size());
  for (const server_frame& item : f.items) items.push_back(to_json(item));
  return make_batch(items);
}

namespace {

constexpr std::string_view batch_head = R"({"type":"batch","items":[)";

template <class S>
std::string concat_batch(std::span<const S> items) {
  std::size_t size = batch_head.size() + 2 + items.size();
  for (const auto& item : items) size += item.size();
  std::string out;
  out.reserve(size);
  out += batch_head;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i != 0) out += ',';
    out += items[i];
  }
  out += "]}";
  return out;
}

}  // namespace

std::string make_batch(std::span<const std::string_view> items) { return concat_batch(items); }

std::string make_batch(std::span<const std::string> items) { return concat_batch(items); }

}  // namespace sealcast::protocol
