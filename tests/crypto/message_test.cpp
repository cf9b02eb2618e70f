#include <catch2/catch_test_macros.hpp>

#include "crypto/message.hpp"
#include "crypto/random.hpp"
#include "vectors.hpp"

using namespace sealcast;
using namespace sealcast::crypto;
using sealcast::test::hex;

namespace {

group_key vector_key() {
  return *group_key::from_bytes(hex(test::v1_vectors().at("epoch").at("group_key")));
}

message_context vector_context(const boost::json::value& msg) {
  const auto& e = test::v1_vectors().at("epoch");
  return {test::id(e.at("group_id")), e.at("epoch").to_number<std::uint64_t>(),
          test::identity_of(test::str(msg.at("sender"))).user_id(),
          *parse_aead_alg(test::str(msg.at("alg")))};
}

sealed_message vector_sealed(const boost::json::value& msg) {
  return {hex(msg.at("nonce")), hex(msg.at("ct")), hex(msg.at("sig"))};
}

}  // namespace

TEST_CASE("messages reproduce msg_key, aad, ct and sig of the v1 vectors", "[crypto][message]") {
  for (const auto& msg : test::v1_vectors().at("messages").as_array()) {
    INFO(test::str(msg.at("alg")));
    const auto sender = test::identity_of(test::str(msg.at("sender")));
    const auto ctx = vector_context(msg);

    CHECK(to_hex(message_key(vector_key(), ctx.sender).view()) == test::str(msg.at("msg_key")));
    CHECK(to_hex(message_aad(ctx.group, ctx.epoch, ctx.sender)) == test::str(msg.at("aad")));

    auto sealed = encrypt_message_with_nonce(sender.signer(), vector_key(), ctx,
                                             hex(msg.at("nonce")), hex(msg.at("plaintext")));
    REQUIRE(sealed.ok());
    CHECK(to_hex(sealed->nonce) == test::str(msg.at("nonce")));
    CHECK(to_hex(sealed->ct) == test::str(msg.at("ct")));
    CHECK(to_hex(sealed->sig) == test::str(msg.at("sig")));
  }
}

TEST_CASE("messages of the v1 vectors verify and decrypt", "[crypto][message]") {
  for (const auto& msg : test::v1_vectors().at("messages").as_array()) {
    INFO(test::str(msg.at("alg")));
    const auto sender = test::identity_of(test::str(msg.at("sender")));
    const auto ctx = vector_context(msg);
    CHECK(verify_message_sig(sender.sign_pk(), ctx, vector_sealed(msg)).ok());
    auto pt = decrypt_message(sender.sign_pk(), vector_key(), ctx, vector_sealed(msg));
    REQUIRE(pt.ok());
    CHECK(to_hex(*pt) == test::str(msg.at("plaintext")));
  }
}

TEST_CASE("a message with a flipped bit in ciphertext, tag, nonce or sig is rejected",
          "[crypto][message]") {
  const auto& msg = test::v1_vectors().at("messages").as_array().at(0);
  const auto sender = test::identity_of("alice");
  const auto ctx = vector_context(msg);
  const sealed_message good = vector_sealed(msg);

  for (std::size_t i = 0; i < good.ct.size(); ++i) {  // the last 16 bytes are the tag
    sealed_message bad = good;
    bad.ct[i] ^= 0x01;
    CHECK(test::code_of(decrypt_message(sender.sign_pk(), vector_key(), ctx, bad)) ==
          errc::bad_signature);
  }
  sealed_message bad_nonce = good;
  bad_nonce.nonce[0] ^= 0x01;
  CHECK(test::code_of(decrypt_message(sender.sign_pk(), vector_key(), ctx, bad_nonce)) ==
        errc::bad_signature);
  sealed_message bad_sig = good;
  bad_sig.sig[63] ^= 0x01;
  CHECK(test::code_of(verify_message_sig(sender.sign_pk(), ctx, bad_sig)) == errc::bad_signature);
}

TEST_CASE("a message re-signed after tampering still fails to decrypt", "[crypto][message]") {
  // The sender's own signature over a modified ciphertext: only the AEAD can catch it.
  const auto& msg = test::v1_vectors().at("messages").as_array().at(1);
  const auto sender = test::identity_of("alice");
  const auto ctx = vector_context(msg);
  sealed_message bad = vector_sealed(msg);
  bad.ct.back() ^= 0x80;
  bad.sig = sender.sign(message_sig_input(ctx.group, ctx.epoch, ctx.alg, bad.nonce, bad.ct));
  CHECK(test::code_of(decrypt_message(sender.sign_pk(), vector_key(), ctx, bad)) ==
        errc::decrypt_failed);

  group_key other = vector_key();
  other.data()[0] ^= 1;
  CHECK(test::code_of(decrypt_message(sender.sign_pk(), other, ctx, vector_sealed(msg))) ==
        errc::decrypt_failed);
}

TEST_CASE("a message is bound to its group, epoch, algorithm and sender", "[crypto][message]") {
  const auto& msg = test::v1_vectors().at("messages").as_array().at(0);
  const auto alice = test::identity_of("alice");
  const auto bob = test::identity_of("bob");
  const sealed_message m = vector_sealed(msg);

  auto ctx = vector_context(msg);
  ctx.epoch += 1;
  CHECK(test::code_of(verify_message_sig(alice.sign_pk(), ctx, m)) == errc::bad_signature);
  ctx = vector_context(msg);
  ctx.group.b[7] ^= 1;
  CHECK(test::code_of(verify_message_sig(alice.sign_pk(), ctx, m)) == errc::bad_signature);
  ctx = vector_context(msg);
  ctx.alg = aead_alg::chacha20_poly1305;
  CHECK(test::code_of(verify_message_sig(alice.sign_pk(), ctx, m)) == errc::bad_signature);
  // Bob's key for a message claimed to come from Alice.
  ctx = vector_context(msg);
  CHECK(test::code_of(verify_message_sig(bob.sign_pk(), ctx, m)) == errc::bad_key);
  // Bob claiming to be the sender of Alice's ciphertext.
  ctx.sender = bob.user_id();
  CHECK(test::code_of(verify_message_sig(bob.sign_pk(), ctx, m)) == errc::bad_signature);
  // Encrypting under another sender's id is refused.
  CHECK(test::code_of(encrypt_message(alice.signer(), vector_key(), ctx, as_bytes("x"))) ==
        errc::bad_key);
}

TEST_CASE("messages round-trip with random nonces for every algorithm", "[crypto][message]") {
  const auto carol = identity::generate();
  const auto k = random_fixed_secret<group_key>();
  for (auto alg :
       {aead_alg::aes_256_gcm, aead_alg::chacha20_poly1305, aead_alg::xchacha20_poly1305}) {
    INFO(to_string(alg));
    const message_context ctx{random_id(), 3, carol.user_id(), alg};
    auto a = encrypt_message(carol.signer(), k, ctx, as_bytes("hi all"));
    auto b = encrypt_message(carol.signer(), k, ctx, as_bytes("hi all"));
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    CHECK(a->nonce.size() == nonce_size(alg));
    CHECK(a->nonce != b->nonce);
    auto pt = decrypt_message(carol.sign_pk(), k, ctx, *a);
    REQUIRE(pt.ok());
    CHECK(ct_equal(*pt, as_bytes("hi all")));
  }
}

TEST_CASE("messages with a nonce of the wrong size are bad_length", "[crypto][message]") {
  const auto& msg = test::v1_vectors().at("messages").as_array().at(0);
  const auto alice = test::identity_of("alice");
  auto ctx = vector_context(msg);
  CHECK(test::code_of(encrypt_message_with_nonce(alice.signer(), vector_key(), ctx, bytes(24, 0),
                                                 as_bytes("x"))) == errc::bad_length);
  // A correctly signed message whose nonce has the wrong size still fails cleanly.
  sealed_message m{bytes(11, 0), bytes(20, 0), {}};
  m.sig = alice.sign(message_sig_input(ctx.group, ctx.epoch, ctx.alg, m.nonce, m.ct));
  CHECK(test::code_of(decrypt_message(alice.sign_pk(), vector_key(), ctx, m)) == errc::bad_length);
  m.sig.pop_back();
  CHECK(test::code_of(decrypt_message(alice.sign_pk(), vector_key(), ctx, m)) ==
        errc::bad_signature);
}
