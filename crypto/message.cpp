#include "crypto/message.hpp"

#include "crypto/identity.hpp"
#include "crypto/random.hpp"

namespace sealcast::crypto {
namespace {

void append_context(bytes& out, const message_context& ctx) {
  append(out, ctx.group.view());
  put_u64be(out, ctx.epoch);
  append(out, ctx.sender.view());
  put_u32be(out, ctx.index);
}

}  // namespace

bytes message_aad(const message_context& ctx) {
  bytes aad;
  aad.reserve(msg_aad_label.size() + 16 + 8 + 16 + 4);
  append(aad, msg_aad_label);
  append_context(aad, ctx);
  return aad;
}

bytes message_sig_input(const message_context& ctx, byte_view nonce, byte_view ct) {
  bytes m;
  m.reserve(msg_sig_label.size() + 16 + 8 + 16 + 4 + 1 + nonce.size() + ct.size());
  append(m, msg_sig_label);
  append_context(m, ctx);
  m.push_back(alg_id(ctx.alg));
  append(m, nonce);
  append(m, ct);
  return m;
}

result<sealed_message> encrypt_message_with_nonce(const signing_key& signer, const aead_key& msg_key,
                                                  const message_context& ctx, byte_view nonce, byte_view plaintext) {
  if (user_id_of(signer.public_key()) != ctx.sender) {
    return error{errc::bad_key, "signing key is not the sender's"};
  }
  auto ct = aead_seal(ctx.alg, msg_key.view(), nonce, message_aad(ctx), plaintext);
  if (!ct) {
    return std::move(ct).err();
  }
  sealed_message msg{bytes(nonce.begin(), nonce.end()), std::move(*ct), {}};
  msg.sig = signer.sign(message_sig_input(ctx, msg.nonce, msg.ct));
  return msg;
}

result<sealed_message> encrypt_message(const signing_key& signer, const aead_key& msg_key, const message_context& ctx,
                                       byte_view plaintext) {
  const std::size_t n = nonce_size(ctx.alg);
  if (n == 0) {
    return error{errc::bad_request, "unknown AEAD algorithm"};
  }
  // Each message key seals one message, so the nonce need not be unique by construction; it is
  // random as section 7.2 asks, which also covers a sender that reuses an index by mistake.
  return encrypt_message_with_nonce(signer, msg_key, ctx, random_bytes(n), plaintext);
}

status verify_message_sig(byte_view sender_sign_pk, const message_context& ctx, const sealed_message& msg) {
  if (user_id_of(sender_sign_pk) != ctx.sender) {
    return error{errc::bad_key, "signing key is not the sender's"};
  }
  if (!ed25519_verify(sender_sign_pk, message_sig_input(ctx, msg.nonce, msg.ct), msg.sig)) {
    return error{errc::bad_signature, "message signature of " + ctx.sender.hex() + " does not verify"};
  }
  return {};
}

result<secure_bytes> decrypt_message(const aead_key& msg_key, const message_context& ctx, const sealed_message& msg) {
  return aead_open(ctx.alg, msg_key.view(), msg.nonce, message_aad(ctx), msg.ct);
}

}  // namespace sealcast::crypto
