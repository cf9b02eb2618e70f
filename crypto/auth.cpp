#include "crypto/auth.hpp"

namespace sealcast::crypto {

bytes auth_message(byte_view nonce, const id16& broker_id) {
  bytes m;
  m.reserve(auth_label.size() + nonce.size() + broker_id.b.size());
  append(m, auth_label);
  append(m, nonce);
  append(m, broker_id.view());
  return m;
}

bytes sign_auth(const signing_key& key, byte_view nonce, const id16& broker_id) {
  return key.sign(auth_message(nonce, broker_id));
}

bool verify_auth(byte_view sign_pk, byte_view nonce, const id16& broker_id,
                 byte_view sig) noexcept {
  if (nonce.size() != auth_nonce_size) {
    return false;
  }
  try {
    return ed25519_verify(sign_pk, auth_message(nonce, broker_id), sig);
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace sealcast::crypto
