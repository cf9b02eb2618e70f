// Bad input on an authenticated connection (PROTOCOL.md section 4): each gets the right error
// code and the connection keeps working; only an oversized frame or sustained abuse closes it.

#include "tests/integration/fixtures.hpp"

using namespace sealcast;
using namespace sealcast::test;
using namespace std::chrono_literals;

namespace {

/// The next error that carries no rid.
std::optional<srv::error> ridless_error(test_client& c) {
  auto f = c.wait_for(
      [](const proto::server_frame& x) {
        auto* e = std::get_if<srv::error>(&x);
        return e && !e->rid;
      },
      3s);
  if (!f) return std::nullopt;
  return std::get<srv::error>(*f);
}

}  // namespace

TEST_CASE("bad input gets the right error and the connection keeps working", "[integration][bad_input]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  auto outsider = online(f.port(), "outsider");
  const auto g = make_group(*a, {b.get()});
  const std::string gid = g.hex();
  const std::string nonce12 = to_base64(bytes(12, 1)), ct = to_base64(bytes(32, 2)), sig = to_base64(bytes(64, 3));
  auto publish_json = [&](const std::string& nonce, const std::string& epoch) {
    return R"({"type":"publish","group":")" + gid + R"(","epoch":)" + epoch +
           R"(,"index":0,"alg":"aes-256-gcm","nonce":")" + nonce + R"(","ct":")" + ct + R"(","sig":")" + sig + R"("})";
  };
  auto with_index = [&](const std::string& index) {
    auto j = publish_json(nonce12, "1");
    j.replace(j.find(R"("index":0)"), 9, R"("index":)" + index);
    return j;
  };

  SECTION("malformed JSON") {
    REQUIRE(a->send_raw(R"({"type":"list_groups","rid":1)"));
    auto e = ridless_error(*a);
    REQUIRE(e);
    CHECK(e->code == errc::bad_request);
  }
  SECTION("not an object") {
    REQUIRE(a->send_raw("[1,2,3]"));
    auto e = ridless_error(*a);
    REQUIRE(e);
    CHECK(e->code == errc::bad_request);
  }
  SECTION("a request without rid") {
    REQUIRE(a->send_raw(R"({"type":"list_groups"})"));
    auto e = ridless_error(*a);
    REQUIRE(e);
    CHECK(e->code == errc::bad_request);
  }
  SECTION("wrong field types") {
    CHECK(a->request_json(R"({"type":"group_info","group":5})").code() == errc::bad_request);
    CHECK(a->request_json(publish_json(nonce12, "\"1\"")).code() == errc::bad_request);
    CHECK(a->request_json(publish_json(nonce12, "-1")).code() == errc::bad_request);
    CHECK(a->request_json(R"({"type":"create_group","name":["x"]})").code() == errc::bad_request);
    CHECK(a->request_json(with_index("\"0\"")).code() == errc::bad_request);
    CHECK(a->request_json(with_index("-1")).code() == errc::bad_request);
    CHECK(a->request_json(with_index("4294967296")).code() == errc::bad_request);  // index is a u32
  }
  SECTION("missing fields") {
    CHECK(a->request_json(R"({"type":"group_info"})").code() == errc::bad_request);
    CHECK(a->request_json(R"({"type":"create_group"})").code() == errc::bad_request);
    auto no_index = publish_json(nonce12, "1");
    no_index.erase(no_index.find(R"("index":0,)"), 10);
    CHECK(a->request_json(no_index).code() == errc::bad_request);
  }
  SECTION("bad base64") {
    CHECK(a->request_json(publish_json("!!!notbase64!!!", "1")).code() == errc::bad_request);
    CHECK(a->request_json(publish_json("AAAA AAAAAAAAAAA", "1")).code() == errc::bad_request);
    CHECK(a->request_json(publish_json("AAAAAAAAAAAAAAA", "1")).code() == errc::bad_request);  // no padding
  }
  SECTION("wrong lengths") {
    CHECK(a->request_json(publish_json(to_base64(bytes(5, 1)), "1")).code() == errc::bad_request);
    CHECK(a->request_json(R"({"type":"user_keys","user":")" + gid.substr(1) + R"("})").code() == errc::bad_request);
    auto short_sig = publish_json(nonce12, "1");
    short_sig.replace(short_sig.find(sig), sig.size(), to_base64(bytes(63, 3)));
    CHECK(a->request_json(short_sig).code() == errc::bad_request);
  }
  SECTION("unknown type") {
    auto r = a->request_json(R"({"type":"frobnicate"})");
    CHECK(r.code() == errc::unknown_type);
  }
  SECTION("an unknown group is not_found") {
    CHECK(a->request(cli::group_info{{}, test_client().user_id()}).code() == errc::not_found);
    CHECK(a->request(cli::fetch{{}, test_client().user_id(), 1, {}}).code() == errc::not_found);
    a->ack(test_client().user_id(), 3);  // no reply at all
  }
  SECTION("publishing to a group one is not in is not_member") {
    cli::publish p;
    p.group = g;
    p.epoch = 1;
    p.nonce = bytes(12, 1);
    p.ct = bytes(32, 2);
    CHECK(outsider->request(p).code() == errc::not_member);
  }
  SECTION("add_member by a non-admin is forbidden") {
    CHECK(b->request(cli::add_member{{}, g, outsider->user_id(), proto::member_role::member}).code() ==
          errc::forbidden);
    CHECK(b->request(cli::remove_member{{}, g, a->user_id()}).code() == errc::forbidden);
  }
  SECTION("a stale epoch") {
    CHECK(a->request_json(publish_json(nonce12, "7")).code() == errc::stale_epoch);
    CHECK(a->request_json(publish_json(nonce12, "0")).code() == errc::stale_epoch);
  }
  SECTION("a rekey in a broker-custody group is bad_rekey") {
    cli::rekey rk;
    rk.group = g;
    rk.epoch = 2;
    rk.key_id = test_client().user_id();  // any 16 bytes
    rk.changes = 0;
    for (auto* x : {a.get(), b.get()}) rk.wrapped[x->user_id()] = proto::wrapped_key{};
    CHECK(a->request(rk).code() == errc::bad_rekey);
  }
  SECTION("a second hello") {
    REQUIRE(a->send_raw(R"({"type":"hello","sign_pk":")" + to_base64(a->identity().sign_pk()) + R"(","kx_pk":")" +
                        to_base64(a->identity().kx_pk()) + R"(","kx_sig":")" + to_base64(a->identity().kx_sig()) +
                        R"(","sig":")" + sig + R"("})"));
    auto e = ridless_error(*a);
    REQUIRE(e);
    CHECK(e->code == errc::bad_request);
  }
  SECTION("a string rid is echoed") {
    REQUIRE(a->send_raw(R"({"type":"frobnicate","rid":"abc"})"));
    auto e = a->next_push<srv::error>(3s);
    REQUIRE(e);
    REQUIRE(e->rid);
    CHECK(e->rid->json() == "\"abc\"");
    CHECK(e->code == errc::unknown_type);
  }
  // After any of the above: still authenticated, still answered.
  auto r = a->request(cli::list_groups{});
  INFO(r.describe());
  REQUIRE(r.is_ok());
  CHECK(r.as<proto::list_groups_result>().groups.size() == 1);
  CHECK_FALSE(a->socket()->closed());
  REQUIRE(a->publish(g, "still fine").is_ok());
  CHECK(plain(*b, messages(*b, g, 1)[0]) == "still fine");
}

TEST_CASE("a frame larger than gateway.max_frame_bytes closes the connection with 1009", "[integration][bad_input]") {
  broker_fixture f(sets({"gateway.max_frame_bytes=4096"}));
  auto a = online(f.port());
  auto b = online(f.port());
  const auto g = make_group(*a, {b.get()});
  REQUIRE(a->publish(g, std::string(1000, 'x')).is_ok());  // under the limit: fine
  a->send_raw(R"({"type":"list_groups","rid":1,"pad":")" + std::string(8000, 'x') + R"("})");
  CHECK(a->socket()->wait_close(3s) == 1009);
  // Other connections are unaffected.
  CHECK(b->request(cli::list_groups{}).is_ok());
}

TEST_CASE("sustained malformed frames close the connection with 1008", "[integration][bad_input]") {
  broker_fixture f;
  auto a = online(f.port());
  for (int i = 0; i < 60; ++i) a->send_raw("garbage");
  CHECK(a->socket()->wait_close(3s) == 1008);
}
