#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "common/bytes.hpp"
#include "common/error.hpp"
#include "crypto/secret.hpp"

namespace sealcast::crypto {

/// Size of X25519 scalars, public keys and shared secrets.
inline constexpr std::size_t x25519_size = 32;

/// An X25519 public key (a Montgomery u-coordinate).
using x25519_public = std::array<std::uint8_t, x25519_size>;
/// An X25519 shared secret.
using x25519_shared = fixed_secret<x25519_size, struct x25519_shared_tag>;

/// X25519(sk, 9): the public key of a 32-byte private scalar (clamped internally, RFC 7748).
[[nodiscard]] result<x25519_public> x25519_public_key(byte_view sk);

/// X25519(sk, pk) (RFC 7748 section 5). bad_length for wrong sizes; bad_key when the result is
/// all zeros, which only a low-order pk can cause and which every Sealcast use must refuse
/// (RFC 9180 section 7.1.4).
[[nodiscard]] result<x25519_shared> x25519(byte_view sk, byte_view pk);

/// False for public keys that give an all-zero shared secret with every private key (the
/// low-order points, in any encoding) and for wrong sizes. The broker refuses such a kx_pk at
/// hello.
[[nodiscard]] bool is_acceptable_kx_pk(byte_view pk) noexcept;

}  // namespace sealcast::crypto
