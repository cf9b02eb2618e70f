// The key-frame checks (client/verify) fed with crafted frames: forged manifests, a broken hash
// chain and wrong issuers are refused; honest frames pass. Also the URL parser.

#include <catch2/catch_test_macros.hpp>

#include "client/url.hpp"
#include "client/verify.hpp"
#include "crypto/group_key.hpp"
#include "crypto/random.hpp"

namespace sealcast::test {
namespace {

namespace cd = sealcast::client::detail;
using sealcast::client::warning_kind;

template <std::size_t N>
std::array<std::uint8_t, N> arr(byte_view v) {
  std::array<std::uint8_t, N> a{};
  std::copy(v.begin(), v.end(), a.begin());
  return a;
}

struct member_spec {
  const crypto::identity* who;
  member_role role;
};

/// A key frame for `me`, signed by `issuer`, as an honest broker or admin would send it.
protocol::server::key make_frame(const id16& group, std::uint64_t epoch, const crypto::group_key& k,
                                 const crypto::identity& me, key_custody custody, const crypto::identity& issuer,
                                 const std::vector<member_spec>& members, crypto::digest32 prev = {}) {
  protocol::server::key f;
  f.group = group;
  f.epoch = epoch;
  f.key_id = crypto::key_id(group, epoch, k);
  f.alg = aead_alg::aes_256_gcm;
  f.wrapped = arr<80>(*crypto::wrap_group_key(me.kx_pk(), group, epoch, k));
  f.custody = custody;
  f.issuer = issuer.user_id();
  f.manifest.prev_hash = prev;
  for (const auto& m : members) f.manifest.members.push_back({m.who->user_id(), arr<32>(m.who->kx_pk()), m.role});
  f.manifest.sig = arr<64>(*cd::manifest_of(f).sign(issuer.signer()));
  return f;
}

struct world {
  crypto::identity broker = crypto::identity::generate();
  crypto::identity me = crypto::identity::generate();
  crypto::identity admin = crypto::identity::generate();
  crypto::identity other = crypto::identity::generate();
  id16 group = crypto::random_id();
  crypto::group_key k = crypto::generate_group_key();

  [[nodiscard]] cd::key_check_context ctx() const {
    cd::key_check_context c;
    c.me = &me;
    c.broker_id = broker.user_id();
    c.broker_pk = broker.sign_pk();
    return c;
  }
  [[nodiscard]] protocol::server::key broker_frame(std::uint64_t epoch = 1, crypto::digest32 prev = {}) const {
    return make_frame(group, epoch, k, me, key_custody::broker, broker,
                      {{&admin, member_role::owner}, {&me, member_role::member}}, prev);
  }
};

TEST_CASE("an honest broker-custody key frame passes and yields the key and manifest hash", "[client][verify]") {
  world w;
  const auto f = w.broker_frame();
  const auto r = cd::check_key_frame(f, w.ctx());
  INFO(r.message);
  REQUIRE(r.ok);
  CHECK(r.ok->key == w.k);
  CHECK(r.ok->manifest_hash == *cd::manifest_of(f).hash());
}

TEST_CASE("a manifest changed after signing is refused as a bad signature", "[client][verify]") {
  world w;
  auto f = w.broker_frame();
  f.manifest.members[1].role = member_role::admin;  // promote ourselves
  const auto r = cd::check_key_frame(f, w.ctx());
  REQUIRE_FALSE(r.ok);
  CHECK(r.kind == warning_kind::bad_signature);
}

TEST_CASE("a broker-custody key signed by someone other than the broker is refused", "[client][verify]") {
  world w;
  const auto f = make_frame(w.group, 1, w.k, w.me, key_custody::broker, w.other,
                            {{&w.admin, member_role::owner}, {&w.me, member_role::member}});
  auto r = cd::check_key_frame(f, w.ctx());
  REQUIRE_FALSE(r.ok);
  CHECK(r.kind == warning_kind::bad_manifest);
  // Claiming the broker's id while signing with another key fails the signature check.
  auto forged = f;
  forged.issuer = w.broker.user_id();
  r = cd::check_key_frame(forged, w.ctx());
  REQUIRE_FALSE(r.ok);
  CHECK(r.kind == warning_kind::bad_signature);
}

TEST_CASE("a manifest that does not chain to the previous epoch is a chain break", "[client][verify]") {
  world w;
  const auto first = w.broker_frame(1);
  const auto h1 = *cd::manifest_of(first).hash();
  auto ctx = w.ctx();
  ctx.prev_hash = h1;

  SECTION("chained correctly") {
    const auto r = cd::check_key_frame(w.broker_frame(2, h1), ctx);
    INFO(r.message);
    CHECK(r.ok);
  }
  SECTION("chained to something else, even when validly signed") {
    crypto::digest32 other{};
    other[0] = 1;
    const auto r = cd::check_key_frame(w.broker_frame(2, other), ctx);
    REQUIRE_FALSE(r.ok);
    CHECK(r.kind == warning_kind::chain_break);
  }
  SECTION("epoch 1 must chain to zeros") {
    const auto r = cd::check_key_frame(w.broker_frame(1, h1), w.ctx());
    REQUIRE_FALSE(r.ok);
    CHECK(r.kind == warning_kind::chain_break);
  }
}

TEST_CASE("client-custody manifests must be signed by an owner or admin of the epoch", "[client][verify]") {
  world w;
  auto ctx = w.ctx();
  ctx.issuer_sign_pk = w.admin.sign_pk();

  SECTION("by the admin: accepted") {
    const auto f = make_frame(w.group, 1, w.k, w.me, key_custody::client, w.admin,
                              {{&w.admin, member_role::admin}, {&w.me, member_role::member}});
    const auto r = cd::check_key_frame(f, ctx);
    INFO(r.message);
    CHECK(r.ok);
  }
  SECTION("by a plain member: refused") {
    const auto f = make_frame(w.group, 1, w.k, w.me, key_custody::client, w.admin,
                              {{&w.admin, member_role::member}, {&w.me, member_role::member}});
    const auto r = cd::check_key_frame(f, ctx);
    REQUIRE_FALSE(r.ok);
    CHECK(r.kind == warning_kind::bad_manifest);
  }
  SECTION("by someone outside the epoch: refused") {
    const auto f = make_frame(w.group, 1, w.k, w.me, key_custody::client, w.other,
                              {{&w.admin, member_role::owner}, {&w.me, member_role::member}});
    ctx.issuer_sign_pk = w.other.sign_pk();
    const auto r = cd::check_key_frame(f, ctx);
    REQUIRE_FALSE(r.ok);
    CHECK(r.kind == warning_kind::bad_manifest);
  }
  SECTION("with a signing key that is not the issuer's: refused") {
    const auto f = make_frame(w.group, 1, w.k, w.me, key_custody::client, w.admin,
                              {{&w.admin, member_role::owner}, {&w.me, member_role::member}});
    ctx.issuer_sign_pk = w.other.sign_pk();
    const auto r = cd::check_key_frame(f, ctx);
    REQUIRE_FALSE(r.ok);
    CHECK(r.kind == warning_kind::bad_manifest);
  }
  SECTION("without the issuer's key: refused") {
    const auto f = make_frame(w.group, 1, w.k, w.me, key_custody::client, w.admin,
                              {{&w.admin, member_role::owner}, {&w.me, member_role::member}});
    ctx.issuer_sign_pk.reset();
    CHECK_FALSE(cd::check_key_frame(f, ctx).ok);
  }
}

TEST_CASE("a manifest that does not list this user, or a key that does not match key_id, is refused",
          "[client][verify]") {
  world w;
  SECTION("not listed") {
    const auto f = make_frame(w.group, 1, w.k, w.me, key_custody::broker, w.broker,
                              {{&w.admin, member_role::owner}, {&w.other, member_role::member}});
    const auto r = cd::check_key_frame(f, w.ctx());
    REQUIRE_FALSE(r.ok);
    CHECK(r.kind == warning_kind::bad_manifest);
  }
  SECTION("key_id of another key") {
    auto f = w.broker_frame();
    f.key_id = crypto::key_id(w.group, 1, crypto::generate_group_key());
    f.manifest.sig = arr<64>(*cd::manifest_of(f).sign(w.broker.signer()));
    const auto r = cd::check_key_frame(f, w.ctx());
    REQUIRE_FALSE(r.ok);
    CHECK(r.kind == warning_kind::bad_key);
  }
}

TEST_CASE("ws and wss URLs parse; anything else is a clear bad_request", "[client][url]") {
  auto u = cd::parse_ws_url("ws://127.0.0.1:7800/ws");
  REQUIRE(u.ok());
  CHECK_FALSE(u->tls);
  CHECK(u->host == "127.0.0.1");
  CHECK(u->port == 7800);
  CHECK(u->path == "/ws");
  u = cd::parse_ws_url("wss://example.org");
  REQUIRE(u.ok());
  CHECK(u->tls);
  CHECK(u->port == 443);
  CHECK(u->path == "/ws");
  u = cd::parse_ws_url("ws://[::1]:9000/x");
  REQUIRE(u.ok());
  CHECK(u->host == "::1");
  CHECK(u->port == 9000);
  CHECK(u->path == "/x");
  for (const char* bad : {"http://127.0.0.1:1/ws", "ws://", "ws://host:0", "ws://host:70000", "ws://host:12ab",
                          "127.0.0.1:7800", "ws://[::1", "ws://:80/ws"}) {
    INFO(bad);
    auto r = cd::parse_ws_url(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == errc::bad_request);
    CHECK(r.err().message.find("bad url") != std::string::npos);
  }
}

}  // namespace
}  // namespace sealcast::test
