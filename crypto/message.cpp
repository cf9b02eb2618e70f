#include "crypto/message.hpp"

#include "crypto/detail/kdf.hpp"
#include "crypto/identity.hpp"
#include "crypto/random.hpp"

namespace sealcast::crypto {

aead_key message_key(const group_key& key, const id16& sender) {
  // Extract then expand in parts, so neither K nor the PRK is copied into an unwiped buffer.
  fixed_secret<32, struct msg_prk_tag> prk;
  detail::hkdf_extract(prk.span(), {}, {key.view()});
  aead_key out;
  detail::hkdf_expand(std::span<std::uint8_t>(out.data(), out.size()), prk.view(),
                      {as_bytes(msg_key_label), sender.view()});
  return out;
}

bytes message_aad(const id16& group, std::uint64_t epoch, const id16& sender) {
  bytes aad;
  aad.reserve(msg_aad_label.size() + 16 + 8 + 16);
  append(aad, msg_aad_label);
  append(aad, group.view());
  put_u64be(aad, epoch);
  append(aad, sender.view());
  return aad;
}

bytes message_sig_input(const id16& group, std::uint64_t epoch, aead_alg alg, byte_view nonce,
                        byte_view ct) {
  bytes m;
  m.reserve(msg_sig_label.size() + 16 + 8 + 1 + nonce.size() + ct.size());
  append(m, msg_sig_label);
  append(m, group.view());
  put_u64be(m, epoch);
  m.push_back(alg_id(alg));
  append(m, nonce);
  append(m, ct);
  return m;
}

result<sealed_message> encrypt_message_with_nonce(const signing_key& signer, const group_key& key,
                                                  const message_context& ctx, byte_view nonce,
                                                  byte_view plaintext) {
  if (user_id_of(signer.public_key()) != ctx.sender) {
    return error{errc::bad_key, "signing key is not the sender's"};
  }
  const aead_key mk = message_key(key, ctx.sender);
  auto ct = aead_seal(ctx.alg, mk.view(), nonce, message_aad(ctx.group, ctx.epoch, ctx.sender),
                      plaintext);
  if (!ct) {
    return std::move(ct).err();
  }
  sealed_message msg{bytes(nonce.begin(), nonce.end()), std::move(*ct), {}};
  msg.sig = signer.sign(message_sig_input(ctx.group, ctx.epoch, ctx.alg, msg.nonce, msg.ct));
  return msg;
}

result<sealed_message> encrypt_message(const signing_key& signer, const group_key& key,
                                       const message_context& ctx, byte_view plaintext) {
  const std::size_t n = nonce_size(ctx.alg);
  if (n == 0) {
    return error{errc::bad_request, "unknown AEAD algorithm"};
  }
  // Random nonces are safe: every (K_e, sender) pair has its own key, and an epoch rotates long
  // before one sender nears the 2^32 messages that 96-bit random nonces allow.
  return encrypt_message_with_nonce(signer, key, ctx, random_bytes(n), plaintext);
}

status verify_message_sig(byte_view sender_sign_pk, const message_context& ctx,
                          const sealed_message& msg) {
  if (user_id_of(sender_sign_pk) != ctx.sender) {
    return error{errc::bad_key, "signing key is not the sender's"};
  }
  if (!ed25519_verify(sender_sign_pk,
                      message_sig_input(ctx.group, ctx.epoch, ctx.alg, msg.nonce, msg.ct),
                      msg.sig)) {
    return error{errc::bad_signature, "message signature does not verify"};
  }
  return {};
}

result<secure_bytes> decrypt_message(byte_view sender_sign_pk, const group_key& key,
                                     const message_context& ctx, const sealed_message& msg) {
  if (auto s = verify_message_sig(sender_sign_pk, ctx, msg); !s) {
    return s.err();
  }
  const aead_key mk = message_key(key, ctx.sender);
  return aead_open(ctx.alg, mk.view(), msg.nonce, message_aad(ctx.group, ctx.epoch, ctx.sender),
                   msg.ct);
}

}  // namespace sealcast::crypto
