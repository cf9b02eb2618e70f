#include "crypto/secret.hpp"

#include <botan/mem_ops.h>

namespace sealcast::crypto {

void secure_wipe(void* p, std::size_t n) noexcept {
  if (p != nullptr && n != 0) {
    Botan::secure_scrub_memory(p, n);
  }
}

bool ct_equal(byte_view a, byte_view b) noexcept {
  if (a.size() != b.size()) {
    return false;
  }
  return Botan::constant_time_compare(a.data(), b.data(), a.size());
}

}  // namespace sealcast::crypto
