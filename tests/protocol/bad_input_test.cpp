#include <catch2/catch_test_macros.hpp>
#include <map>
#include <string>

#include "protocol/frames.hpp"
#include "tests/protocol/sample_frames.hpp"

using namespace sealcast;
using namespace sealcast::protocol;
using namespace sealcast::protocol::test;

namespace {

const std::string group = "\"" + hex_id('a') + "\"";

// A valid publish with one field replaced (or removed when value is empty).
std::string publish_with(const std::string& field, const std::string& value) {
  std::map<std::string, std::string> fields = {{"rid", "9"},
                                               {"group", group},
                                               {"epoch", "7"},
                                               {"index", "0"},
                                               {"alg", R"("aes-256-gcm")"},
                                               {"nonce", "\"" + b64_of(12) + "\""},
                                               {"ct", "\"" + b64_of(16) + "\""},
                                               {"sig", "\"" + b64_of(64) + "\""}};
  if (value.empty())
    fields.erase(field);
  else
    fields[field] = value;
  std::string text = R"({"type":"publish")";
  for (const auto& [k, v] : fields) {
    text += ",\"";
    text += k;
    text += "\":";
    text += v;
  }
  return text + "}";
}

// Parses `text`, expects a failure with `code` and exactly `message`.
void expect_failure(const std::string& text, errc code, const std::string& message) {
  INFO(text);
  auto f = parse_client_frame(text);
  REQUIRE_FALSE(f);
  CHECK(f.err().code == code);
  CHECK(f.err().message == message);
}

// Expects a bad_request on the publish with `field` set to `value`, answered with rid 9.
void expect_publish_failure(const std::string& field, const std::string& value, const std::string& message) {
  const std::string text = publish_with(field, value);
  INFO(text);
  auto f = parse_client_frame(text);
  REQUIRE_FALSE(f);
  CHECK(f.err().code == errc::bad_request);
  CHECK(f.err().message == message);
  REQUIRE(f.rid());
  CHECK(f.rid()->json() == "9");
}

std::string nested_arrays(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

}  // namespace

TEST_CASE("the publish template used by the battery is itself valid", "[protocol][bad]") {
  CHECK(parse_client_frame(publish_with("rid", "9")));
}

TEST_CASE("malformed JSON is a bad_request without a rid", "[protocol][bad]") {
  for (const char* text : {"", "not json", R"({"type":)", R"({"type":"ack",})", R"({"type":"ack"} x)", "// c\n{}",
                           R"({'type':'ack'})", "{\"type\":\"\xff\"}", R"({"rid":1,"seq":NaN})",
                           R"({"rid":1,"seq":Infinity})", R"({"rid":1,"seq":-Infinity})", R"({"rid":01})"}) {
    INFO(text);
    auto f = parse_client_frame(text);
    REQUIRE_FALSE(f);
    CHECK(f.err().code == errc::bad_request);
    CHECK(f.err().message.starts_with("malformed JSON: "));
    CHECK_FALSE(f.rid());
  }
}

TEST_CASE("a frame that is not a JSON object is a bad_request", "[protocol][bad]") {
  for (const char* text : {"[]", R"("publish")", "42", "null", "true", R"([{"type":"ack"}])"})
    expect_failure(text, errc::bad_request, "a frame must be a JSON object");
}

TEST_CASE("a missing or non-string type is a bad_request that keeps the rid", "[protocol][bad]") {
  auto missing = parse_client_frame(R"({"rid":"r1","group":"x"})");
  REQUIRE_FALSE(missing);
  CHECK(missing.err().message == "field 'type' is missing");
  CHECK(missing.rid() == request_id::from_string("r1"));
  for (const char* type : {"5", "null", "[\"ack\"]", "{}", "true"}) {
    auto f = parse_client_frame(std::string(R"({"rid":2,"type":)") + type + "}");
    REQUIRE_FALSE(f);
    CHECK(f.err().code == errc::bad_request);
    CHECK(f.err().message == "field 'type' must be a string");
    CHECK(f.rid() == request_id::from_number(2));
  }
}

TEST_CASE("an unknown type is unknown_type naming it, with the rid", "[protocol][bad]") {
  auto f = parse_client_frame(R"({"type":"frobnicate","rid":3})");
  REQUIRE_FALSE(f);
  CHECK(f.err().code == errc::unknown_type);
  CHECK(f.err().message == "unknown type 'frobnicate'");
  CHECK(f.rid() == request_id::from_number(3));
  // Broker-to-client types are unknown coming from a client.
  expect_failure(R"({"type":"message","rid":3})", errc::unknown_type, "unknown type 'message'");
  expect_failure(R"({"type":"batch","rid":3})", errc::unknown_type, "unknown type 'batch'");
  expect_failure(R"({"type":"","rid":3})", errc::unknown_type, "unknown type ''");
  // Types are case-sensitive, and long ones are cut in the message.
  expect_failure(R"({"type":"Publish","rid":3})", errc::unknown_type, "unknown type 'Publish'");
  expect_failure(R"({"type":")" + std::string(500, 'x') + R"("})", errc::unknown_type,
                 "unknown type '" + std::string(64, 'x') + "'");
}

TEST_CASE("a missing field is a bad_request naming it", "[protocol][bad]") {
  for (const char* field : {"group", "epoch", "index", "alg", "nonce", "ct", "sig"})
    expect_publish_failure(field, "", "field '" + std::string(field) + "' is missing");
  expect_failure(R"({"type":"ack","seq":1})", errc::bad_request, "field 'group' is missing");
  expect_failure(R"({"type":"keys","rid":1,"group":")" + hex_id('a') + R"("})", errc::bad_request,
                 "field 'from_epoch' is missing");
  expect_failure(R"({"type":"create_group","rid":1,"name":"n"})", errc::bad_request, "field 'policy' is missing");
  expect_failure(R"({"type":"publish","rid":1,"group":null})", errc::bad_request, "field 'group' must not be null");
}

TEST_CASE("a field of the wrong JSON type is a bad_request naming it", "[protocol][bad]") {
  expect_publish_failure("epoch", R"("7")", "field 'epoch' must be a non-negative integer");
  expect_publish_failure("epoch", "true", "field 'epoch' must be a non-negative integer");
  expect_publish_failure("epoch", "[7]", "field 'epoch' must be a non-negative integer");
  expect_publish_failure("alg", "1", "field 'alg' must be a string");
  expect_publish_failure("nonce", "{}", "field 'nonce' must be a string");
  expect_publish_failure("group", "16", "field 'group' must be 32 lowercase hex characters");
  expect_failure(R"({"type":"create_group","rid":1,"name":5,"policy":"open"})", errc::bad_request,
                 "field 'name' must be a string");
  expect_failure(R"({"type":"create_group","rid":1,"name":"n","policy":"open","members":{}})", errc::bad_request,
                 "field 'members' must be an array");
  expect_failure(R"({"type":"create_group","rid":1,"name":"n","policy":"open","members":[")" + hex_id('a') + R"(",7]})",
                 errc::bad_request, "field 'members[1]' must be 32 lowercase hex characters");
  expect_failure(R"({"type":"rekey","rid":1,"group":")" + hex_id('a') + R"(","epoch":1,"key_id":")" + hex_id('b') +
                     R"(","alg":"aes-256-gcm","changes":0,"sig":")" + b64_of(64) + R"(","wrapped":[]})",
                 errc::bad_request, "field 'wrapped' must be an object");
  expect_failure(R"({"type":"hello","sign_pk":[1,2],"kx_pk":"","kx_sig":"","sig":""})", errc::bad_request,
                 "field 'sign_pk' must be a string");
  expect_failure(R"({"type":"hello","sign_pk":")" + b64_of(32) + R"(","kx_pk":")" + b64_of(32) + R"(","kx_sig":")" +
                     b64_of(64) + R"(","sig":")" + b64_of(64) + R"(","name":{}})",
                 errc::bad_request, "field 'name' must be a string");
}

TEST_CASE("enumerated strings outside their set are a bad_request listing the choices", "[protocol][bad]") {
  expect_publish_failure("alg", R"("aes-128-gcm")",
                         "field 'alg' must be one of aes-256-gcm, chacha20-poly1305, xchacha20-poly1305");
  expect_publish_failure("alg", R"("AES-256-GCM")",
                         "field 'alg' must be one of aes-256-gcm, chacha20-poly1305, xchacha20-poly1305");
  expect_failure(R"({"type":"create_group","rid":1,"name":"n","policy":"closed"})", errc::bad_request,
                 "field 'policy' must be one of invite, open");
  expect_failure(R"({"type":"create_group","rid":1,"name":"n","policy":"open","custody":"user"})", errc::bad_request,
                 "field 'custody' must be one of broker, client");
}

TEST_CASE("bad base64 is a bad_request naming the field", "[protocol][bad]") {
  const std::string nonce = b64_of(12);
  for (const std::string& bad : {std::string("!!!!"), nonce.substr(0, 15), nonce + "=", "-_" + nonce.substr(2),
                                 " " + nonce.substr(1), nonce.substr(0, 8) + "\\n" + nonce.substr(8)})
    expect_publish_failure("nonce", "\"" + bad + "\"", "field 'nonce' is not valid base64");
  // Unpadded input and non-canonical trailing bits are refused too.
  expect_publish_failure("sig", "\"" + b64_of(64).substr(0, 86) + "\"", "field 'sig' is not valid base64");
  expect_publish_failure("ct", R"("AAAAAAAAAAAAAAAAAAAAAB==")", "field 'ct' is not valid base64");
}

TEST_CASE("ids must be exactly 32 lowercase hex characters", "[protocol][bad]") {
  const std::string ok = hex_id('a');
  for (const std::string& bad : {ok.substr(1), ok + "a", std::string(32, 'A'), std::string(32, 'g'), std::string(),
                                 "0x" + ok.substr(2), ok.substr(0, 31) + " "})
    expect_publish_failure("group", "\"" + bad + "\"", "field 'group' must be 32 lowercase hex characters");
  expect_failure(R"({"type":"ack_direct","id":"ABCDEF0123456789abcdef0123456789"})", errc::bad_request,
                 "field 'id' must be 32 lowercase hex characters");
}

TEST_CASE("keys, signatures, nonces and blobs must have their fixed lengths", "[protocol][bad]") {
  auto hello = [](std::size_t sign_pk, std::size_t kx_pk, std::size_t kx_sig, std::size_t sig) {
    return R"({"type":"hello","sign_pk":")" + b64_of(sign_pk) + R"(","kx_pk":")" + b64_of(kx_pk) + R"(","kx_sig":")" +
           b64_of(kx_sig) + R"(","sig":")" + b64_of(sig) + R"("})";
  };
  CHECK(parse_client_frame(hello(32, 32, 64, 64)));
  expect_failure(hello(31, 32, 64, 64), errc::bad_request, "field 'sign_pk' must be 32 bytes");
  expect_failure(hello(32, 33, 64, 64), errc::bad_request, "field 'kx_pk' must be 32 bytes");
  expect_failure(hello(32, 32, 0, 64), errc::bad_request, "field 'kx_sig' must be 64 bytes");
  expect_failure(hello(32, 32, 64, 65), errc::bad_request, "field 'sig' must be 64 bytes");

  expect_publish_failure("sig", "\"" + b64_of(63) + "\"", "field 'sig' must be 64 bytes");
  expect_publish_failure("ct", "\"" + b64_of(15) + "\"", "field 'ct' must be at least 16 bytes");
  expect_publish_failure("nonce", "\"" + b64_of(24) + "\"", "field 'nonce' must be 12 bytes for aes-256-gcm");
  expect_publish_failure("nonce", "\"\"", "field 'nonce' must be 12 bytes for aes-256-gcm");

  auto publish = [](const char* alg, std::size_t nonce) {
    return R"({"type":"publish","rid":1,"group":")" + hex_id('a') + R"(","epoch":1,"index":0,"alg":")" + alg +
           R"(","nonce":")" +
           b64_of(nonce) + R"(","ct":")" + b64_of(16) + R"(","sig":")" + b64_of(64) + R"("})";
  };
  CHECK(parse_client_frame(publish("chacha20-poly1305", 12)));
  CHECK(parse_client_frame(publish("xchacha20-poly1305", 24)));
  expect_failure(publish("chacha20-poly1305", 24), errc::bad_request,
                 "field 'nonce' must be 12 bytes for chacha20-poly1305");
  expect_failure(publish("xchacha20-poly1305", 12), errc::bad_request,
                 "field 'nonce' must be 24 bytes for xchacha20-poly1305");

  auto direct = [](std::size_t sealed) {
    return R"({"type":"direct","rid":1,"to":")" + hex_id('b') + R"(","sealed":")" + b64_of(sealed) + R"(","sig":")" +
           b64_of(64) + R"("})";
  };
  CHECK(parse_client_frame(direct(48)));
  expect_failure(direct(47), errc::bad_request, "field 'sealed' must be at least 48 bytes");

  auto rekey = [](const std::string& user, std::size_t wrapped) {
    return R"({"type":"rekey","rid":1,"group":")" + hex_id('a') + R"(","epoch":1,"key_id":")" + hex_id('b') +
           R"(","alg":"aes-256-gcm","changes":1,"sig":")" + b64_of(64) + R"(","wrapped":{")" + user + R"(":")" +
           b64_of(wrapped) + R"("}})";
  };
  CHECK(parse_client_frame(rekey(hex_id('c'), 80)));
  expect_failure(rekey(hex_id('c'), 79), errc::bad_request, "field 'wrapped." + hex_id('c') + "' must be 80 bytes");
  expect_failure(rekey("alice", 80), errc::bad_request,
                 "field 'wrapped' has a key that is not 32 lowercase hex characters: 'alice'");
}

TEST_CASE("integers must be exact non-negative integers", "[protocol][bad]") {
  for (const char* bad : {"-1", "1.5", "1.0", "1e2", "-0.0", "0.1e1"})
    expect_publish_failure("epoch", bad, "field 'epoch' must be a non-negative integer");
  auto zero = parse_client_frame(publish_with("epoch", "-0"));
  REQUIRE(zero);
  CHECK(std::get<client::publish>(*zero).epoch == 0);
  auto max = parse_client_frame(publish_with("epoch", "18446744073709551615"));
  REQUIRE(max);
  CHECK(std::get<client::publish>(*max).epoch == 18446744073709551615ull);
}

TEST_CASE("integers beyond 64 bits are refused as too large", "[protocol][bad]") {
  expect_publish_failure("epoch", "18446744073709551616", "field 'epoch' is too large (at most 18446744073709551615)");
  expect_publish_failure("epoch", "1e30", "field 'epoch' is too large (at most 18446744073709551615)");
  auto huge = parse_client_frame(publish_with("epoch", "1e999999999999"));
  REQUIRE_FALSE(huge);
  CHECK(huge.err().code == errc::bad_request);
}

TEST_CASE("a number beyond the range of a double is refused, not read as an infinity", "[protocol][bad]") {
  // Found by fuzz/fuzz_server_frame: Boost.JSON read -5E30030323 as -inf, which an ok's fields
  // and a batch item's rid then wrote back as -Infinity, which is not JSON.
  for (const char* n : {"-5E30030323", "1e400", "-1e999999999999", "123e4567"}) {
    INFO(n);
    auto f = parse_client_frame(std::string(R"({"type":"list_users","rid":)") + n + "}");
    REQUIRE_FALSE(f);
    CHECK(f.err().message == "malformed JSON: number out of range");
    CHECK_FALSE(f.rid());
    auto s = parse_server_frames(std::string(R"({"type":"ok","rid":1,"x":[)") + n + "]}");
    REQUIRE_FALSE(s);
    CHECK(s.err().message == "malformed JSON: number out of range");
    CHECK_FALSE(parse_server_frames(std::string(R"({"type":"batch","items":[{"type":"ok","rid":)") + n + "}]}"));
  }
  // Large but finite numbers are still read (and refused where an integer is due).
  auto big = parse_client_frame(R"({"type":"list_users","rid":-1.7e308})");
  REQUIRE(big);
  CHECK(std::get<client::list_users>(*big).rid.json() == "-1.7e308");
  expect_publish_failure("epoch", "1e308", "field 'epoch' is too large (at most 18446744073709551615)");
}

TEST_CASE("nesting deeper than 32 levels is refused", "[protocol][bad]") {
  // The frame object is level 1, so 31 nested arrays inside it reach exactly 32.
  CHECK(parse_client_frame(R"({"type":"list_users","rid":1,"x":)" + nested_arrays(31) + "}"));
  expect_failure(R"({"type":"list_users","rid":1,"x":)" + nested_arrays(32) + "}", errc::bad_request,
                 "malformed JSON: nesting deeper than 32 levels");
  expect_failure(nested_arrays(100000), errc::bad_request, "malformed JSON: nesting deeper than 32 levels");
}

TEST_CASE("duplicate keys are refused at any depth", "[protocol][bad]") {
  expect_failure(R"({"type":"list_users","rid":1,"type":"list_groups"})", errc::bad_request,
                 "malformed JSON: duplicate key in an object");
  expect_failure(R"({"type":"list_users","rid":1,"x":[{"a":1,"b":2,"a":3}]})", errc::bad_request,
                 "malformed JSON: duplicate key in an object");
  expect_failure(R"({"type":"list_users","rid":1,"r\u0069d":2})", errc::bad_request,
                 "malformed JSON: duplicate key in an object");
}

TEST_CASE("a ratchet index is an integer below 2^32", "[protocol][bad]") {
  auto last = parse_client_frame(publish_with("index", "4294967295"));
  REQUIRE(last);
  CHECK(std::get<client::publish>(*last).index == 4294967295u);
  expect_publish_failure("index", "4294967296", "field 'index' is too large (at most 4294967295)");
  expect_publish_failure("index", "18446744073709551615", "field 'index' is too large (at most 4294967295)");
  expect_publish_failure("index", "18446744073709551616", "field 'index' is too large (at most 4294967295)");
  expect_publish_failure("index", "1e30", "field 'index' is too large (at most 4294967295)");
  expect_publish_failure("index", "-1", "field 'index' must be a non-negative integer");
  expect_publish_failure("index", "1.0", "field 'index' must be a non-negative integer");
  expect_publish_failure("index", R"("3")", "field 'index' must be a non-negative integer");
  expect_publish_failure("index", "null", "field 'index' must not be null");
}

TEST_CASE("a proposal is exactly 64 bytes of base64, with an integer epoch", "[protocol][bad]") {
  const std::string head = R"({"type":"leave","rid":1,"group":")" + hex_id('a') + R"(","epoch":3)";
  CHECK(parse_client_frame(head + R"(,"proposal":")" + b64_of(64) + R"("})"));
  expect_failure(head + R"(,"proposal":")" + b64_of(63) + R"("})", errc::bad_request,
                 "field 'proposal' must be 64 bytes");
  expect_failure(head + R"(,"proposal":")" + b64_of(65) + R"("})", errc::bad_request,
                 "field 'proposal' must be 64 bytes");
  expect_failure(head + R"(,"proposal":"!!"})", errc::bad_request, "field 'proposal' is not valid base64");
  expect_failure(head + R"(,"proposal":64})", errc::bad_request, "field 'proposal' must be a string");
  expect_failure(R"({"type":"join","rid":1,"group":")" + hex_id('a') + R"(","epoch":"3"})", errc::bad_request,
                 "field 'epoch' must be a non-negative integer");
  for (const char* type : {"add_member", "remove_member", "set_role"}) {
    expect_failure(std::string(R"({"type":")") + type + R"(","rid":1,"group":")" + hex_id('a') + R"(","user":")" +
                       hex_id('b') + R"(","role":"admin","epoch":3,"proposal":")" + b64_of(32) + R"("})",
                   errc::bad_request, "field 'proposal' must be 64 bytes");
  }
}

TEST_CASE("set_role takes member or admin only", "[protocol][bad]") {
  auto set_role = [](const std::string& role) {
    return R"({"type":"set_role","rid":1,"group":")" + hex_id('a') + R"(","user":")" + hex_id('b') +
           R"(","role":)" + role + "}";
  };
  CHECK(parse_client_frame(set_role(R"("admin")")));
  CHECK(parse_client_frame(set_role(R"("member")")));
  expect_failure(set_role(R"("owner")"), errc::bad_request, "field 'role' must be one of admin, member");
  expect_failure(set_role(R"("boss")"), errc::bad_request, "field 'role' must be one of owner, admin, member");
  expect_failure(set_role("null"), errc::bad_request, "field 'role' must not be null");
}

TEST_CASE("manifests needs from_epoch of at least 1 and a limit from 1 to 256", "[protocol][bad]") {
  auto manifests = [](const std::string& from_epoch, const std::string& limit) {
    std::string text = R"({"type":"manifests","rid":1,"group":")" + hex_id('a') + '"';
    if (!from_epoch.empty()) text += R"(,"from_epoch":)" + from_epoch;
    if (!limit.empty()) text += R"(,"limit":)" + limit;
    return text + "}";
  };
  CHECK(parse_client_frame(manifests("1", "")));
  CHECK(parse_client_frame(manifests("1", "1")));
  CHECK(parse_client_frame(manifests("1", "256")));
  CHECK(parse_client_frame(manifests("1", "null")));
  expect_failure(manifests("0", ""), errc::bad_request, "field 'from_epoch' must be at least 1");
  expect_failure(manifests("", ""), errc::bad_request, "field 'from_epoch' is missing");
  expect_failure(manifests("1", "0"), errc::bad_request, "field 'limit' must be from 1 to 256");
  expect_failure(manifests("1", "257"), errc::bad_request, "field 'limit' must be from 1 to 256");
  expect_failure(manifests("1", "-1"), errc::bad_request, "field 'limit' must be a non-negative integer");
}

TEST_CASE("a bad frame does not poison the next parse", "[protocol][bad]") {
  CHECK_FALSE(parse_client_frame(publish_with("epoch", "-1")));
  CHECK(parse_client_frame(publish_with("epoch", "1")));
}
