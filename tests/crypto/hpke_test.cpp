#include <catch2/catch_test_macros.hpp>

#include "crypto/hpke.hpp"
#include "crypto/x25519.hpp"
#include "vectors.hpp"

using namespace sealcast;
using namespace sealcast::crypto;
using sealcast::test::hex;

namespace {

const boost::json::object& a1() {
  return test::rfc_vectors().at("hpke_rfc9180_a1_base").as_object();
}

}  // namespace

TEST_CASE("hpke sender setup reproduces RFC 9180 A.1 base mode", "[crypto][hpke]") {
  const auto& v = a1();
  auto pk_e = x25519_public_key(hex(v.at("skEm")));
  REQUIRE(pk_e.ok());
  CHECK(to_hex(*pk_e) == test::str(v.at("pkEm")));
  auto pk_r = x25519_public_key(hex(v.at("skRm")));
  REQUIRE(pk_r.ok());
  CHECK(to_hex(*pk_r) == test::str(v.at("pkRm")));

  auto ctx = hpke_setup_sender(hex(v.at("skEm")), hex(v.at("pkRm")), hex(v.at("info")));
  REQUIRE(ctx.ok());
  CHECK(to_hex(ctx->enc) == test::str(v.at("enc")));
  CHECK(to_hex(ctx->shared_secret) == test::str(v.at("shared_secret")));
  CHECK(to_hex(ctx->key) == test::str(v.at("key")));
  CHECK(to_hex(ctx->base_nonce) == test::str(v.at("base_nonce")));
}

TEST_CASE("hpke receiver setup derives the same context as RFC 9180 A.1", "[crypto][hpke]") {
  const auto& v = a1();
  auto ctx = hpke_setup_receiver(hex(v.at("skRm")), hex(v.at("enc")), hex(v.at("info")));
  REQUIRE(ctx.ok());
  CHECK(to_hex(ctx->shared_secret) == test::str(v.at("shared_secret")));
  CHECK(to_hex(ctx->key) == test::str(v.at("key")));
  CHECK(to_hex(ctx->base_nonce) == test::str(v.at("base_nonce")));
}

TEST_CASE("hpke seal and open reproduce RFC 9180 A.1 sequence 0", "[crypto][hpke]") {
  const auto& v = a1();
  const auto& s0 = v.at("seq0");
  auto sealed = hpke_seal_with_ephemeral(hex(v.at("skEm")), hex(v.at("pkRm")), hex(v.at("info")),
                                         hex(s0.at("aad")), hex(s0.at("pt")));
  REQUIRE(sealed.ok());
  CHECK(to_hex(*sealed) == test::str(v.at("enc")) + test::str(s0.at("ct")));

  bytes wire = hex(v.at("enc"));
  append(wire, hex(s0.at("ct")));
  auto pt = hpke_open(hex(v.at("skRm")), hex(v.at("info")), hex(s0.at("aad")), wire);
  REQUIRE(pt.ok());
  CHECK(to_hex(*pt) == test::str(s0.at("pt")));
}

TEST_CASE("hpke open rejects any flipped bit in enc, ciphertext or tag", "[crypto][hpke]") {
  const auto& v = a1();
  const auto& s0 = v.at("seq0");
  bytes wire = hex(v.at("enc"));
  append(wire, hex(s0.at("ct")));
  for (std::size_t i = 0; i < wire.size(); ++i) {
    bytes bad = wire;
    bad[i] ^= static_cast<std::uint8_t>(1U << (i % 8));
    auto r = hpke_open(hex(v.at("skRm")), hex(v.at("info")), hex(s0.at("aad")), bad);
    INFO(i);
    REQUIRE_FALSE(r.ok());
    // Flipping bit 255 of enc is invisible to X25519, but enc is also hashed into the key.
    CHECK(test::code_of(r) == errc::decrypt_failed);
  }
}

TEST_CASE("hpke open rejects another info, aad or recipient", "[crypto][hpke]") {
  const auto& v = a1();
  const auto& s0 = v.at("seq0");
  bytes wire = hex(v.at("enc"));
  append(wire, hex(s0.at("ct")));
  CHECK(test::code_of(hpke_open(hex(v.at("skRm")), {}, hex(s0.at("aad")), wire)) ==
        errc::decrypt_failed);
  CHECK(test::code_of(hpke_open(hex(v.at("skRm")), hex(v.at("info")), {}, wire)) ==
        errc::decrypt_failed);
  CHECK(test::code_of(hpke_open(hex(v.at("skEm")), hex(v.at("info")), hex(s0.at("aad")), wire)) ==
        errc::decrypt_failed);
}

TEST_CASE("hpke seal round-trips with a fresh ephemeral key each time", "[crypto][hpke]") {
  const auto& v = a1();
  const bytes pt = {1, 2, 3, 4, 5};
  auto a = hpke_seal(hex(v.at("pkRm")), as_bytes("info"), as_bytes("aad"), pt);
  auto b = hpke_seal(hex(v.at("pkRm")), as_bytes("info"), as_bytes("aad"), pt);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->size() == hpke_enc_size + pt.size() + hpke_tag_size);
  CHECK(*a != *b);
  auto back = hpke_open(hex(v.at("skRm")), as_bytes("info"), as_bytes("aad"), *a);
  REQUIRE(back.ok());
  CHECK(bytes(back->begin(), back->end()) == pt);

  auto empty = hpke_seal(hex(v.at("pkRm")), {}, {}, {});
  REQUIRE(empty.ok());
  CHECK(hpke_open(hex(v.at("skRm")), {}, {}, *empty).ok());
}

TEST_CASE("hpke aborts with bad_key on a low-order recipient key or enc", "[crypto][hpke]") {
  const auto& v = a1();
  const bytes zero(32, 0);
  CHECK(test::code_of(hpke_seal(zero, {}, {}, as_bytes("k"))) == errc::bad_key);
  CHECK(test::code_of(hpke_setup_sender(hex(v.at("skEm")), zero, {})) == errc::bad_key);
  bytes wire(32 + 16, 0);  // enc = the zero point
  CHECK(test::code_of(hpke_open(hex(v.at("skRm")), {}, {}, wire)) == errc::bad_key);
}

TEST_CASE("hpke reports wrong lengths as bad_length", "[crypto][hpke]") {
  const auto& v = a1();
  CHECK(test::code_of(hpke_seal(bytes(31, 9), {}, {}, {})) == errc::bad_length);
  CHECK(test::code_of(hpke_seal_with_ephemeral(bytes(33, 9), hex(v.at("pkRm")), {}, {}, {})) ==
        errc::bad_length);
  CHECK(test::code_of(hpke_open(hex(v.at("skRm")), {}, {}, bytes(47, 0))) == errc::bad_length);
  CHECK(test::code_of(hpke_open(bytes(16, 1), {}, {}, bytes(80, 1))) == errc::bad_length);
  CHECK(test::code_of(hpke_setup_receiver(hex(v.at("skRm")), bytes(31, 1), {})) ==
        errc::bad_length);
}

TEST_CASE("a pre-generated ephemeral key seals exactly once", "[crypto][hpke]") {
  const auto& v = a1();
  const auto& s0 = v.at("seq0");
  auto eph = hpke_ephemeral::from_secret(hex(v.at("skEm")));
  REQUIRE(eph.ok());
  CHECK(to_hex(eph->public_key()) == test::str(v.at("pkEm")));
  hpke_ephemeral e = std::move(*eph);
  CHECK_FALSE(eph->usable());  // moved from
  CHECK(e.usable());
  auto sealed = hpke_seal(std::move(e), hex(v.at("pkRm")), hex(v.at("info")), hex(s0.at("aad")),
                          hex(s0.at("pt")));
  REQUIRE(sealed.ok());
  CHECK(to_hex(*sealed) == test::str(v.at("enc")) + test::str(s0.at("ct")));
  // Reuse must be refused, which is the point of the test.
  // NOLINTNEXTLINE(bugprone-use-after-move,clang-analyzer-cplusplus.Move)
  CHECK(test::code_of(hpke_seal(std::move(e), hex(v.at("pkRm")), {}, {}, {})) == errc::bad_key);

  auto fresh = hpke_ephemeral::generate();
  const auto pk = fresh.public_key();
  auto r = hpke_seal(std::move(fresh), hex(v.at("pkRm")), {}, {}, as_bytes("k"));
  REQUIRE(r.ok());
  CHECK(byte_view(*r).first(32).size() == pk.size());
  CHECK(std::equal(pk.begin(), pk.end(), r->begin()));
  CHECK(hpke_open(hex(v.at("skRm")), {}, {}, *r).ok());
  CHECK(test::code_of(hpke_ephemeral::from_secret(bytes(31, 1))) == errc::bad_length);
}
