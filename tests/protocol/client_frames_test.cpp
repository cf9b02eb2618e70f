#include <catch2/catch_test_macros.hpp>
#include <vector>

#include "protocol/frames.hpp"
#include "tests/protocol/sample_frames.hpp"

using namespace sealcast;
using namespace sealcast::protocol;
using namespace sealcast::protocol::test;

namespace {

std::vector<client_frame> every_client_frame() {
  const auto rid = request_id::from_number(1);
  client::hello hello{array_of<32>(1), array_of<32>(2), array_of<64>(3), array_of<64>(4), "Alice \"A\" \xc3\xa9"};
  client::hello anonymous{array_of<32>(1), array_of<32>(2), array_of<64>(3), array_of<64>(4), std::nullopt};
  client::create_group create{
      request_id::from_string("c"), "team", group_policy::open, id_of(0xa1), 50, {id_of(1), id_of(2)},
      key_custody::client};
  client::create_group minimal{rid, "", group_policy::invite, std::nullopt, std::nullopt, {}, key_custody::broker};
  client::fetch fetch_all{rid, id_of(0xa1), 1, std::nullopt};
  return {
      hello,
      anonymous,
      create,
      minimal,
      client::join{rid, id_of(0xa1)},
      client::join{rid, id_of(0xa1), 3, array_of<64>(11)},
      client::leave{rid, id_of(0xa1)},
      client::leave{rid, id_of(0xa1), 3, array_of<64>(12)},
      client::add_member{rid, id_of(0xa1), id_of(2), member_role::admin},
      client::add_member{rid, id_of(0xa1), id_of(2), member_role::member, 18446744073709551615ull, array_of<64>(13)},
      client::remove_member{rid, id_of(0xa1), id_of(2)},
      client::remove_member{rid, id_of(0xa1), id_of(2), 1, array_of<64>(14)},
      client::set_role{rid, id_of(0xa1), id_of(2), member_role::admin},
      client::set_role{rid, id_of(0xa1), id_of(2), member_role::member, 2, array_of<64>(15)},
      client::group_info{rid, id_of(0xa1)},
      client::list_groups{rid},
      client::presence{rid, id_of(0xa1)},
      client::list_users{rid},
      client::user_keys{rid, id_of(2)},
      client::keys{rid, id_of(0xa1), 4},
      client::manifests{rid, id_of(0xa1), 1, std::nullopt},
      client::manifests{rid, id_of(0xa1), 18446744073709551615ull, 256},
      sample_publish(),
      client::ack{id_of(0xa1), 18446744073709551615ull},
      client::fetch{rid, id_of(0xa1), 10, 100},
      fetch_all,
      client::direct{rid, id_of(2), bytes_of(64, 0), array_of<64>(8)},
      client::ack_direct{id_of(0x5e)},
      sample_rekey(),
  };
}

}  // namespace

TEST_CASE("every client frame round-trips through JSON unchanged", "[protocol][client]") {
  for (const client_frame& frame : every_client_frame()) {
    const std::string text = to_json(frame);
    INFO(text);
    auto parsed = parse_client_frame(text);
    REQUIRE(parsed);
    CHECK(*parsed == frame);
    CHECK(to_json(*parsed) == text);
    CHECK(type_of(*parsed) == type_of(frame));
    CHECK(text.find("\"type\":\"" + std::string(type_of(frame)) + "\"") == 1);
  }
}

TEST_CASE("every client frame type has a round-trip sample", "[protocol][client]") {
  std::vector<bool> seen(std::variant_size_v<client_frame>);
  for (const client_frame& frame : every_client_frame()) seen[frame.index()] = true;
  for (std::size_t i = 0; i < seen.size(); ++i) {
    INFO(i);
    CHECK(seen[i]);
  }
}

TEST_CASE("publish serializes with PROTOCOL.md's field names and encodings", "[protocol][client][shape]") {
  CHECK(to_json(sample_publish()) ==
        R"({"type":"publish","rid":42,"group":"a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1","epoch":7,"index":4000000000,)"
        R"("alg":"chacha20-poly1305","nonce":")" +
            to_base64(bytes_of(12, 1)) + R"(","ct":")" + to_base64(bytes_of(100, 9)) + R"(","sig":")" +
            to_base64(array_of<64>(3)) + R"("})");
}

TEST_CASE("hello, ack and ack_direct carry no rid", "[protocol][client][shape]") {
  client::hello hello{array_of<32>(1), array_of<32>(2), array_of<64>(3), array_of<64>(4), "al"};
  CHECK(to_json(hello) == R"({"type":"hello","sign_pk":")" + to_base64(array_of<32>(1)) + R"(","kx_pk":")" +
                              to_base64(array_of<32>(2)) + R"(","kx_sig":")" + to_base64(array_of<64>(3)) +
                              R"(","sig":")" + to_base64(array_of<64>(4)) + R"(","name":"al"})");
  CHECK(to_json(client::ack{id_of(0xa1), 5}) == R"({"type":"ack","group":"a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1","seq":5})");
  CHECK(to_json(client::ack_direct{id_of(0x5e)}) == R"({"type":"ack_direct","id":"5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e"})");
}

TEST_CASE("rekey writes the change count, sig, and wrapped keyed by user id in id order",
          "[protocol][client][shape]") {
  CHECK(to_json(sample_rekey()) ==
        R"({"type":"rekey","rid":"rk-1","group":"a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1","epoch":2,)"
        R"("key_id":"0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c","alg":"xchacha20-poly1305","changes":2,"sig":")" +
            to_base64(array_of<64>(5)) + R"(","wrapped":{"01010101010101010101010101010101":")" +
            to_base64(array_of<80>(1)) + R"(","02020202020202020202020202020202":")" + to_base64(array_of<80>(2)) +
            R"("}})");
}

TEST_CASE("membership requests write epoch and proposal only when present", "[protocol][client][shape]") {
  const auto rid = request_id::from_number(3);
  const std::string g = R"("group":"a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1")";
  const std::string u = R"("user":"02020202020202020202020202020202")";
  CHECK(to_json(client::join{rid, id_of(0xa1)}) == R"({"type":"join","rid":3,)" + g + "}");
  CHECK(to_json(client::leave{rid, id_of(0xa1), 5, array_of<64>(1)}) ==
        R"({"type":"leave","rid":3,)" + g + R"(,"epoch":5,"proposal":")" + to_base64(array_of<64>(1)) + R"("})");
  CHECK(to_json(client::remove_member{rid, id_of(0xa1), id_of(2), 5, array_of<64>(1)}) ==
        R"({"type":"remove_member","rid":3,)" + g + "," + u + R"(,"epoch":5,"proposal":")" +
            to_base64(array_of<64>(1)) + R"("})");
  CHECK(to_json(client::add_member{rid, id_of(0xa1), id_of(2), member_role::admin, 5, array_of<64>(1)}) ==
        R"({"type":"add_member","rid":3,)" + g + "," + u + R"(,"role":"admin","epoch":5,"proposal":")" +
            to_base64(array_of<64>(1)) + R"("})");
  CHECK(to_json(client::set_role{rid, id_of(0xa1), id_of(2), member_role::member}) ==
        R"({"type":"set_role","rid":3,)" + g + "," + u + R"(,"role":"member"})");
  CHECK(to_json(client::manifests{rid, id_of(0xa1), 1, 64}) ==
        R"({"type":"manifests","rid":3,)" + g + R"(,"from_epoch":1,"limit":64})");
  CHECK(to_json(client::manifests{rid, id_of(0xa1), 7, std::nullopt}) ==
        R"({"type":"manifests","rid":3,)" + g + R"(,"from_epoch":7})");
}

TEST_CASE("a client-custody add_member parses its epoch and proposal", "[protocol][client]") {
  auto f = parse_client_frame(R"({"type":"add_member","rid":1,"group":")" + hex_id('a') + R"(","user":")" +
                              hex_id('b') + R"(","epoch":4,"proposal":")" + b64_of(64) + R"("})");
  REQUIRE(f);
  const auto& add = std::get<client::add_member>(*f);
  CHECK(add.role == member_role::member);
  CHECK(add.epoch == std::optional<std::uint64_t>(4));
  REQUIRE(add.proposal);
  CHECK(*add.proposal == array_of<64>(0));
}

TEST_CASE("a numeric rid is echoed as the same number", "[protocol][client][rid]") {
  auto f = parse_client_frame(R"({"type":"list_groups","rid":7})");
  REQUIRE(f);
  auto rid = *rid_of(*f);
  CHECK(rid.json() == "7");
  CHECK_FALSE(rid.is_string());
  CHECK(rid == request_id::from_number(7));
  CHECK(make_ok(rid) == R"({"type":"ok","rid":7})");
}

TEST_CASE("a string rid is echoed as the same string", "[protocol][client][rid]") {
  auto f = parse_client_frame(R"({"type":"list_groups","rid":"7"})");
  REQUIRE(f);
  auto rid = *rid_of(*f);
  CHECK(rid.json() == R"("7")");
  CHECK(rid.is_string());
  CHECK(rid == request_id::from_string("7"));
  CHECK(rid != request_id::from_number(7));
  CHECK(make_ok(rid) == R"({"type":"ok","rid":"7"})");
}

TEST_CASE("numeric rids keep their exact source text", "[protocol][client][rid]") {
  for (const char* text : {"0", "-3", "1.50", "1e3", "18446744073709551615", "123456789012345678901234567890"}) {
    INFO(text);
    auto f = parse_client_frame(std::string(R"({"rid":)") + text + R"(,"type":"list_users"})");
    REQUIRE(f);
    CHECK(rid_of(*f)->json() == text);
  }
}

TEST_CASE("only the top-level rid is taken, wherever it appears", "[protocol][client][rid]") {
  auto f = parse_client_frame(R"({"x":{"rid":5},"type":"list_users","y":[{"rid":6}],"rid":1.50})");
  REQUIRE(f);
  CHECK(rid_of(*f)->json() == "1.50");
}

TEST_CASE("string rids with escapes are echoed as an equal JSON string", "[protocol][client][rid]") {
  auto f = parse_client_frame(R"({"type":"list_users","rid":"a\"b\\c\u00e9\n"})");
  REQUIRE(f);
  CHECK(rid_of(*f)->json() == "\"a\\\"b\\\\c\xc3\xa9\\n\"");
}

TEST_CASE("a request without a rid is a bad_request without a rid", "[protocol][client][rid]") {
  auto f = parse_client_frame(R"({"type":"join","group":"a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"})");
  REQUIRE_FALSE(f);
  CHECK(f.err().code == errc::bad_request);
  CHECK(f.err().message == "field 'rid' is missing");
  CHECK_FALSE(f.rid());
  CHECK(to_json(f.failure()) == R"({"type":"error","code":"bad_request","message":"field 'rid' is missing"})");
}

TEST_CASE("a rid that is neither a string nor a number is a bad_request without a rid", "[protocol][client][rid]") {
  for (const char* rid : {"null", "true", "{}", "[1]"}) {
    INFO(rid);
    auto f = parse_client_frame(std::string(R"({"type":"list_users","rid":)") + rid + "}");
    REQUIRE_FALSE(f);
    CHECK(f.err().code == errc::bad_request);
    CHECK(f.err().message == "field 'rid' must be a string or a number");
    CHECK_FALSE(f.rid());
  }
}

TEST_CASE("a field error after a readable rid is answered with that rid", "[protocol][client][rid]") {
  auto f = parse_client_frame(R"({"type":"publish","rid":9,"group":"zz"})");
  REQUIRE_FALSE(f);
  REQUIRE(f.rid());
  CHECK(f.rid()->json() == "9");
  CHECK(
      to_json(f.failure()) ==
      R"({"type":"error","rid":9,"code":"bad_request","message":"field 'group' must be 32 lowercase hex characters"})");
}

TEST_CASE("hello, ack and ack_direct parse without a rid", "[protocol][client][rid]") {
  const std::string hello = R"({"type":"hello","sign_pk":")" + b64_of(32) + R"(","kx_pk":")" + b64_of(32) +
                            R"(","kx_sig":")" + b64_of(64) + R"(","sig":")" + b64_of(64) + R"("})";
  auto h = parse_client_frame(hello);
  REQUIRE(h);
  CHECK_FALSE(std::get<client::hello>(*h).name);
  CHECK_FALSE(rid_of(*h));
  CHECK(parse_client_frame(R"({"type":"ack","group":"a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1","seq":3})"));
  CHECK(parse_client_frame(R"({"type":"ack_direct","id":"a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"})"));
}

TEST_CASE("optional fields take their defaults when absent or null", "[protocol][client]") {
  auto f = parse_client_frame(
      R"({"type":"create_group","rid":1,"name":"n","policy":"invite","group":null,"max_members":null,"custody":null})");
  REQUIRE(f);
  const auto& cg = std::get<client::create_group>(*f);
  CHECK_FALSE(cg.group);
  CHECK_FALSE(cg.max_members);
  CHECK(cg.members.empty());
  CHECK(cg.custody == key_custody::broker);

  auto add = parse_client_frame(
      R"({"type":"add_member","rid":1,"group":"a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1","user":"0202020202020202020202020202020a"})");
  REQUIRE(add);
  CHECK(std::get<client::add_member>(*add).role == member_role::member);
  CHECK_FALSE(std::get<client::add_member>(*add).epoch);
  CHECK_FALSE(std::get<client::add_member>(*add).proposal);

  auto join = parse_client_frame(
      R"({"type":"join","rid":1,"group":"a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1","epoch":null,"proposal":null})");
  REQUIRE(join);
  CHECK(std::get<client::join>(*join) == client::join{request_id::from_number(1), id_of(0xa1)});

  auto manifests =
      parse_client_frame(R"({"type":"manifests","rid":1,"group":"a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1","from_epoch":1})");
  REQUIRE(manifests);
  CHECK_FALSE(std::get<client::manifests>(*manifests).limit);
}

TEST_CASE("unknown fields are ignored", "[protocol][client]") {
  auto f = parse_client_frame(
      R"({"type":"ack","x":{"deep":[1,{"y":null}]},"group":"a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1","seq":3,"z":"w"})");
  REQUIRE(f);
  CHECK(std::get<client::ack>(*f) == client::ack{id_of(0xa1), 3});
}

TEST_CASE("add_member and set_role refuse the owner role", "[protocol][client]") {
  for (const char* type : {"add_member", "set_role"}) {
    INFO(type);
    auto f = parse_client_frame(
        std::string(R"({"type":")") + type +
        R"(","rid":1,"group":"a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1","user":"02020202020202020202020202020202","role":"owner"})");
    REQUIRE_FALSE(f);
    CHECK(f.err().code == errc::bad_request);
    CHECK(f.err().message == "field 'role' must be one of admin, member");
    CHECK(f.rid() == request_id::from_number(1));
  }
}

TEST_CASE("set_role requires a role", "[protocol][client]") {
  auto f = parse_client_frame(
      R"({"type":"set_role","rid":1,"group":"a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1","user":"02020202020202020202020202020202"})");
  REQUIRE_FALSE(f);
  CHECK(f.err().message == "field 'role' is missing");
}
