#include "crypto/hash.hpp"

#include <botan/hash.h>

#include <memory>

namespace sealcast::crypto {
namespace {

// One hash object per thread: creating one means a registry lookup and an allocation, which
// matters when the broker computes thousands of ids per second. (At namespace scope rather than
// a function-local static: clang-analyzer misreads the latter as destroyed on return.)
thread_local std::unique_ptr<Botan::HashFunction> sha256_tls;

Botan::HashFunction& sha256_object() {
  if (!sha256_tls) {
    sha256_tls = Botan::HashFunction::create_or_throw("SHA-256");
  }
  return *sha256_tls;
}

}  // namespace

digest32 sha256(byte_view data) { return sha256({data}); }

digest32 sha256(std::initializer_list<byte_view> parts) {
  auto& h = sha256_object();
  for (auto p : parts) {
    h.update(p.data(), p.size());
  }
  digest32 out;
  h.final(out.data());  // final() also resets the object for the next caller on this thread
  return out;
}

}  // namespace sealcast::crypto
