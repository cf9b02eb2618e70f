// Parsing of broker -> client frames, for the client library.

#include <iterator>
#include <variant>

#include <boost/json/object.hpp>

#include "protocol/codec.hpp"
#include "protocol/detail/frame_readers.hpp"
#include "protocol/detail/json_reader.hpp"
#include "protocol/detail/ok_fields.hpp"

namespace sealcast::protocol {

namespace json = boost::json;
using detail::reader;

namespace detail {

std::vector<manifest_member> read_members(reader& r, std::string_view k) {
  std::vector<manifest_member> out;
  r.each_object(k, [&](reader& m) {
    manifest_member e;
    e.user = m.id("user");
    e.kx_pk = m.b64_fixed<32>("kx_pk");
    e.role = m.role("role");
    out.push_back(e);
  });
  return out;
}

server::key read_key(reader& r) {
  server::key f;
  f.group = r.id("group");
  f.epoch = r.u64("epoch");
  f.key_id = r.id("key_id");
  f.alg = r.alg("alg");
  f.wrapped = r.b64_fixed<80>("wrapped");
  f.custody = r.custody("custody");
  f.issuer = r.id("issuer");
  reader m = r.child("manifest");
  f.manifest.prev_hash = m.b64_fixed<32>("prev_hash");
  f.manifest.members = read_members(m, "members");
  f.manifest.sig = m.b64_fixed<64>("sig");
  return f;
}

server::message read_message(reader& r) {
  server::message f;
  f.group = r.id("group");
  f.seq = r.u64("seq");
  f.id = r.id("id");
  f.sender = r.id("sender");
  f.epoch = r.u64("epoch");
  f.alg = r.alg("alg");
  f.nonce = r.b64("nonce");
  r.check_nonce("nonce", f.nonce, f.alg);
  f.ct = r.b64("ct", min_ct_size);
  f.sig = r.b64_fixed<64>("sig");
  f.ts = r.u64("ts");
  return f;
}

}  // namespace detail

namespace {

// Rids inside batch items have no captured source text: integers print exactly, other numbers
// in Boost.JSON's shortest form (the C++ client only uses integer rids).
std::optional<request_id> rid_in(const reader& r, std::string_view rid_number_text) {
  const json::value* v = r.object().if_contains("rid");
  return v != nullptr ? detail::read_rid(*v, rid_number_text) : std::nullopt;
}

server_frame read_challenge(reader& r, std::string_view) {
  server::challenge f;
  f.protocol = r.u64("protocol");
  f.broker = r.id("broker");
  f.broker_pk = r.b64_fixed<32>("broker_pk");
  f.nonce = r.b64_fixed<32>("nonce");
  return f;
}

server_frame read_welcome(reader& r, std::string_view) {
  server::welcome f;
  f.user = r.id("user");
  r.each_object("groups", [&](reader& g) {
    welcome_group e;
    e.group = g.id("group");
    e.name = g.str("name");
    e.epoch = g.u64("epoch");
    e.role = g.role("role");
    f.groups.push_back(std::move(e));
  });
  return f;
}

server_frame read_ok(reader& r, std::string_view rid_text) {
  server::ok f;
  if (auto rid = rid_in(r, rid_text))
    f.rid = std::move(*rid);
  else
    r.fail("rid", r.has("rid") ? "must be a string or a number" : "is missing");
  f.fields = detail::make_ok_fields(r.object());
  return f;
}

server_frame read_error(reader& r, std::string_view rid_text) {
  server::error f;
  f.rid = rid_in(r, rid_text);
  if (!f.rid && r.has("rid")) r.fail("rid", "must be a string or a number");
  f.code = parse_wire_errc(r.str("code")).value_or(errc::internal);
  f.message = r.opt_str("message").value_or("");
  return f;
}

server_frame read_key_frame(reader& r, std::string_view) { return detail::read_key(r); }

server_frame read_message_frame(reader& r, std::string_view) { return detail::read_message(r); }

server_frame read_direct(reader& r, std::string_view) {
  server::direct f;
  f.id = r.id("id");
  f.from = r.id("from");
  f.sealed = r.b64("sealed", min_sealed_size);
  f.sig = r.b64_fixed<64>("sig");
  f.ts = r.u64("ts");
  return f;
}

server_frame read_member(reader& r, std::string_view) {
  server::member f;
  f.group = r.id("group");
  f.user = r.id("user");
  f.action = r.action("action");
  f.epoch = r.u64("epoch");
  return f;
}

server_frame read_presence(reader& r, std::string_view) {
  server::presence f;
  f.group = r.id("group");
  f.user = r.id("user");
  f.online = r.boolean("online");
  return f;
}

server_frame read_rekey_request(reader& r, std::string_view) {
  server::rekey_request f;
  f.group = r.id("group");
  f.epoch = r.u64("epoch");
  f.reason = r.str("reason");
  f.prev_hash = r.b64_fixed<32>("prev_hash");
  f.members = detail::read_members(r, "members");
  f.deadline = r.u64("deadline");
  return f;
}

struct frame_spec {
  std::string_view type;
  server_frame (*read)(reader&, std::string_view rid_text);
};

constexpr frame_spec specs[] = {
    {"message", read_message_frame}, {"ok", read_ok},
    {"direct", read_direct},         {"key", read_key_frame},
    {"member", read_member},         {"presence", read_presence},
    {"error", read_error},           {"challenge", read_challenge},
    {"welcome", read_welcome},       {"rekey_request", read_rekey_request},
};
static_assert(std::size(specs) == std::variant_size_v<server_frame>);

// Reads one non-batch frame whose type is already known to be a string.
std::optional<server_frame> read_one(reader& r, std::string_view type, std::string_view rid_text) {
  for (const frame_spec& s : specs)
    if (s.type == type) return s.read(r, rid_text);
  return std::nullopt;
}

// Parses one WebSocket message into `out`: a single frame, or a batch's items when allowed.
status parse_into(std::string_view text, bool allow_batch, std::vector<server_frame>& out) {
  detail::document doc;
  if (status s = doc.parse(text); !s) return s;
  const json::object* obj = doc.root().if_object();
  if (obj == nullptr) return error{errc::bad_request, "a frame must be a JSON object"};
  std::optional<error> err;
  reader r(*obj, err);
  const std::string type = r.str("type");
  if (err) return std::move(*err);

  if (type != "batch") {
    auto f = read_one(r, type, doc.rid_number_text());
    if (!f) return error{errc::unknown_type, "unknown type '" + std::string(detail::clip(type)) + "'"};
    if (err) return std::move(*err);
    out.push_back(std::move(*f));
    return {};
  }
  if (!allow_batch) return error{errc::bad_request, "a batch where a single frame was expected"};
  r.each_object("items", [&](reader& item) {
    const std::string item_type = item.str("type");
    if (err) return;
    if (item_type == "batch") return item.fail("type", "must not be batch: batches do not nest");
    auto f = read_one(item, item_type, {});
    if (!f) return item.fail("type", "is unknown: '" + std::string(detail::clip(item_type)) + "'");
    out.push_back(std::move(*f));
  });
  if (err) return std::move(*err);
  return {};
}

}  // namespace

result<std::vector<server_frame>> parse_server_frames(std::string_view text) {
  std::vector<server_frame> out;
  if (status s = parse_into(text, true, out); !s) return s.err();
  return out;
}

result<server_frame> parse_server_frame(std::string_view text) {
  std::vector<server_frame> out;
  if (status s = parse_into(text, false, out); !s) return s.err();
  return std::move(out.front());
}

}  // namespace sealcast::protocol
