#include "crypto/random.hpp"

#include <botan/system_rng.h>

#include "crypto/detail/botan_rng.hpp"

namespace sealcast::crypto {

// The kernel RNG rather than a user-space DRBG: it is thread-safe without locks of ours, needs no
// reseeding after fork, and a getrandom call is cheap next to the X25519 work around it.
Botan::RandomNumberGenerator& detail::rng() noexcept { return Botan::system_rng(); }

void fill_random(std::span<std::uint8_t> out) noexcept {
  if (!out.empty()) {
    detail::rng().randomize(out.data(), out.size());
  }
}

bytes random_bytes(std::size_t n) {
  bytes out(n);
  fill_random(out);
  return out;
}

id16 random_id() {
  id16 id;
  fill_random(id.b);
  return id;
}

secure_bytes random_secret(std::size_t n) {
  secure_bytes out(n);
  fill_random(out);
  return out;
}

}  // namespace sealcast::crypto
