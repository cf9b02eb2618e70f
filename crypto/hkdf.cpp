#include "crypto/hkdf.hpp"

#include <botan/mac.h>

#include <algorithm>
#include <array>
#include <memory>

#include "crypto/detail/kdf.hpp"
#include "crypto/hash.hpp"

namespace sealcast::crypto {
namespace detail {
namespace {

// One HMAC object per thread: HPKE runs six HMAC keys per wrap and the broker wraps to a
// thousand members per rotation, so object creation would otherwise dominate the non-curve cost.
// (At namespace scope: clang-analyzer misreads a function-local one as destroyed on return.)
thread_local std::unique_ptr<Botan::MessageAuthenticationCode> hmac_tls;

Botan::MessageAuthenticationCode& hmac_object() {
  if (!hmac_tls) {
    hmac_tls = Botan::MessageAuthenticationCode::create_or_throw("HMAC(SHA-256)");
  }
  return *hmac_tls;
}

// Drops the key from the thread's HMAC object when an operation ends, even by exception.
struct hmac_lease {
  Botan::MessageAuthenticationCode& mac = hmac_object();
  hmac_lease() = default;
  hmac_lease(const hmac_lease&) = delete;
  hmac_lease& operator=(const hmac_lease&) = delete;
  ~hmac_lease() { mac.clear(); }
};

// HMAC replaces keys longer than its block by their hash (RFC 2104); doing it here keeps Botan's
// own 4096-byte key limit, and its exception, out of reach of long salts.
void set_hmac_key(Botan::MessageAuthenticationCode& mac, byte_view key) {
  constexpr std::size_t block_size = 64;
  if (key.size() > block_size) {
    digest32 k = sha256(key);
    mac.set_key(k.data(), k.size());
    secure_wipe(k.data(), k.size());
  } else {
    mac.set_key(key.data(), key.size());
  }
}

}  // namespace

void hkdf_extract(std::span<std::uint8_t, 32> prk, byte_view salt, byte_parts ikm) {
  static constexpr std::array<std::uint8_t, hkdf_hash_size> zero_salt{};
  hmac_lease h;
  if (salt.empty()) {
    salt = zero_salt;  // RFC 5869: "if not provided, it is set to a string of HashLen zeros"
  }
  set_hmac_key(h.mac, salt);
  for (auto p : ikm) {
    h.mac.update(p.data(), p.size());
  }
  h.mac.final(prk.data());
}

void hkdf_expand(std::span<std::uint8_t> out, byte_view prk, byte_parts info) {
  hmac_lease h;
  set_hmac_key(h.mac, prk);
  std::array<std::uint8_t, hkdf_hash_size> t{};
  std::size_t done = 0;
  for (std::uint8_t counter = 1; done < out.size(); ++counter) {
    if (counter > 1) {
      h.mac.update(t.data(), t.size());
    }
    for (auto p : info) {
      h.mac.update(p.data(), p.size());
    }
    h.mac.update(counter);
    h.mac.final(t.data());
    const std::size_t n = std::min(t.size(), out.size() - done);
    std::copy_n(t.begin(), n, out.begin() + static_cast<std::ptrdiff_t>(done));
    done += n;
  }
  secure_wipe(t.data(), t.size());
}

void hmac_sha256(std::span<std::uint8_t, 32> out, byte_view key, byte_parts data) {
  hmac_lease h;
  set_hmac_key(h.mac, key);
  for (auto p : data) {
    h.mac.update(p.data(), p.size());
  }
  h.mac.final(out.data());
}

}  // namespace detail

secure_bytes hkdf_extract(byte_view salt, byte_view ikm) {
  secure_bytes prk(hkdf_hash_size);
  detail::hkdf_extract(std::span<std::uint8_t, 32>(prk.data(), 32), salt, {ikm});
  return prk;
}

result<secure_bytes> hkdf_expand(byte_view prk, byte_view info, std::size_t length) {
  if (length > hkdf_max_length) {
    return error{errc::bad_length, "HKDF output longer than 255 blocks"};
  }
  if (prk.size() < hkdf_hash_size) {
    return error{errc::bad_length, "HKDF pseudorandom key shorter than the hash"};
  }
  secure_bytes out(length);
  detail::hkdf_expand(out, prk, {info});
  return out;
}

result<secure_bytes> hkdf(byte_view ikm, byte_view salt, byte_view info, std::size_t length) {
  if (length > hkdf_max_length) {
    return error{errc::bad_length, "HKDF output longer than 255 blocks"};
  }
  std::array<std::uint8_t, hkdf_hash_size> prk{};
  detail::hkdf_extract(prk, salt, {ikm});
  secure_bytes out(length);
  detail::hkdf_expand(out, prk, {info});
  secure_wipe(prk.data(), prk.size());
  return out;
}

}  // namespace sealcast::crypto
