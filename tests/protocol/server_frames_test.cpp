#include <catch2/catch_test_macros.hpp>
#include <vector>

#include "protocol/frames.hpp"
#include "tests/protocol/sample_frames.hpp"

using namespace sealcast;
using namespace sealcast::protocol;
using namespace sealcast::protocol::test;

namespace {

server::ok sample_ok() {
  auto f = parse_server_frame(make_ok(request_id::from_number(5), create_group_result{id_of(0xa1), 1}));
  REQUIRE(f);
  return std::get<server::ok>(*f);
}

std::vector<server_frame> every_server_frame() {
  server::rekey_request genesis{id_of(0xa1), 1, "genesis", hash32{},
                                {change{change_action::add, id_of(1), array_of<32>(1), member_role::owner}}, 1};
  server::rekey_request rotation{id_of(0xa1), 9, "rotation", array_of<32>(9), {}, 1700000030000};
  server::key rotated = sample_broker_key();
  rotated.changes.clear();
  return {
      server::challenge{protocol_version, id_of(0xb0), array_of<32>(1), array_of<32>(2)},
      server::welcome{id_of(1),
                      {{id_of(0xa1), "team", 3, member_role::owner}, {id_of(0xa2), "", 0, member_role::member}}},
      server::welcome{id_of(1), {}},
      sample_ok(),
      server::ok{request_id::from_string("x"), {}},
      server::error{request_id::from_number(3), errc::not_member, "not a member of the group"},
      server::error{std::nullopt, errc::auth_failed, "bad signature"},
      sample_key(),
      sample_broker_key(),
      rotated,
      sample_message(),
      server::direct{id_of(0x5e), id_of(1), bytes_of(48, 0), array_of<64>(1), 1700000000000},
      server::member{id_of(0xa1), id_of(2), member_action::removed, 5},
      server::presence{id_of(0xa1), id_of(2), true},
      sample_rekey_request(),
      genesis,
      rotation,
  };
}

}  // namespace

TEST_CASE("every broker frame round-trips through JSON unchanged", "[protocol][server]") {
  std::vector<bool> seen(std::variant_size_v<server_frame>);
  for (const server_frame& frame : every_server_frame()) {
    seen[frame.index()] = true;
    const std::string text = to_json(frame);
    INFO(text);
    auto parsed = parse_server_frame(text);
    REQUIRE(parsed);
    CHECK(*parsed == frame);
    CHECK(to_json(*parsed) == text);
  }
  for (std::size_t i = 0; i < seen.size(); ++i) {
    INFO(i);
    CHECK(seen[i]);
  }
}

TEST_CASE("message serializes with PROTOCOL.md's field names and order", "[protocol][server][shape]") {
  const auto m = sample_message();
  CHECK(to_json(m) == R"({"type":"message","group":"a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1","seq":12,)"
                      R"("id":"5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e","sender":"01010101010101010101010101010101",)"
                      R"("epoch":3,"index":17,"alg":"xchacha20-poly1305","nonce":")" +
                          to_base64(m.nonce) + R"(","ct":")" + to_base64(m.ct) + R"(","sig":")" + to_base64(m.sig) +
                          R"(","ts":1700000000123})");
}

namespace {

// The JSON of one change, written by hand from section 6.2.
std::string change_json(const change& c, bool subject_keys) {
  std::string out = R"({"action":")" + std::string(to_string(c.action)) + R"(","user":")" + c.user.hex() + '"';
  if (c.kx_pk) out += R"(,"kx_pk":")" + to_base64(*c.kx_pk) + '"';
  if (c.role) out += R"(,"role":")" + std::string(to_string(*c.role)) + '"';
  if (c.by) out += R"(,"by":")" + c.by->hex() + '"';
  if (c.by_pk) out += R"(,"by_pk":")" + to_base64(*c.by_pk) + '"';
  if (c.sig) out += R"(,"sig":")" + to_base64(*c.sig) + '"';
  if (subject_keys && c.sign_pk) out += R"(,"sign_pk":")" + to_base64(*c.sign_pk) + '"';
  if (subject_keys && c.kx_sig) out += R"(,"kx_sig":")" + to_base64(*c.kx_sig) + '"';
  return out + "}";
}

std::string changes_json(const std::vector<change>& changes, bool subject_keys = false) {
  std::string out = "[";
  for (const change& c : changes) {
    if (out.size() > 1) out += ',';
    out += change_json(c, subject_keys);
  }
  return out + "]";
}

}  // namespace

TEST_CASE("key serializes the signed context, the changes, and wrapped last", "[protocol][server][shape]") {
  const auto k = sample_key();
  CHECK(to_json(k) == R"({"type":"key","group":"a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1","epoch":3,)"
                      R"("key_id":"0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c","alg":"aes-256-gcm","custody":"client",)"
                      R"("policy":"open","issuer":"01010101010101010101010101010101","issuer_pk":")" +
                          to_base64(*k.issuer_pk) + R"(","sig":")" + to_base64(k.sig) + R"(","changes":)" +
                          changes_json(k.changes) + R"(,"wrapped":")" + to_base64(k.wrapped) + R"("})");

  // Broker custody: no issuer_pk, and changes without proposals (the broker's own has no by).
  const auto b = sample_broker_key();
  CHECK(to_json(b) ==
        R"({"type":"key","group":"a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2","epoch":1,"key_id":"0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d",)"
        R"("alg":"chacha20-poly1305","custody":"broker","policy":"invite","issuer":"b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0",)"
        R"("sig":")" + to_base64(b.sig) + R"(","changes":[)"
        R"({"action":"add","user":"01010101010101010101010101010101","kx_pk":")" +
            to_base64(array_of<32>(1)) + R"(","role":"owner"},)"
            R"({"action":"add","user":"02020202020202020202020202020202","kx_pk":")" +
            to_base64(array_of<32>(2)) + R"(","role":"member","by":"01010101010101010101010101010101"},)"
            R"({"action":"leave","user":"03030303030303030303030303030303","by":"03030303030303030303030303030303"}],)"
            R"("wrapped":")" + to_base64(b.wrapped) + R"("})");
}

TEST_CASE("a key frame is the shared prefix plus the member's wrapped key", "[protocol][server][shape]") {
  for (server::key k : {sample_key(), sample_broker_key()}) {
    const std::string prefix = key_frame_prefix(k);
    CHECK(prefix.ends_with(R"(,"wrapped":")"));
    CHECK(finish_key_frame(prefix, k.wrapped) == to_json(k));
    // The prefix does not depend on the wrapped key: one serialization serves every member.
    const wrapped_key other = array_of<80>(200);
    k.wrapped = other;
    CHECK(key_frame_prefix(k) == prefix);
    const std::string frame = finish_key_frame(prefix, other);
    auto parsed = parse_server_frame(frame);
    REQUIRE(parsed);
    CHECK(std::get<server::key>(*parsed) == k);
  }
}

TEST_CASE("rekey_request carries the pending changes with the subjects' keys", "[protocol][server][shape]") {
  const auto r = sample_rekey_request();
  CHECK(to_json(r) == R"({"type":"rekey_request","group":"a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1","epoch":4,)"
                      R"("reason":"member_added","prev_hash":")" +
                          to_base64(r.prev_hash) + R"(","changes":)" + changes_json(r.changes, true) +
                          R"(,"deadline":1700000030000})");
  CHECK(to_json(r).find(R"("sign_pk")") != std::string::npos);
}

TEST_CASE("sign_pk and kx_sig belong to rekey_request only", "[protocol][server]") {
  // A key frame's changes never carry them: the writer leaves them out...
  auto k = sample_key();
  k.changes = rekey_request_changes();
  const std::string text = to_json(k);
  CHECK(text.find("sign_pk") == std::string::npos);
  CHECK(text.find("kx_sig") == std::string::npos);
  // ...and the reader ignores them there, like any field a key frame does not have.
  std::string with_keys = to_json(sample_key());
  const std::string first_sig = R"(,"sig":")" + to_base64(*sample_key().changes[0].sig) + '"';
  REQUIRE(with_keys.find(first_sig) != std::string::npos);
  with_keys.insert(with_keys.find(first_sig) + first_sig.size(), R"(,"sign_pk":"x")");
  auto parsed = parse_server_frame(with_keys);
  REQUIRE(parsed);
  CHECK(std::get<server::key>(*parsed) == sample_key());
}

TEST_CASE("pushes and errors have the documented shapes", "[protocol][server][shape]") {
  CHECK(
      to_json(server::presence{id_of(0xa1), id_of(2), false}) ==
      R"({"type":"presence","group":"a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1","user":"02020202020202020202020202020202","online":false})");
  CHECK(
      to_json(server::member{id_of(0xa1), id_of(2), member_action::joined, 2}) ==
      R"({"type":"member","group":"a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1","user":"02020202020202020202020202020202","action":"joined","epoch":2})");
  CHECK(to_json(server::error{std::nullopt, errc::auth_failed, "late \"hello\"\n"}) ==
        R"({"type":"error","code":"auth_failed","message":"late \"hello\"\n"})");
  CHECK(to_json(server::error{request_id::from_string("r"), errc::rate_limited, "slow down"}) ==
        R"({"type":"error","rid":"r","code":"rate_limited","message":"slow down"})");
  CHECK(protocol_version == 2);
  CHECK(to_json(server::challenge{}).starts_with(R"({"type":"challenge","protocol":2,)"));
  CHECK(to_json(server::challenge{2, id_of(0xb0), array_of<32>(1), array_of<32>(2)}) ==
        R"({"type":"challenge","protocol":2,"broker":"b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0","broker_pk":")" +
            to_base64(array_of<32>(1)) + R"(","nonce":")" + to_base64(array_of<32>(2)) + R"("})");
  CHECK(
      to_json(server::welcome{id_of(1), {{id_of(0xa1), "t", 3, member_role::admin}}}) ==
      R"({"type":"welcome","user":"01010101010101010101010101010101","groups":[{"group":"a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1","name":"t","epoch":3,"role":"admin"}]})");
}

TEST_CASE("an error frame with an unknown code reads as internal", "[protocol][server]") {
  auto f = parse_server_frame(R"({"type":"error","code":"brand_new","message":"m"})");
  REQUIRE(f);
  CHECK(std::get<server::error>(*f).code == errc::internal);
  CHECK(std::get<server::error>(*f).message == "m");
}

TEST_CASE("make_batch concatenates serialized frames without reparsing", "[protocol][batch]") {
  const std::string a = to_json(sample_message());
  const std::string b = to_json(server::presence{id_of(0xa1), id_of(2), true});
  const std::string c = to_json(sample_key());
  const std::string_view items[] = {a, b, c};
  const std::string batch = make_batch(items);
  CHECK(batch == R"({"type":"batch","items":[)" + a + "," + b + "," + c + "]}");
  CHECK(make_batch(std::span<const std::string_view>{}) == R"({"type":"batch","items":[]})");
  CHECK(make_batch(std::vector<std::string>{a, b, c}) == batch);
}

TEST_CASE("a batch unpacks into its frames in order", "[protocol][batch]") {
  server::batch b{{sample_message(), server::presence{id_of(0xa1), id_of(2), true}, sample_key(), sample_ok()}};
  const std::string text = to_json(b);
  auto frames = parse_server_frames(text);
  REQUIRE(frames);
  CHECK(*frames == b.items);
  auto empty = parse_server_frames(R"({"type":"batch","items":[]})");
  REQUIRE(empty);
  CHECK(empty->empty());
}

TEST_CASE("a single frame reads as a one-item list", "[protocol][batch]") {
  auto frames = parse_server_frames(to_json(sample_message()));
  REQUIRE(frames);
  REQUIRE(frames->size() == 1);
  CHECK(std::get<server::message>(frames->front()) == sample_message());
}

TEST_CASE("batches are refused where one frame is expected, nested, or malformed", "[protocol][batch]") {
  auto single = parse_server_frame(R"({"type":"batch","items":[]})");
  REQUIRE_FALSE(single);
  CHECK(single.err().code == errc::bad_request);

  auto nested = parse_server_frames(R"({"type":"batch","items":[{"type":"batch","items":[]}]})");
  REQUIRE_FALSE(nested);
  CHECK(nested.err().message == "field 'items[0].type' must not be batch: batches do not nest");

  const std::string bad_item =
      R"({"type":"batch","items":[)" + to_json(sample_message()) +
      R"(,{"type":"member","group":"a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1","user":"02020202020202020202020202020202","action":"joined","epoch":-1}]})";
  auto bad = parse_server_frames(bad_item);
  REQUIRE_FALSE(bad);
  CHECK(bad.err().code == errc::bad_request);
  CHECK(bad.err().message == "field 'items[1].epoch' must be a non-negative integer");

  auto not_object = parse_server_frames(R"({"type":"batch","items":[1]})");
  REQUIRE_FALSE(not_object);
  CHECK(not_object.err().message == "field 'items[0]' must be an object");

  auto unknown = parse_server_frames(R"({"type":"batch","items":[{"type":"nope"}]})");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.err().message == "field 'items[0].type' is unknown: 'nope'");

  auto no_items = parse_server_frames(R"({"type":"batch"})");
  REQUIRE_FALSE(no_items);
  CHECK(no_items.err().message == "field 'items' is missing");
}

TEST_CASE("server frame errors name nested fields by path", "[protocol][server]") {
  auto k = sample_key();
  std::string text = to_json(k);
  const std::string good_role = R"("role":"member")";
  text.replace(text.find(good_role), good_role.size(), R"("role":"boss")");
  auto f = parse_server_frame(text);
  REQUIRE_FALSE(f);
  CHECK(f.err().message == "field 'changes[1].role' must be one of owner, admin, member");

  auto unknown = parse_server_frame(R"({"type":"hello"})");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.err().code == errc::unknown_type);
  CHECK(unknown.err().message == "unknown type 'hello'");
}

namespace {

// A broker-custody key frame around the given changes array.
std::string key_with_changes(const std::string& changes) {
  return R"({"type":"key","group":")" + hex_id('a') + R"(","epoch":2,"key_id":")" + hex_id('c') +
         R"(","alg":"aes-256-gcm","custody":"broker","policy":"open","issuer":")" + hex_id('b') + R"(","sig":")" +
         b64_of(64) + R"(","changes":)" + changes + R"(,"wrapped":")" + b64_of(80) + R"("})";
}

// A rekey_request around the given changes array.
std::string rekey_request_with(const std::string& changes) {
  return R"({"type":"rekey_request","group":")" + hex_id('a') + R"(","epoch":2,"reason":"r","prev_hash":")" +
         b64_of(32) + R"(","changes":)" + changes + R"(,"deadline":5})";
}

void expect_server_failure(const std::string& text, const std::string& message) {
  INFO(text);
  auto f = parse_server_frame(text);
  REQUIRE_FALSE(f);
  CHECK(f.err().code == errc::bad_request);
  CHECK(f.err().message == message);
}

const std::string user = R"("user":")" + hex_id('1') + '"';
const std::string kx = R"("kx_pk":")" + b64_of(32) + '"';

}  // namespace

TEST_CASE("changes are held to the shape of their action", "[protocol][server][bad]") {
  CHECK(parse_server_frame(key_with_changes("[]")));
  CHECK(parse_server_frame(key_with_changes(R"([{"action":"add",)" + user + "," + kx + R"(,"role":"owner"}])")));
  CHECK(parse_server_frame(key_with_changes(R"([{"action":"remove",)" + user + "}]")));
  CHECK(parse_server_frame(key_with_changes(R"([{"action":"role",)" + user + R"(,"role":"admin"}])")));

  expect_server_failure(key_with_changes(R"([{"action":"kick",)" + user + "}]"),
                        "field 'changes[0].action' must be one of add, remove, role, join, leave");
  expect_server_failure(key_with_changes(R"([{"action":"Add",)" + user + "," + kx + R"(,"role":"member"}])"),
                        "field 'changes[0].action' must be one of add, remove, role, join, leave");
  expect_server_failure(key_with_changes(R"([{)" + user + "}]"), "field 'changes[0].action' is missing");
  expect_server_failure(key_with_changes(R"([{"action":"remove"}])"), "field 'changes[0].user' is missing");
  // add and join need the subject's kx_pk and role; role needs a role.
  expect_server_failure(key_with_changes(R"([{"action":"add",)" + user + R"(,"role":"member"}])"),
                        "field 'changes[0].kx_pk' is missing");
  expect_server_failure(key_with_changes(R"([{"action":"join",)" + user + R"(,"role":"member"}])"),
                        "field 'changes[0].kx_pk' is missing");
  expect_server_failure(key_with_changes(R"([{"action":"add",)" + user + "," + kx + "}]"),
                        "field 'changes[0].role' is missing");
  expect_server_failure(key_with_changes(R"([{"action":"role",)" + user + "}]"),
                        "field 'changes[0].role' is missing");
  expect_server_failure(key_with_changes(R"([{"action":"add",)" + user + R"(,"kx_pk":")" + b64_of(31) +
                                         R"(","role":"member"}])"),
                        "field 'changes[0].kx_pk' must be 32 bytes");
  // A field the change line has no place for is refused rather than silently dropped.
  expect_server_failure(key_with_changes(R"([{"action":"remove",)" + user + "," + kx + "}]"),
                        "field 'changes[0].kx_pk' is only allowed for add and join");
  expect_server_failure(key_with_changes(R"([{"action":"leave",)" + user + R"(,"role":"member"}])"),
                        "field 'changes[0].role' is only allowed for add, join and role");
  // A proposal is by_pk and sig together, naming its proposer.
  expect_server_failure(key_with_changes(R"([{"action":"remove",)" + user + R"(,"by":")" + hex_id('2') +
                                         R"(","by_pk":")" + b64_of(32) + R"("}])"),
                        "field 'changes[0].sig' is missing (it comes with by_pk)");
  expect_server_failure(key_with_changes(R"([{"action":"remove",)" + user + R"(,"by_pk":")" + b64_of(32) +
                                         R"(","sig":")" + b64_of(64) + R"("}])"),
                        "field 'changes[0].by' is missing (a proposal names its proposer)");
  expect_server_failure(key_with_changes(R"([{"action":"remove",)" + user + R"(,"by":")" + hex_id('2') +
                                         R"(","by_pk":")" + b64_of(32) + R"(","sig":")" + b64_of(63) + R"("}])"),
                        "field 'changes[0].sig' must be 64 bytes");
  expect_server_failure(key_with_changes(R"([{"action":"remove",)" + user + "},5]"),
                        "field 'changes[1]' must be an object");
}

TEST_CASE("issuer_pk is present exactly in client custody", "[protocol][server][bad]") {
  std::string broker_with_pk = to_json(sample_broker_key());
  const std::string sig = R"("sig":")";
  broker_with_pk.insert(broker_with_pk.find(sig), R"("issuer_pk":")" + b64_of(32) + R"(",)");
  expect_server_failure(broker_with_pk, "field 'issuer_pk' is only allowed in client custody");

  auto client = sample_key();
  client.issuer_pk.reset();
  expect_server_failure(to_json(client), "field 'issuer_pk' is missing");
}

TEST_CASE("a rekey_request's add and join may carry the subject's sign_pk and kx_sig", "[protocol][server][bad]") {
  const std::string keys = R"("sign_pk":")" + b64_of(32) + R"(","kx_sig":")" + b64_of(64) + '"';
  auto ok = parse_server_frame(
      rekey_request_with(R"([{"action":"join",)" + user + "," + kx + R"(,"role":"member",)" + keys + "}]"));
  REQUIRE(ok);
  const auto& c = std::get<server::rekey_request>(*ok).changes.at(0);
  CHECK(c.sign_pk == array_of<32>(0));
  CHECK(c.kx_sig == array_of<64>(0));
  CHECK(parse_server_frame(rekey_request_with(R"([{"action":"add",)" + user + "," + kx + R"(,"role":"owner"}])")));

  expect_server_failure(rekey_request_with(R"([{"action":"remove",)" + user + "," + keys + "}]"),
                        "field 'changes[0].sign_pk' is only allowed for add and join");
  expect_server_failure(rekey_request_with(R"([{"action":"add",)" + user + "," + kx +
                                           R"(,"role":"member","sign_pk":")" + b64_of(32) + R"("}])"),
                        "field 'changes[0].kx_sig' is missing (it comes with sign_pk)");
  expect_server_failure(rekey_request_with(R"([{"action":"add",)" + user + "," + kx + R"(,"role":"member",)" +
                                           R"("sign_pk":")" + b64_of(32) + R"(","kx_sig":")" + b64_of(32) + R"("}])"),
                        "field 'changes[0].kx_sig' must be 64 bytes");
  expect_server_failure(rekey_request_with(R"({})"), "field 'changes' must be an array");
}

TEST_CASE("a message's index is required and below 2^32", "[protocol][server][bad]") {
  std::string text = to_json(sample_message());
  const std::string index = R"("index":17,)";
  REQUIRE(text.find(index) != std::string::npos);
  std::string missing = text;
  missing.erase(missing.find(index), index.size());
  expect_server_failure(missing, "field 'index' is missing");
  std::string too_large = text;
  too_large.replace(too_large.find(index), index.size(), R"("index":4294967296,)");
  expect_server_failure(too_large, "field 'index' is too large (at most 4294967295)");
  std::string largest = text;
  largest.replace(largest.find(index), index.size(), R"("index":4294967295,)");
  auto f = parse_server_frame(largest);
  REQUIRE(f);
  CHECK(std::get<server::message>(*f).index == 4294967295u);
}
