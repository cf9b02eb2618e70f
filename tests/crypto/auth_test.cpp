#include <catch2/catch_test_macros.hpp>

#include "crypto/auth.hpp"
#include "crypto/identity.hpp"
#include "vectors.hpp"

using namespace sealcast;
using namespace sealcast::crypto;
using sealcast::test::hex;

TEST_CASE("the hello signature covers the v2 label, the nonce and the broker id", "[crypto][auth]") {
  const auto alice = test::identity_of("alice");
  const bytes nonce(auth_nonce_size, 7);
  const id16 broker_id = test::identity_of("broker").user_id();
  CHECK(to_hex(auth_message(nonce, broker_id)) ==
        to_hex(as_bytes("sealcast/v2/auth")) + to_hex(nonce) + broker_id.hex());
  CHECK(verify_auth(alice.sign_pk(), nonce, broker_id, sign_auth(alice.signer(), nonce, broker_id)));
}

TEST_CASE("the hello signature is refused for another nonce, broker, key or a flipped bit",
          "[crypto][auth]") {
  const auto& v = test::v2_vectors().at("auth");
  const auto alice = test::identity_of("alice");
  const bytes nonce = hex(v.at("nonce"));
  const id16 broker_id = test::id(v.at("broker_id"));
  const bytes sig = hex(v.at("sig"));

  bytes other_nonce = nonce;
  other_nonce[0] ^= 1;
  CHECK_FALSE(verify_auth(alice.sign_pk(), other_nonce, broker_id, sig));
  id16 other_broker = broker_id;
  other_broker.b[15] ^= 1;
  CHECK_FALSE(verify_auth(alice.sign_pk(), nonce, other_broker, sig));
  CHECK_FALSE(verify_auth(test::identity_of("bob").sign_pk(), nonce, broker_id, sig));
  bytes bad_sig = sig;
  bad_sig[40] ^= 0x80;
  CHECK_FALSE(verify_auth(alice.sign_pk(), nonce, broker_id, bad_sig));
}

TEST_CASE("the hello signature is refused for wrong lengths", "[crypto][auth]") {
  const auto& v = test::v2_vectors().at("auth");
  const auto alice = test::identity_of("alice");
  const bytes nonce = hex(v.at("nonce"));
  const id16 broker_id = test::id(v.at("broker_id"));
  const bytes sig = hex(v.at("sig"));
  CHECK_FALSE(verify_auth(alice.sign_pk(), byte_view(nonce).first(31), broker_id, sig));
  CHECK_FALSE(verify_auth(alice.sign_pk(), nonce, broker_id, byte_view(sig).first(63)));
  CHECK_FALSE(verify_auth(byte_view(alice.sign_pk()).first(16), nonce, broker_id, sig));
}
