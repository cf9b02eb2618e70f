#include <catch2/catch_test_macros.hpp>

#include "protocol/frames.hpp"
#include "tests/protocol/sample_frames.hpp"

using namespace sealcast;
using namespace sealcast::protocol;
using namespace sealcast::protocol::test;

namespace {

server::ok read_ok(const std::string& text) {
  auto f = parse_server_frame(text);
  REQUIRE(f);
  REQUIRE(std::holds_alternative<server::ok>(*f));
  return std::get<server::ok>(*f);
}

// make_ok -> parse_server_frame -> parse_ok_result gives back the same result and rid.
template <class T>
void check_round_trip(const T& result) {
  const auto rid = request_id::from_number(77);
  const std::string text = make_ok(rid, result);
  INFO(text);
  const server::ok ok = read_ok(text);
  CHECK(ok.rid == rid);
  auto back = parse_ok_result<T>(ok);
  REQUIRE(back);
  CHECK(*back == result);
  CHECK(to_json(ok) == text);
}

}  // namespace

TEST_CASE("every ok result round-trips through make_ok and parse_ok_result", "[protocol][results]") {
  check_round_trip(empty_result{});
  check_round_trip(create_group_result{id_of(0xa1), 0});
  check_round_trip(epoch_result{9});
  check_round_trip(group_info_result{"team",
                                     group_policy::open,
                                     key_custody::broker,
                                     3,
                                     id_of(0x0c),
                                     {{id_of(1), member_role::owner, true}, {id_of(2), member_role::member, false}},
                                     17});
  check_round_trip(group_info_result{"e2e", group_policy::invite, key_custody::client, 0, std::nullopt, {}, 1});
  check_round_trip(
      list_groups_result{{{id_of(0xa1), "a", 1, member_role::admin, 2}, {id_of(0xa2), "b", 4, member_role::owner, 9}}});
  check_round_trip(list_groups_result{});
  check_round_trip(presence_result{{id_of(1), id_of(3)}});
  check_round_trip(list_users_result{{{id_of(1), "alice", true}, {id_of(2), "", false}}});
  check_round_trip(user_keys_result{array_of<32>(1), array_of<32>(2), array_of<64>(3)});
  check_round_trip(keys_result{{sample_key(), sample_broker_key()}});
  check_round_trip(manifests_result{{sample_manifest_entry()}, 4});
  check_round_trip(manifests_result{{sample_manifest_entry(), sample_manifest_entry()}, std::nullopt});
  check_round_trip(manifests_result{});
  check_round_trip(publish_result{id_of(0x5e), 12, 1700000000123});
  check_round_trip(fetch_result{{sample_message(), sample_message()}});
  check_round_trip(direct_result{id_of(0x5e), 1700000000123});
}

TEST_CASE("ok replies carry PROTOCOL.md's result field names", "[protocol][results][shape]") {
  const auto rid = request_id::from_number(7);
  CHECK(make_ok(rid, create_group_result{id_of(0xa1), 1}) ==
        R"({"type":"ok","rid":7,"group":"a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1","epoch":1})");
  CHECK(make_ok(request_id::from_string("p"), publish_result{id_of(0x5e), 3, 99}) ==
        R"({"type":"ok","rid":"p","id":"5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e","seq":3,"ts":99})");
  CHECK(make_ok(rid, direct_result{id_of(0x5e), 99}) ==
        R"({"type":"ok","rid":7,"id":"5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e","ts":99})");
  CHECK(make_ok(rid, presence_result{{id_of(1)}}) ==
        R"({"type":"ok","rid":7,"online":["01010101010101010101010101010101"]})");
  CHECK(make_ok(rid, group_info_result{"g",
                                       group_policy::invite,
                                       key_custody::client,
                                       0,
                                       std::nullopt,
                                       {{id_of(1), member_role::owner, true}},
                                       1}) ==
        R"({"type":"ok","rid":7,"name":"g","policy":"invite","custody":"client","epoch":0,"key_id":null,)"
        R"("members":[{"user":"01010101010101010101010101010101","role":"owner","online":true}],"next_seq":1})");
  CHECK(
      make_ok(rid, list_groups_result{{{id_of(0xa1), "a", 1, member_role::admin, 2}}}) ==
      R"({"type":"ok","rid":7,"groups":[{"group":"a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1","name":"a","epoch":1,"role":"admin","member_count":2}]})");
  CHECK(make_ok(rid, list_users_result{{{id_of(1), "al", false}}}) ==
        R"({"type":"ok","rid":7,"users":[{"user":"01010101010101010101010101010101","name":"al","online":false}]})");
  CHECK(make_ok(rid, user_keys_result{array_of<32>(1), array_of<32>(2), array_of<64>(3)}) ==
        R"({"type":"ok","rid":7,"sign_pk":")" + to_base64(array_of<32>(1)) + R"(","kx_pk":")" +
            to_base64(array_of<32>(2)) + R"(","kx_sig":")" + to_base64(array_of<64>(3)) + R"("})");
}

TEST_CASE("keys and fetch replies can be built from already-serialized frames", "[protocol][results]") {
  const auto rid = request_id::from_number(7);
  const std::string k = to_json(sample_key());
  const std::string m1 = to_json(sample_message());
  const std::string m2 = to_json(sample_message());
  const std::string_view keys[] = {k};
  const std::string_view messages[] = {m1, m2};
  CHECK(make_keys_ok(rid, keys) == make_ok(rid, keys_result{{sample_key()}}));
  CHECK(make_fetch_ok(rid, messages) == make_ok(rid, fetch_result{{sample_message(), sample_message()}}));
  CHECK(make_fetch_ok(rid, {}) == R"({"type":"ok","rid":7,"messages":[]})");
}

TEST_CASE("a manifests reply writes entries as key frames without type, group and wrapped",
          "[protocol][results][shape]") {
  const auto rid = request_id::from_number(7);
  const manifest_entry e = sample_manifest_entry();
  const std::string entry = to_json(e);
  std::string key = to_json(sample_key());
  // The key frame minus "type", "group" and "wrapped" is the entry.
  const std::string head = R"({"type":"key","group":"a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1",)";
  REQUIRE(key.starts_with(head));
  key = "{" + key.substr(head.size());
  key = key.substr(0, key.find(R"(,"wrapped":")")) + "}";
  CHECK(entry == key);
  CHECK(entry.starts_with(R"({"epoch":3,"key_id":"0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c","alg":"aes-256-gcm",)"));

  CHECK(make_ok(rid, manifests_result{{}, std::nullopt}) == R"({"type":"ok","rid":7,"manifests":[],"next":null})");
  CHECK(make_ok(rid, manifests_result{{e}, 4}) == R"({"type":"ok","rid":7,"manifests":[)" + entry + R"(],"next":4})");
}

TEST_CASE("a manifests reply can be built from already-serialized entries", "[protocol][results]") {
  const auto rid = request_id::from_string("m");
  manifest_entry broker = sample_manifest_entry();
  broker.epoch = 4;
  broker.custody = key_custody::broker;
  broker.issuer_pk.reset();
  broker.changes = broker_changes();
  const std::string a = to_json(sample_manifest_entry());
  const std::string b = to_json(broker);
  const std::string_view entries[] = {a, b};
  CHECK(make_manifests_ok(rid, entries, 5) == make_ok(rid, manifests_result{{sample_manifest_entry(), broker}, 5}));
  CHECK(make_manifests_ok(rid, entries, std::nullopt) ==
        make_ok(rid, manifests_result{{sample_manifest_entry(), broker}, std::nullopt}));
  CHECK(make_manifests_ok(rid, {}, std::nullopt) == R"({"type":"ok","rid":"m","manifests":[],"next":null})");

  auto f = parse_server_frame(make_manifests_ok(rid, entries, 5));
  REQUIRE(f);
  auto back = parse_ok_result<manifests_result>(std::get<server::ok>(*f));
  REQUIRE(back);
  CHECK(back->manifests == std::vector<manifest_entry>{sample_manifest_entry(), broker});
  CHECK(back->next == std::optional<std::uint64_t>(5));
}

TEST_CASE("a manifests reply whose entries break the change rules is refused", "[protocol][results]") {
  const server::ok bad = read_ok(
      R"({"type":"ok","rid":1,"manifests":[{"epoch":1,"key_id":"0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c","alg":"aes-256-gcm",)"
      R"("custody":"broker","policy":"open","issuer":"b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0","sig":")" +
      b64_of(64) + R"(","changes":[{"action":"join","user":"01010101010101010101010101010101","role":"member"}]}],"next":null})");
  auto r = parse_ok_result<manifests_result>(bad);
  REQUIRE_FALSE(r);
  CHECK(r.err().code == errc::bad_request);
  CHECK(r.err().message == "field 'manifests[0].changes[0].kx_pk' is missing");
}

TEST_CASE("ok fields stay readable as JSON text", "[protocol][results]") {
  const server::ok ok = read_ok(R"({"type":"ok","rid":1,"epoch":4,"extra":{"a":[1,"x"]}})");
  CHECK(ok.fields.json() == R"({"epoch":4,"extra":{"a":[1,"x"]}})");
  CHECK_FALSE(ok.fields.empty());
  CHECK(read_ok(R"({"rid":1,"type":"ok"})").fields.json() == "{}");
  CHECK(read_ok(R"({"rid":1,"type":"ok"})").fields.empty());
}

TEST_CASE("a result with a missing or mistyped field is a bad_request naming it", "[protocol][results]") {
  const server::ok ok = read_ok(R"({"type":"ok","rid":1,"id":"5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e","ts":5})");
  auto publish = parse_ok_result<publish_result>(ok);
  REQUIRE_FALSE(publish);
  CHECK(publish.err().code == errc::bad_request);
  CHECK(publish.err().message == "field 'seq' is missing");
  CHECK(parse_ok_result<direct_result>(ok));

  const server::ok bad = read_ok(
      R"({"type":"ok","rid":1,"groups":[{"group":"a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1","name":"a","epoch":1,"role":"admin","member_count":"2"}]})");
  auto groups = parse_ok_result<list_groups_result>(bad);
  REQUIRE_FALSE(groups);
  CHECK(groups.err().message == "field 'groups[0].member_count' must be a non-negative integer");
}

TEST_CASE("an ok without a rid does not parse", "[protocol][results]") {
  auto f = parse_server_frame(R"({"type":"ok","epoch":1})");
  REQUIRE_FALSE(f);
  CHECK(f.err().message == "field 'rid' is missing");
}

TEST_CASE("request_id::number gives back the number of from_number and nothing for other ids", "[protocol][rid]") {
  using sealcast::protocol::request_id;
  CHECK(request_id::from_number(0).number() == std::optional<std::uint64_t>(0));
  CHECK(request_id::from_number(18446744073709551615ULL).number() == std::optional<std::uint64_t>(18446744073709551615ULL));
  CHECK_FALSE(request_id::from_string("7").number().has_value());
  CHECK_FALSE(request_id::from_json_unchecked("1.5").number().has_value());
  CHECK_FALSE(request_id::from_json_unchecked("-3").number().has_value());
}
