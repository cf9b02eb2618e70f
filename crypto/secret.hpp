#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "common/error.hpp"

namespace sealcast::crypto {

/// Overwrites memory in a way the optimiser may not elide.
void secure_wipe(void* p, std::size_t n) noexcept;

/// Compares two byte strings in time that depends only on their lengths.
[[nodiscard]] bool ct_equal(byte_view a, byte_view b) noexcept;

/// An allocator that zeroes every block before giving it back, so secrets do not linger on the
/// heap after a vector grows, shrinks or dies.
template <class T>
struct wiping_allocator {
  using value_type = T;

  wiping_allocator() noexcept = default;
  template <class U>
  wiping_allocator(const wiping_allocator<U>& /*other*/) noexcept {}  // NOLINT: rebinding

  [[nodiscard]] T* allocate(std::size_t n) { return std::allocator<T>{}.allocate(n); }
  void deallocate(T* p, std::size_t n) noexcept {
    secure_wipe(p, n * sizeof(T));
    std::allocator<T>{}.deallocate(p, n);
  }

  template <class U>
  friend bool operator==(const wiping_allocator&, const wiping_allocator<U>&) noexcept {
    return true;
  }
};

/// A byte string holding secret material; wiped when its storage is released.
using secure_bytes = std::vector<std::uint8_t, wiping_allocator<std::uint8_t>>;

/// Copies bytes into a wiped container.
[[nodiscard]] inline secure_bytes to_secure(byte_view v) {
  return secure_bytes(v.begin(), v.end());
}

/// A fixed-size secret (key, seed, scalar) that wipes itself; Tag keeps kinds apart in the type
/// system so a group key cannot be passed where a signing seed is expected.
template <std::size_t N, class Tag>
class fixed_secret {
 public:
  static constexpr std::size_t size_bytes = N;

  fixed_secret() noexcept = default;
  fixed_secret(const fixed_secret&) noexcept = default;
  fixed_secret& operator=(const fixed_secret&) noexcept = default;
  ~fixed_secret() { secure_wipe(b_.data(), N); }

  /// Takes exactly N bytes; bad_length otherwise.
  [[nodiscard]] static result<fixed_secret> from_bytes(byte_view v) {
    if (v.size() != N) {
      return error{errc::bad_length, "secret must be " + std::to_string(N) + " bytes"};
    }
    fixed_secret s;
    std::copy(v.begin(), v.end(), s.b_.begin());
    return s;
  }

  /// Raw access, for filling the secret in place.
  [[nodiscard]] std::uint8_t* data() noexcept { return b_.data(); }
  /// Raw read access.
  [[nodiscard]] const std::uint8_t* data() const noexcept { return b_.data(); }
  /// Always N.
  [[nodiscard]] static constexpr std::size_t size() noexcept { return N; }
  /// A read-only view to pass to byte_view parameters.
  [[nodiscard]] byte_view view() const noexcept { return {b_.data(), N}; }
  /// A writable fixed-extent view, for outputs of key derivations.
  [[nodiscard]] std::span<std::uint8_t, N> span() noexcept {
    return std::span<std::uint8_t, N>(b_);
  }

  /// Constant-time equality, for tests and commitments.
  friend bool operator==(const fixed_secret& a, const fixed_secret& b) noexcept {
    return ct_equal(a.view(), b.view());
  }

 private:
  std::array<std::uint8_t, N> b_{};
};

/// The 32-byte group key K_e of one epoch (docs/protocol.md section 6).
using group_key = fixed_secret<32, struct group_key_tag>;
/// The 32-byte Ed25519 private seed (RFC 8032 section 5.1.5).
using sign_seed = fixed_secret<32, struct sign_seed_tag>;
/// A 32-byte X25519 private scalar, as given (clamping happens inside every X25519 use).
using kx_secret = fixed_secret<32, struct kx_secret_tag>;
/// A 32-byte AEAD key (aes-256-gcm, chacha20-poly1305, xchacha20-poly1305), e.g. a message key.
using aead_key = fixed_secret<32, struct aead_key_tag>;

}  // namespace sealcast::crypto
