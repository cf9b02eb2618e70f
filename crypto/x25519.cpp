#include "crypto/x25519.hpp"

#include <botan/curve25519.h>

namespace sealcast::crypto {
namespace {

bool all_zero(const std::uint8_t* p, std::size_t n) noexcept {
  std::uint8_t acc = 0;
  for (std::size_t i = 0; i < n; ++i) {
    acc = static_cast<std::uint8_t>(acc | p[i]);
  }
  return acc == 0;
}

}  // namespace

result<x25519_public> x25519_public_key(byte_view sk) {
  if (sk.size() != x25519_size) {
    return error{errc::bad_length, "X25519 private key must be 32 bytes"};
  }
  x25519_public pk;
  Botan::curve25519_basepoint(pk.data(), sk.data());
  return pk;
}

result<x25519_shared> x25519(byte_view sk, byte_view pk) {
  if (sk.size() != x25519_size || pk.size() != x25519_size) {
    return error{errc::bad_length, "X25519 keys must be 32 bytes"};
  }
  x25519_shared out;
  Botan::curve25519_donna(out.data(), sk.data(), pk.data());
  if (all_zero(out.data(), out.size())) {
    return error{errc::bad_key, "X25519 public key of low order"};
  }
  return out;
}

bool is_acceptable_kx_pk(byte_view pk) noexcept {
  if (pk.size() != x25519_size) {
    return false;
  }
  // Every clamped scalar is 8 * m with 0 < m below both prime subgroup orders (curve and twist),
  // so [k]P is the identity for one clamped k exactly when it is for all of them: one
  // multiplication by a fixed scalar decides "low order" for every encoding, canonical or not.
  static constexpr std::array<std::uint8_t, x25519_size> probe = {
      0x48, 0x2a, 0x1b, 0x77, 0x31, 0x9c, 0x05, 0xe4, 0x6d, 0x12, 0xa9,
      0x3f, 0x80, 0x5e, 0xc4, 0x21, 0x9b, 0x07, 0xd3, 0x66, 0x4a, 0xf1,
      0x28, 0x5c, 0xb0, 0x13, 0x8e, 0x79, 0x2d, 0xe6, 0x35, 0x5a};
  std::array<std::uint8_t, x25519_size> out{};
  Botan::curve25519_donna(out.data(), probe.data(), pk.data());
  return !all_zero(out.data(), out.size());
}

}  // namespace sealcast::crypto
