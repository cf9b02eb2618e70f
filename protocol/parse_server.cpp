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

namespace {

bool adds_member(change_action a) noexcept { return a == change_action::add || a == change_action::join; }

// Reads an optional field that belongs to some actions only; present elsewhere it is refused,
// since a signed change line has no place for it.
template <std::size_t N>
std::optional<std::array<std::uint8_t, N>> read_if(reader& c, std::string_view k, bool allowed, bool required,
                                                   std::string_view where) {
  if (allowed) return required ? c.b64_fixed<N>(k) : c.opt_b64_fixed<N>(k);
  if (c.has(k)) c.fail(k, where);
  return std::nullopt;
}

// Two optional fields that only make sense together (a proposal's by_pk and sig, a subject's
// sign_pk and kx_sig).
template <class A, class B>
void check_pair(reader& c, const std::optional<A>& a, std::string_view ka, const std::optional<B>& b,
                std::string_view kb) {
  if (a && !b) c.fail(kb, "is missing (it comes with " + std::string(ka) + ")");
  if (b && !a) c.fail(ka, "is missing (it comes with " + std::string(kb) + ")");
}

// The fields a key frame and a manifest entry share (section 6.2), in the same order.
template <class T>
void read_context(reader& r, T& f) {
  f.epoch = r.u64("epoch");
  f.key_id = r.id("key_id");
  f.alg = r.alg("alg");
  f.custody = r.custody("custody");
  f.policy = r.policy("policy");
  f.issuer = r.id("issuer");
  // Only a client-custody issuer needs its key on the frame: the broker's came with the challenge.
  const bool client_custody = f.custody == key_custody::client;
  f.issuer_pk = read_if<32>(r, "issuer_pk", client_custody, true, "is only allowed in client custody");
  f.sig = r.b64_fixed<64>("sig");
  f.changes = read_changes(r, "changes", change_context::manifest);
}

}  // namespace

std::vector<change> read_changes(reader& r, std::string_view k, change_context where) {
  std::vector<change> out;
  r.each_object(k, [&](reader& c) {
    change e;
    e.action = c.change_kind("action");
    e.user = c.id("user");
    const bool adds = adds_member(e.action);
    e.kx_pk = read_if<32>(c, "kx_pk", adds, true, "is only allowed for add and join");
    if (adds || e.action == change_action::role)
      e.role = c.role("role");
    else if (c.has("role"))
      c.fail("role", "is only allowed for add, join and role");
    e.by = c.opt_id("by");
    e.by_pk = c.opt_b64_fixed<32>("by_pk");
    e.sig = c.opt_b64_fixed<64>("sig");
    check_pair(c, e.by_pk, "by_pk", e.sig, "sig");
    if (e.sig && !e.by) c.fail("by", "is missing (a proposal names its proposer)");
    if (where == change_context::rekey_request) {
      e.sign_pk = read_if<32>(c, "sign_pk", adds, false, "is only allowed for add and join");
      e.kx_sig = read_if<64>(c, "kx_sig", adds, false, "is only allowed for add and join");
      check_pair(c, e.sign_pk, "sign_pk", e.kx_sig, "kx_sig");
    }
    out.push_back(e);
  });
  return out;
}

server::key read_key(reader& r) {
  server::key f;
  f.group = r.id("group");
  read_context(r, f);
  f.wrapped = r.b64_fixed<80>("wrapped");
  return f;
}

manifest_entry read_manifest_entry(reader& r) {
  manifest_entry e;
  read_context(r, e);
  return e;
}

server::message read_message(reader& r) {
  server::message f;
  f.group = r.id("group");
  f.seq = r.u64("seq");
  f.id = r.id("id");
  f.sender = r.id("sender");
  f.epoch = r.u64("epoch");
  f.index = r.u32("index");
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
  f.more_after = r.opt_id("more_after");
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
  f.changes = detail::read_changes(r, "changes", detail::change_context::rekey_request);
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
