#include "crypto/aead.hpp"

#include <botan/aead.h>

#include <array>
#include <memory>

#include "crypto/detail/aead_raw.hpp"

namespace sealcast::crypto {
namespace detail {
namespace {

const char* botan_name(cipher c) noexcept {
  switch (c) {
    case cipher::aes_128_gcm:
      return "AES-128/GCM";
    case cipher::aes_256_gcm:
      return "AES-256/GCM";
    case cipher::chacha20_poly1305:
      return "ChaCha20Poly1305";
  }
  return "";
}

// Cipher objects are reused per thread (creating one is a registry lookup plus allocations)
// and keyless between uses: the lease drops the key schedule when the operation ends.
struct mode_lease {
  Botan::AEAD_Mode& mode;

  mode_lease(cipher c, Botan::Cipher_Dir dir) : mode(get(c, dir)) {}
  mode_lease(const mode_lease&) = delete;
  mode_lease& operator=(const mode_lease&) = delete;
  ~mode_lease() { mode.clear(); }

  static Botan::AEAD_Mode& get(cipher c, Botan::Cipher_Dir dir) {
    thread_local std::array<std::array<std::unique_ptr<Botan::AEAD_Mode>, 2>, 3> cache;
    auto& slot = cache.at(static_cast<std::size_t>(c)).at(dir == Botan::ENCRYPTION ? 0 : 1);
    if (!slot) {
      slot = Botan::AEAD_Mode::create_or_throw(botan_name(c), dir);
    }
    return *slot;
  }
};

}  // namespace

bytes aead_seal(cipher c, byte_view key, byte_view nonce, byte_view aad, byte_view pt) {
  mode_lease l(c, Botan::ENCRYPTION);
  l.mode.set_key(key.data(), key.size());
  l.mode.set_associated_data(aad.data(), aad.size());
  l.mode.start(nonce.data(), nonce.size());
  Botan::secure_vector<std::uint8_t> buf(pt.begin(), pt.end());
  l.mode.finish(buf);
  return bytes(buf.begin(), buf.end());
}

result<secure_bytes> aead_open(cipher c, byte_view key, byte_view nonce, byte_view aad,
                               byte_view ct) {
  if (ct.size() < aead_tag_size) {
    return error{errc::decrypt_failed, "ciphertext shorter than its tag"};
  }
  mode_lease l(c, Botan::DECRYPTION);
  l.mode.set_key(key.data(), key.size());
  l.mode.set_associated_data(aad.data(), aad.size());
  l.mode.start(nonce.data(), nonce.size());
  Botan::secure_vector<std::uint8_t> buf(ct.begin(), ct.end());
  try {
    l.mode.finish(buf);
  } catch (const Botan::Invalid_Authentication_Tag&) {
    return error{errc::decrypt_failed, "ciphertext does not authenticate"};
  }
  return secure_bytes(buf.begin(), buf.end());
}

}  // namespace detail

namespace {

detail::cipher cipher_of(aead_alg alg) noexcept {
  return alg == aead_alg::aes_256_gcm ? detail::cipher::aes_256_gcm
                                      : detail::cipher::chacha20_poly1305;
}

status check_sizes(aead_alg alg, byte_view key, byte_view nonce) {
  const std::size_t n = nonce_size(alg);
  if (n == 0) {
    return error{errc::bad_request, "unknown AEAD algorithm"};
  }
  if (key.size() != aead_key_size) {
    return error{errc::bad_length, "AEAD key must be 32 bytes"};
  }
  if (nonce.size() != n) {
    return error{errc::bad_length,
                 std::string(to_string(alg)) + " nonce must be " + std::to_string(n) + " bytes"};
  }
  return {};
}

}  // namespace

std::string_view to_string(aead_alg alg) noexcept {
  switch (alg) {
    case aead_alg::aes_256_gcm:
      return "aes-256-gcm";
    case aead_alg::chacha20_poly1305:
      return "chacha20-poly1305";
    case aead_alg::xchacha20_poly1305:
      return "xchacha20-poly1305";
  }
  return "unknown";
}

result<aead_alg> parse_aead_alg(std::string_view name) {
  for (auto alg :
       {aead_alg::aes_256_gcm, aead_alg::chacha20_poly1305, aead_alg::xchacha20_poly1305}) {
    if (name == to_string(alg)) {
      return alg;
    }
  }
  return error{errc::bad_request, "unknown AEAD algorithm '" + std::string(name) + "'"};
}

result<aead_alg> aead_alg_from_id(std::uint8_t id) {
  if (id < 1 || id > 3) {
    return error{errc::bad_format, "unknown AEAD algorithm id " + std::to_string(id)};
  }
  return static_cast<aead_alg>(id);
}

std::size_t nonce_size(aead_alg alg) noexcept {
  switch (alg) {
    case aead_alg::aes_256_gcm:
    case aead_alg::chacha20_poly1305:
      return 12;
    case aead_alg::xchacha20_poly1305:
      return 24;
  }
  return 0;
}

result<bytes> aead_seal(aead_alg alg, byte_view key, byte_view nonce, byte_view aad, byte_view pt) {
  if (auto s = check_sizes(alg, key, nonce); !s) {
    return s.err();
  }
  try {
    return detail::aead_seal(cipher_of(alg), key, nonce, aad, pt);
  } catch (const std::exception& e) {
    return error{errc::internal, e.what()};
  }
}

result<secure_bytes> aead_open(aead_alg alg, byte_view key, byte_view nonce, byte_view aad,
                               byte_view ct) {
  if (auto s = check_sizes(alg, key, nonce); !s) {
    return s.err();
  }
  try {
    return detail::aead_open(cipher_of(alg), key, nonce, aad, ct);
  } catch (const std::exception& e) {
    return error{errc::internal, e.what()};
  }
}

}  // namespace sealcast::crypto
