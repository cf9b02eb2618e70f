#include <catch2/catch_test_macros.hpp>

#include "crypto/direct.hpp"
#include "vectors.hpp"

using namespace sealcast;
using namespace sealcast::crypto;
using sealcast::test::hex;

namespace {

const boost::json::value& direct_v() { return test::v2_vectors().at("direct"); }

sealed_direct vector_direct() { return {hex(direct_v().at("sealed")), hex(direct_v().at("sig"))}; }

}  // namespace

TEST_CASE("a direct message's HPKE info and signature use the v2 label", "[crypto][direct]") {
  const auto alice = test::identity_of("alice");
  const auto bob = test::identity_of("bob");
  const std::string label = to_hex(as_bytes("sealcast/v2/direct"));
  CHECK(to_hex(direct_info(alice.user_id(), bob.user_id())) == label + alice.user_id().hex() + bob.user_id().hex());
  const sealed_direct d = vector_direct();
  CHECK(to_hex(direct_sig_input(bob.user_id(), d.sealed)) == label + bob.user_id().hex() + to_hex(d.sealed));
  CHECK(verify_direct(alice.sign_pk(), bob.user_id(), d).ok());
}

TEST_CASE("a direct message with a flipped bit is rejected", "[crypto][direct]") {
  const auto alice = test::identity_of("alice");
  const auto bob = test::identity_of("bob");
  const sealed_direct good = vector_direct();
  for (std::size_t i = 0; i < good.sealed.size(); ++i) {
    sealed_direct bad = good;
    bad.sealed[i] ^= 0x04;
    CHECK(test::code_of(open_direct(bob, alice.user_id(), alice.sign_pk(), bad)) ==
          errc::bad_signature);
  }
  sealed_direct bad_sig = good;
  bad_sig.sig[0] ^= 0x04;
  CHECK(test::code_of(verify_direct(alice.sign_pk(), bob.user_id(), bad_sig)) ==
        errc::bad_signature);

  // Re-signed by the sender after tampering: only HPKE can catch it.
  sealed_direct resigned = good;
  resigned.sealed[40] ^= 0x04;
  resigned.sig = alice.sign(direct_sig_input(bob.user_id(), resigned.sealed));
  CHECK(test::code_of(open_direct(bob, alice.user_id(), alice.sign_pk(), resigned)) ==
        errc::decrypt_failed);
}

TEST_CASE("a direct message opens only for its recipient and named sender", "[crypto][direct]") {
  const auto alice = test::identity_of("alice");
  const auto bob = test::identity_of("bob");
  const auto carol = test::identity_of("carol");
  // Carol is not the recipient the signature names.
  CHECK(test::code_of(open_direct(carol, alice.user_id(), alice.sign_pk(), vector_direct())) ==
        errc::bad_signature);
  // A sign_pk that is not the claimed sender's.
  CHECK(test::code_of(open_direct(bob, alice.user_id(), carol.sign_pk(), vector_direct())) ==
        errc::bad_key);
  // Carol re-signs Alice's sealed bytes as her own: the HPKE info names Alice, so it fails.
  sealed_direct stolen = vector_direct();
  stolen.sig = carol.sign(direct_sig_input(bob.user_id(), stolen.sealed));
  CHECK(test::code_of(open_direct(bob, carol.user_id(), carol.sign_pk(), stolen)) ==
        errc::decrypt_failed);
}

TEST_CASE("direct messages round-trip with fresh ephemeral keys", "[crypto][direct]") {
  const auto a = identity::generate();
  const auto b = identity::generate();
  auto d1 = seal_direct(a, b.user_id(), b.kx_pk(), as_bytes("psst"));
  auto d2 = seal_direct(a, b.user_id(), b.kx_pk(), as_bytes("psst"));
  REQUIRE(d1.ok());
  REQUIRE(d2.ok());
  CHECK(d1->sealed != d2->sealed);
  auto pt = open_direct(b, a.user_id(), a.sign_pk(), *d1);
  REQUIRE(pt.ok());
  CHECK(ct_equal(*pt, as_bytes("psst")));
}

TEST_CASE("direct messages refuse unusable keys and short input", "[crypto][direct]") {
  const auto alice = test::identity_of("alice");
  const auto bob = test::identity_of("bob");
  CHECK(test::code_of(seal_direct(alice, bob.user_id(), bytes(32, 0), as_bytes("x"))) ==
        errc::bad_key);
  CHECK(test::code_of(seal_direct(alice, bob.user_id(), bytes(16, 1), as_bytes("x"))) ==
        errc::bad_length);
  sealed_direct tiny{bytes(20, 1), {}};
  tiny.sig = alice.sign(direct_sig_input(bob.user_id(), tiny.sealed));
  CHECK(test::code_of(open_direct(bob, alice.user_id(), alice.sign_pk(), tiny)) ==
        errc::bad_length);
}
