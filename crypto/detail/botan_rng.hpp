#pragma once
// Private to crypto/*.cpp: the one RNG every Botan call draws from.

#include <botan/rng.h>

namespace sealcast::crypto::detail {

/// The process-wide RNG (the operating system's), safe to use from any thread.
[[nodiscard]] Botan::RandomNumberGenerator& rng() noexcept;

}  // namespace sealcast::crypto::detail
