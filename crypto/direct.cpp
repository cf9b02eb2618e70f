#include "crypto/direct.hpp"

#include "crypto/hpke.hpp"

namespace sealcast::crypto {
namespace {

result<sealed_direct> sign_sealed(const identity& sender, const id16& recipient,
                                  result<bytes> sealed) {
  if (!sealed) {
    return std::move(sealed).err();
  }
  sealed_direct out{std::move(*sealed), {}};
  out.sig = sender.sign(direct_sig_input(recipient, out.sealed));
  return out;
}

}  // namespace

bytes direct_info(const id16& sender, const id16& recipient) {
  bytes info;
  info.reserve(direct_label.size() + 32);
  append(info, direct_label);
  append(info, sender.view());
  append(info, recipient.view());
  return info;
}

bytes direct_sig_input(const id16& recipient, byte_view sealed) {
  bytes m;
  m.reserve(direct_label.size() + 16 + sealed.size());
  append(m, direct_label);
  append(m, recipient.view());
  append(m, sealed);
  return m;
}

result<sealed_direct> seal_direct(const identity& sender, const id16& recipient,
                                  byte_view recipient_kx_pk, byte_view plaintext) {
  return sign_sealed(
      sender, recipient,
      hpke_seal(recipient_kx_pk, direct_info(sender.user_id(), recipient), {}, plaintext));
}

result<sealed_direct> seal_direct_with_ephemeral(const identity& sender, const id16& recipient,
                                                 byte_view recipient_kx_pk, byte_view ephemeral_sk,
                                                 byte_view plaintext) {
  return sign_sealed(
      sender, recipient,
      hpke_seal_with_ephemeral(ephemeral_sk, recipient_kx_pk,
                               direct_info(sender.user_id(), recipient), {}, plaintext));
}

status verify_direct(byte_view sender_sign_pk, const id16& recipient, const sealed_direct& msg) {
  if (!ed25519_verify(sender_sign_pk, direct_sig_input(recipient, msg.sealed), msg.sig)) {
    return error{errc::bad_signature, "direct message signature does not verify"};
  }
  return {};
}

result<secure_bytes> open_direct(const identity& recipient, const id16& sender,
                                 byte_view sender_sign_pk, const sealed_direct& msg) {
  if (user_id_of(sender_sign_pk) != sender) {
    return error{errc::bad_key, "signing key is not the sender's"};
  }
  if (auto s = verify_direct(sender_sign_pk, recipient.user_id(), msg); !s) {
    return s.err();
  }
  return hpke_open(recipient.kx_sk().view(), direct_info(sender, recipient.user_id()), {},
                   msg.sealed);
}

}  // namespace sealcast::crypto
