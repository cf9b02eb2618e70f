// Session set-up (PROTOCOL.md section 3): challenge, hello, welcome, and the ways to fail them.

#include "crypto/auth.hpp"
#include "crypto/hash.hpp"
#include "crypto/identity.hpp"
#include "tests/integration/fixtures.hpp"

using namespace sealcast;
using namespace sealcast::test;
using namespace std::chrono_literals;

namespace {

template <std::size_t N>
std::array<std::uint8_t, N> arr(byte_view v) {
  std::array<std::uint8_t, N> a{};
  std::copy(v.begin(), v.end(), a.begin());
  return a;
}

/// A correct hello for `c`'s identity and challenge, to be tampered with.
cli::hello good_hello(const test_client& c) {
  const auto& id = c.identity();
  cli::hello h;
  h.sign_pk = arr<32>(id.sign_pk());
  h.kx_pk = arr<32>(id.kx_pk());
  h.kx_sig = arr<64>(id.kx_sig());
  h.sig = arr<64>(crypto::sign_auth(id.signer(), c.challenge().nonce, c.challenge().broker));
  return h;
}

/// Expects an auth_failed error and then close 4001.
void expect_auth_failed(test_client& c) {
  auto e = c.next_push<srv::error>(3s);
  REQUIRE(e);
  CHECK(e->code == errc::auth_failed);
  CHECK(c.socket()->wait_close(3s) == 4001);
}

}  // namespace

TEST_CASE("challenge carries protocol 2, the ready line's broker id and its public key", "[integration][session]") {
  broker_fixture f;
  test_client c;
  c.connect(f.port());
  const auto& ch = c.challenge();
  CHECK(ch.protocol == 2);
  CHECK(ch.broker.hex() == f.broker->broker_id());
  CHECK(crypto::user_id_of(ch.broker_pk) == ch.broker);
  test_client d;
  d.connect(f.port());
  CHECK(d.challenge().nonce != ch.nonce);  // fresh per connection
}

TEST_CASE("hello is answered by a welcome with the self-certifying user id", "[integration][session]") {
  broker_fixture f;
  test_client c;
  c.connect(f.port());
  auto w = c.hello("alice");
  const auto digest = crypto::sha256(c.identity().sign_pk());
  CHECK(w.user.hex() == to_hex(byte_view(digest.data(), 16)));
  CHECK(w.groups.empty());
  // The connection is usable: a request gets its reply.
  auto r = c.request(cli::list_users{});
  REQUIRE(r.is_ok());
  auto users = r.as<proto::list_users_result>().users;
  REQUIRE(users.size() == 1);
  CHECK(users[0].user == c.user_id());
  CHECK(users[0].name == "alice");
  CHECK(users[0].online);
}

TEST_CASE("a hello with a wrong signature is auth_failed and closed with 4001", "[integration][session]") {
  broker_fixture f;
  test_client c;
  c.connect(f.port());
  auto h = good_hello(c);
  h.sig[0] ^= 1;
  REQUIRE(c.send_raw(proto::to_json(h)));
  expect_auth_failed(c);
}

TEST_CASE("a hello signed for another nonce is auth_failed", "[integration][session]") {
  broker_fixture f;
  test_client c, other;
  c.connect(f.port());
  other.connect(f.port());
  auto h = good_hello(other);  // other's nonce, other's keys: a replay on c's connection
  REQUIRE(c.send_raw(proto::to_json(h)));
  expect_auth_failed(c);
}

TEST_CASE("a frame other than hello before the welcome is auth_failed", "[integration][session]") {
  broker_fixture f;
  SECTION("a request") {
    test_client c;
    c.connect(f.port());
    REQUIRE(c.send_raw(R"({"type":"list_users","rid":1})"));
    expect_auth_failed(c);
  }
  SECTION("malformed JSON") {
    test_client c;
    c.connect(f.port());
    REQUIRE(c.send_raw("{not json"));
    expect_auth_failed(c);
  }
}

TEST_CASE("no hello within gateway.auth_timeout_ms closes with 4001", "[integration][session]") {
  broker_fixture f(sets({"gateway.auth_timeout_ms=300"}));
  test_client c;
  c.connect(f.port());
  const auto start = std::chrono::steady_clock::now();
  expect_auth_failed(c);
  CHECK(std::chrono::steady_clock::now() - start < 3s);
}

TEST_CASE("a low-order kx_pk with a valid kx_sig is refused at hello", "[integration][session]") {
  broker_fixture f;
  test_client c;
  c.connect(f.port());
  auto h = good_hello(c);
  const bytes zeros(32, 0);
  h.kx_pk = arr<32>(zeros);
  h.kx_sig = arr<64>(c.identity().sign(crypto::kx_sig_input(zeros)));
  REQUIRE(c.send_raw(proto::to_json(h)));
  expect_auth_failed(c);
}

TEST_CASE("a kx_sig that does not bind kx_pk is refused at hello", "[integration][session]") {
  broker_fixture f;
  test_client c;
  c.connect(f.port());
  auto h = good_hello(c);
  h.kx_sig[5] ^= 0x40;
  REQUIRE(c.send_raw(proto::to_json(h)));
  expect_auth_failed(c);
}

TEST_CASE("the sealcast.v2 subprotocol is accepted when offered", "[integration][session]") {
  broker_fixture f;
  test_client c;
  c.connect(f.port(), {"sealcast.v2"});
  CHECK(c.socket()->subprotocol() == "sealcast.v2");
  auto w = c.hello();
  CHECK(w.user == c.user_id());
}

TEST_CASE("the sealcast.v1 subprotocol alone is not chosen", "[integration][session]") {
  // Section 1: a client that asks only for others is accepted without a subprotocol; a v1 client
  // then fails at the challenge (protocol 2, v2 labels), not at the upgrade.
  broker_fixture f;
  test_client c;
  c.connect(f.port(), {"sealcast.v1"});
  CHECK(c.socket()->subprotocol().empty());
  CHECK(c.challenge().protocol == 2);
}

TEST_CASE("the identity point as sign_pk, with the identity signature, is auth_failed", "[integration][session]") {
  // Section 2.1: strict verification. With A = 01 00..00 (the neutral element) and
  // sig = 01 00..00 || 00..00 (R = identity, S = 0), the cofactorless equation [0]B = R + [h]A holds
  // for every message; a lax verifier would let anybody in under this "user".
  broker_fixture f;
  test_client c;
  c.connect(f.port());
  auto h = good_hello(c);
  h.sign_pk = {};
  h.sign_pk[0] = 1;
  h.sig = {};
  h.sig[0] = 1;
  h.kx_sig = h.sig;
  REQUIRE(c.send_raw(proto::to_json(h)));
  expect_auth_failed(c);
  // Nobody was registered under the identity point's user id.
  auto d = online(f.port());
  CHECK(d->request(cli::user_keys{{}, crypto::user_id_of(h.sign_pk)}).code() == errc::unknown_user);
}

TEST_CASE("a known user coming back with another kx_pk is auth_failed", "[integration][session]") {
  // Section 3: v2 has no key-update proposal; a changed kx_pk would lose every group key.
  broker_fixture f;
  test_client first;
  first.login(f.port(), "a");
  settle(first);
  first.disconnect();
  const auto other_kx = crypto::identity::generate();
  test_client again(crypto::identity::from_secrets(first.identity().sign_sk(), other_kx.kx_sk()));
  REQUIRE(again.user_id() == first.user_id());
  REQUIRE(again.identity().kx_pk() != first.identity().kx_pk());
  again.connect(f.port());
  REQUIRE(again.send_raw(proto::to_json(good_hello(again))));  // a valid hello, kx_sig included
  expect_auth_failed(again);
  // The registered keys did not change, and the original keys still log in.
  auto d = online(f.port());
  auto k = d->request(cli::user_keys{{}, first.user_id()}).as<proto::user_keys_result>();
  CHECK(bytes(k.kx_pk.begin(), k.kx_pk.end()) == first.identity().kx_pk());
  first.login(f.port(), "a");
  CHECK(first.request(cli::list_groups{}).is_ok());
}

TEST_CASE("one user may hold several connections and both get deliveries", "[integration][session]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  test_client b1;
  b1.login(f.port(), "b");
  settle(b1);
  test_client b2(b1.identity());
  auto w = b2.login(f.port(), "b");
  CHECK(w.user == b1.user_id());
  const auto g = make_group(*a, {&b1});
  REQUIRE(b2.wait_key(g, 1));
  REQUIRE(a->publish(g, "to both").is_ok());
  CHECK(plain(b1, messages(b1, g, 1)[0]) == "to both");
  CHECK(plain(b2, messages(b2, g, 1)[0]) == "to both");
}

TEST_CASE("a user is known to the broker as soon as it has its welcome", "[integration][session]") {
  // PROTOCOL.md section 5: members must be users the broker knows, i.e. who connected once.
  // A client that got its welcome has connected; naming it at once must work.
  broker_fixture f;
  for (int i = 0; i < 10; ++i) {
    test_client a, b;
    a.login(f.port(), "a");
    b.login(f.port(), "b");
    cli::create_group cg;
    cg.name = "right away";
    cg.members = {b.user_id()};
    auto r = a.request(cg);
    INFO("round " << i << ": " << r.describe());
    REQUIRE(r.is_ok());
  }
  test_client c;
  c.login(f.port());
  auto k = c.request(cli::user_keys{{}, c.user_id()});
  INFO(k.describe());
  CHECK(k.is_ok());
}
