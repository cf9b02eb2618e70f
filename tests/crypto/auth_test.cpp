#include <catch2/catch_test_macros.hpp>

#include "crypto/auth.hpp"
#include "crypto/identity.hpp"
#include "vectors.hpp"

using namespace sealcast;
using namespace sealcast::crypto;
using sealcast::test::hex;

TEST_CASE("the hello signature reproduces the v1 auth vector", "[crypto][auth]") {
  const auto& v = test::v1_vectors().at("auth");
  const auto user = test::identity_of(test::str(v.at("user")));
  const bytes nonce = hex(v.at("nonce"));
  const id16 broker_id = test::id(v.at("broker_id"));
  CHECK(broker_id == test::identity_of("broker").user_id());

  const bytes msg = auth_message(nonce, broker_id);
  CHECK(to_hex(msg) == to_hex(as_bytes("sealcast/v1/auth")) + test::str(v.at("nonce")) +
                           test::str(v.at("broker_id")));
  CHECK(to_hex(sign_auth(user.signer(), nonce, broker_id)) == test::str(v.at("sig")));
  CHECK(verify_auth(user.sign_pk(), nonce, broker_id, hex(v.at("sig"))));
}

TEST_CASE("the hello signature is refused for another nonce, broker, key or a flipped bit",
          "[crypto][auth]") {
  const auto& v = test::v1_vectors().at("auth");
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
  const auto& v = test::v1_vectors().at("auth");
  const auto alice = test::identity_of("alice");
  const bytes nonce = hex(v.at("nonce"));
  const id16 broker_id = test::id(v.at("broker_id"));
  const bytes sig = hex(v.at("sig"));
  CHECK_FALSE(verify_auth(alice.sign_pk(), byte_view(nonce).first(31), broker_id, sig));
  CHECK_FALSE(verify_auth(alice.sign_pk(), nonce, broker_id, byte_view(sig).first(63)));
  CHECK_FALSE(verify_auth(byte_view(alice.sign_pk()).first(16), nonce, broker_id, sig));
}
