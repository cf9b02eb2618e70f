#include <catch2/catch_test_macros.hpp>

#include "crypto/message.hpp"
#include "crypto/random.hpp"
#include "crypto/ratchet.hpp"
#include "vectors.hpp"

using namespace sealcast;
using namespace sealcast::crypto;
using sealcast::test::hex;

namespace {

// Bob's message at index 2 of epoch 2 in the v2 vectors (values checked in vectors_v2_test.cpp).
const boost::json::value& msg_v(std::size_t i = 0) { return test::v2_vectors().at("messages").as_array().at(i); }

aead_key vector_key(std::size_t i = 0) { return *aead_key::from_bytes(hex(msg_v(i).at("msg_key"))); }

message_context vector_context(std::size_t i = 0) {
  const auto& m = msg_v(i);
  return {test::id(test::v2_vectors().at("group").at("group_id")), m.at("epoch").to_number<std::uint64_t>(),
          test::identity_of(test::str(m.at("sender"))).user_id(), m.at("index").to_number<std::uint32_t>(),
          *parse_aead_alg(test::str(m.at("alg")))};
}

sealed_message vector_sealed(std::size_t i = 0) {
  return {hex(msg_v(i).at("nonce")), hex(msg_v(i).at("ct")), hex(msg_v(i).at("sig"))};
}

}  // namespace

TEST_CASE("aad and signed bytes bind group, epoch, sender and index under the v2 labels", "[crypto][message]") {
  const message_context ctx{*id16::from_hex("ad936fcbed631fa67e05c3ea03953905"), 0x0102030405060708,
                            *id16::from_hex("4f17a1c9b332758cb588b8b03d0dd9c0"), 0x0a0b0c0d,
                            aead_alg::xchacha20_poly1305};
  const std::string bound =
      "ad936fcbed631fa67e05c3ea03953905"
      "0102030405060708"
      "4f17a1c9b332758cb588b8b03d0dd9c0"
      "0a0b0c0d";
  CHECK(to_hex(message_aad(ctx)) == to_hex(as_bytes("sealcast/v2/msg")) + bound);
  const bytes nonce(24, 0xee);
  const bytes ct(17, 0xcc);
  CHECK(to_hex(message_sig_input(ctx, nonce, ct)) ==
        to_hex(as_bytes("sealcast/v2/sig")) + bound + "03" + to_hex(nonce) + to_hex(ct));
}

TEST_CASE("messages round-trip with ratchet keys and random nonces for every algorithm", "[crypto][message]") {
  const auto carol = identity::generate();
  const auto k = random_fixed_secret<group_key>();
  for (auto alg : {aead_alg::aes_256_gcm, aead_alg::chacha20_poly1305, aead_alg::xchacha20_poly1305}) {
    INFO(to_string(alg));
    const id16 group = random_id();
    sender_chain tx(initial_chain(k, carol.user_id()), 0);
    receiver_chain rx(initial_chain(k, carol.user_id()), 0);
    auto [i0, k0] = *tx.next();
    auto [i1, k1] = *tx.next();
    const message_context c0{group, 3, carol.user_id(), i0, alg};
    const message_context c1{group, 3, carol.user_id(), i1, alg};
    auto a = encrypt_message(carol.signer(), k0, c0, as_bytes("hi all"));
    auto b = encrypt_message(carol.signer(), k1, c1, as_bytes("hi all"));
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    CHECK(a->nonce.size() == nonce_size(alg));
    CHECK(a->nonce != b->nonce);
    CHECK(a->ct != b->ct);

    // Out of order: index 1 first.
    REQUIRE(verify_message_sig(carol.sign_pk(), c1, *b).ok());
    auto pt1 = decrypt_message(*rx.take(c1.index), c1, *b);
    REQUIRE(pt1.ok());
    CHECK(ct_equal(*pt1, as_bytes("hi all")));
    REQUIRE(verify_message_sig(carol.sign_pk(), c0, *a).ok());
    auto pt0 = decrypt_message(*rx.take(c0.index), c0, *a);
    REQUIRE(pt0.ok());
    CHECK(ct_equal(*pt0, as_bytes("hi all")));
  }
}

TEST_CASE("a message with a flipped bit in ciphertext, tag, nonce or sig is rejected", "[crypto][message]") {
  const auto bob = test::identity_of("bob");
  const auto ctx = vector_context();
  const sealed_message good = vector_sealed();
  REQUIRE(verify_message_sig(bob.sign_pk(), ctx, good).ok());

  for (std::size_t i = 0; i < good.ct.size(); ++i) {  // the last 16 bytes are the tag
    sealed_message bad = good;
    bad.ct[i] ^= 0x01;
    CHECK(test::code_of(verify_message_sig(bob.sign_pk(), ctx, bad)) == errc::bad_signature);
    CHECK(test::code_of(decrypt_message(vector_key(), ctx, bad)) == errc::decrypt_failed);
  }
  sealed_message bad_nonce = good;
  bad_nonce.nonce[0] ^= 0x01;
  CHECK(test::code_of(verify_message_sig(bob.sign_pk(), ctx, bad_nonce)) == errc::bad_signature);
  CHECK(test::code_of(decrypt_message(vector_key(), ctx, bad_nonce)) == errc::decrypt_failed);
  sealed_message bad_sig = good;
  bad_sig.sig[63] ^= 0x01;
  CHECK(test::code_of(verify_message_sig(bob.sign_pk(), ctx, bad_sig)) == errc::bad_signature);
  bad_sig.sig.pop_back();
  CHECK(test::code_of(verify_message_sig(bob.sign_pk(), ctx, bad_sig)) == errc::bad_signature);
}

TEST_CASE("a message re-signed after tampering, or under another index's key, fails to decrypt", "[crypto][message]") {
  // The sender's own signature over a modified ciphertext: only the AEAD can catch it.
  const auto bob = test::identity_of("bob");
  const auto ctx = vector_context(1);
  sealed_message bad = vector_sealed(1);
  bad.ct.back() ^= 0x80;
  bad.sig = bob.sign(message_sig_input(ctx, bad.nonce, bad.ct));
  CHECK(verify_message_sig(bob.sign_pk(), ctx, bad).ok());
  CHECK(test::code_of(decrypt_message(vector_key(1), ctx, bad)) == errc::decrypt_failed);

  // The key of index 1 does not open index 2's message.
  const auto& r = test::v2_vectors().at("ratchet").at("steps").as_array();
  const auto k1 = *aead_key::from_bytes(hex(r.at(1).at("msg_key")));
  CHECK(test::code_of(decrypt_message(k1, ctx, vector_sealed(1))) == errc::decrypt_failed);
}

TEST_CASE("a message is bound to its group, epoch, sender, index and algorithm", "[crypto][message]") {
  const auto bob = test::identity_of("bob");
  const auto alice = test::identity_of("alice");
  const sealed_message m = vector_sealed();
  const auto refused = [&](auto&& mutate) {
    message_context ctx = vector_context();
    mutate(ctx);
    const bool sig_refused = test::code_of(verify_message_sig(bob.sign_pk(), ctx, m)) == errc::bad_signature;
    const bool aead_refused = !decrypt_message(vector_key(), ctx, m).ok();
    return sig_refused && aead_refused;
  };
  CHECK(refused([](message_context& c) { c.epoch += 1; }));
  CHECK(refused([](message_context& c) { c.group.b[7] ^= 1; }));
  // The same key under another index: a replay under a new index is caught by both checks.
  CHECK(refused([](message_context& c) { c.index += 1; }));
  CHECK(refused([](message_context& c) { c.alg = aead_alg::chacha20_poly1305; }));

  // Alice's key for a message claimed to come from Bob.
  CHECK(test::code_of(verify_message_sig(alice.sign_pk(), vector_context(), m)) == errc::bad_key);
  // Alice claiming to be the sender of Bob's ciphertext.
  message_context as_alice = vector_context();
  as_alice.sender = alice.user_id();
  CHECK(test::code_of(verify_message_sig(alice.sign_pk(), as_alice, m)) == errc::bad_signature);
  // Encrypting under another sender's id is refused.
  CHECK(test::code_of(encrypt_message(alice.signer(), vector_key(), vector_context(), as_bytes("x"))) == errc::bad_key);
}

TEST_CASE("messages with a nonce of the wrong size are bad_length", "[crypto][message]") {
  const auto bob = test::identity_of("bob");
  const auto ctx = vector_context();
  CHECK(test::code_of(encrypt_message_with_nonce(bob.signer(), vector_key(), ctx, bytes(24, 0), as_bytes("x"))) ==
        errc::bad_length);
  // A correctly signed message whose nonce has the wrong size still fails cleanly.
  sealed_message m{bytes(11, 0), bytes(20, 0), {}};
  m.sig = bob.sign(message_sig_input(ctx, m.nonce, m.ct));
  CHECK(verify_message_sig(bob.sign_pk(), ctx, m).ok());
  CHECK(test::code_of(decrypt_message(vector_key(), ctx, m)) == errc::bad_length);
  message_context unknown = ctx;
  unknown.alg = static_cast<aead_alg>(9);
  CHECK(test::code_of(encrypt_message(bob.signer(), vector_key(), unknown, as_bytes("x"))) == errc::bad_request);
}
