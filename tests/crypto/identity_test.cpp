#include <catch2/catch_test_macros.hpp>

#include "crypto/identity.hpp"
#include "vectors.hpp"

using namespace sealcast;
using namespace sealcast::crypto;
using sealcast::test::hex;

TEST_CASE("kx_sig signs the v2 label and kx_pk", "[crypto][identity]") {
  const auto alice = test::identity_of("alice");
  CHECK(to_hex(kx_sig_input(alice.kx_pk())) == to_hex(as_bytes("sealcast/v2/kx")) + to_hex(alice.kx_pk()));
  CHECK(ed25519_verify(alice.sign_pk(), kx_sig_input(alice.kx_pk()), alice.kx_sig()));
  CHECK(alice.public_part().validate().ok());
  CHECK(user_id_of(alice.sign_pk()) == alice.user_id());
}

TEST_CASE("an identity keeps the secrets it was built from", "[crypto][identity]") {
  const auto& v = test::v2_vectors().at("identities").at("alice");
  const auto alice = test::identity_of("alice");
  CHECK(to_hex(alice.sign_sk().view()) == test::str(v.at("sign_sk")));
  // Unclamped as given: clamping is X25519's business, so a keystore round-trips exact bytes.
  CHECK(to_hex(alice.kx_sk().view()) == test::str(v.at("kx_sk")));
}

TEST_CASE("public identities with a bad kx_sig are refused", "[crypto][identity]") {
  const auto alice = test::identity_of("alice");
  const auto bob = test::identity_of("bob");
  public_identity pub = alice.public_part();
  pub.kx_sig[10] ^= 0x04;
  CHECK(test::code_of(pub.validate()) == errc::bad_signature);

  // Alice's signing key with Bob's kx_pk: a key someone else bound, not hers.
  public_identity swapped = alice.public_part();
  swapped.kx_pk = bob.kx_pk();
  CHECK(test::code_of(swapped.validate()) == errc::bad_signature);
}

TEST_CASE("public identities with a low-order kx_pk are refused even when signed",
          "[crypto][identity]") {
  const auto alice = test::identity_of("alice");
  for (const char* h : {"0000000000000000000000000000000000000000000000000000000000000000",
                        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
                        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"}) {
    const bytes low = *from_hex(h);
    const public_identity pub{alice.sign_pk(), low, alice.sign(kx_sig_input(low))};
    CHECK(test::code_of(pub.validate()) == errc::bad_key);
  }
}

TEST_CASE("public identities with wrong lengths are refused", "[crypto][identity]") {
  const auto alice = test::identity_of("alice");
  public_identity pub = alice.public_part();
  pub.sign_pk.pop_back();
  CHECK(test::code_of(pub.validate()) == errc::bad_length);
  pub = alice.public_part();
  pub.kx_pk.push_back(0);
  CHECK(test::code_of(pub.validate()) == errc::bad_length);
  pub = alice.public_part();
  pub.kx_sig.clear();
  CHECK(test::code_of(pub.validate()) == errc::bad_length);
  CHECK_FALSE(verify_kx_sig(alice.sign_pk(), byte_view(alice.kx_pk()).first(31), alice.kx_sig()));
  CHECK(test::code_of(identity::from_secrets(bytes(31, 1), bytes(32, 1))) == errc::bad_length);
  CHECK(test::code_of(identity::from_secrets(bytes(32, 1), bytes(33, 1))) == errc::bad_length);
}

TEST_CASE("generated identities are valid and distinct", "[crypto][identity]") {
  const auto a = identity::generate();
  const auto b = identity::generate();
  CHECK(a.public_part().validate().ok());
  CHECK(a.user_id() != b.user_id());
  auto again = identity::from_secrets(a.sign_sk(), a.kx_sk());
  CHECK(again.public_part() == a.public_part());
}
