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
  server::rekey_request rekey{id_of(0xa1), 4, "member removed", array_of<32>(9), sample_members(), 1700000030000};
  return {
      server::challenge{1, id_of(0xb0), array_of<32>(1), array_of<32>(2)},
      server::welcome{id_of(1),
                      {{id_of(0xa1), "team", 3, member_role::owner}, {id_of(0xa2), "", 0, member_role::member}}},
      server::welcome{id_of(1), {}},
      sample_ok(),
      server::ok{request_id::from_string("x"), {}},
      server::error{request_id::from_number(3), errc::not_member, "not a member of the group"},
      server::error{std::nullopt, errc::auth_failed, "bad signature"},
      sample_key(),
      sample_message(),
      server::direct{id_of(0x5e), id_of(1), bytes_of(48, 0), array_of<64>(1), 1700000000000},
      server::member{id_of(0xa1), id_of(2), member_action::removed, 5},
      server::presence{id_of(0xa1), id_of(2), true},
      rekey,
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
                      R"("epoch":3,"alg":"xchacha20-poly1305","nonce":")" +
                          to_base64(m.nonce) + R"(","ct":")" + to_base64(m.ct) + R"(","sig":")" + to_base64(m.sig) +
                          R"(","ts":1700000000123})");
}

TEST_CASE("key serializes its manifest as a nested object", "[protocol][server][shape]") {
  const auto k = sample_key();
  std::string members;
  for (const auto& m : k.manifest.members) {
    if (!members.empty()) members += ',';
    members += R"({"user":")" + m.user.hex() + R"(","kx_pk":")" + to_base64(m.kx_pk) + R"(","role":")" +
               std::string(to_string(m.role)) + R"("})";
  }
  CHECK(to_json(k) == R"({"type":"key","group":"a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1","epoch":3,)"
                      R"("key_id":"0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c","alg":"aes-256-gcm","wrapped":")" +
                          to_base64(k.wrapped) +
                          R"(","custody":"client","issuer":"01010101010101010101010101010101",)"
                          R"("manifest":{"prev_hash":")" +
                          to_base64(k.manifest.prev_hash) + R"(","members":[)" + members + R"(],"sig":")" +
                          to_base64(k.manifest.sig) + R"("}})");
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
  CHECK(to_json(server::challenge{1, id_of(0xb0), array_of<32>(1), array_of<32>(2)}) ==
        R"({"type":"challenge","protocol":1,"broker":"b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0","broker_pk":")" +
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
  const std::string good_role = R"("role":"admin")";
  text.replace(text.find(good_role), good_role.size(), R"("role":"boss")");
  auto f = parse_server_frame(text);
  REQUIRE_FALSE(f);
  CHECK(f.err().message == "field 'manifest.members[1].role' must be one of owner, admin, member");

  auto unknown = parse_server_frame(R"({"type":"hello"})");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.err().code == errc::unknown_type);
  CHECK(unknown.err().message == "unknown type 'hello'");
}
