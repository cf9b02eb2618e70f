#pragma once

// Shared by the fuzz targets: a check that is never compiled out (NDEBUG or not), so that an
// invariant the target asserts becomes a crash libFuzzer records with its input.

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace sealcast::fuzz {

[[noreturn]] inline void check_failed(const char* what, const char* file, int line, std::string_view detail) {
  std::fprintf(stderr, "%s:%d: fuzz check failed: %s\n", file, line, what);
  if (!detail.empty())
    std::fprintf(stderr, "  detail: %.*s\n", static_cast<int>(detail.size() > 2000 ? 2000 : detail.size()),
                 detail.data());
  std::abort();
}

}  // namespace sealcast::fuzz

/// Aborts (a crash for libFuzzer) when `cond` is false; `detail` is printed with it.
#define FUZZ_CHECK(cond, detail)                                                                         \
  do {                                                                                                   \
    if (!(cond)) ::sealcast::fuzz::check_failed(#cond, __FILE__, __LINE__, std::string_view(detail));    \
  } while (false)
