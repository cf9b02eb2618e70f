# SEALCAST_FUZZ: the libFuzzer targets of fuzz/ (see fuzz/README.md). Every Sealcast library is
# compiled with coverage instrumentation, AddressSanitizer and UndefinedBehaviorSanitizer, so the
# fuzzers see and check the real code; any finding aborts. Clang only: the `fuzz` preset uses
# Debian's clang++-14 (packages clang-14 and libclang-rt-14-dev, which has libFuzzer).
#
# Included from the top-level CMakeLists.txt after the dependencies are found and before any
# Sealcast target is defined.

if(NOT SEALCAST_FUZZ)
  return()
endif()

if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "SEALCAST_FUZZ needs clang with libFuzzer (cmake --preset fuzz uses clang++-14), "
                      "not ${CMAKE_CXX_COMPILER_ID}")
endif()

include(CheckCXXSourceCompiles)
set(CMAKE_REQUIRED_FLAGS "-fsanitize=fuzzer,address,undefined")
check_cxx_source_compiles([[
  #include <cstddef>
  #include <cstdint>
  extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t*, std::size_t) { return 0; }
]] SEALCAST_HAVE_LIBFUZZER)
unset(CMAKE_REQUIRED_FLAGS)
if(NOT SEALCAST_HAVE_LIBFUZZER)
  message(FATAL_ERROR "clang cannot link -fsanitize=fuzzer: install libclang-rt-14-dev (scripts/install-deps.sh)")
endif()

# Instrument everything built from here on, third-party code compiled in this tree included
# (Asio and Beast's HTTP parser in sealcast_asio, Boost.JSON's parser in the protocol codec).
# Without -fsanitize=function: clang 14 cannot emit its prologue data for coroutines ("Cannot
# represent a difference across sections" in every co_await file of broker/ and client/).
add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
                    -fno-sanitize=function)
add_link_options(-fsanitize=address,undefined)

# toml++ stays Debian's shared library, as in the broker, and is not instrumented: the toml++
# 3.3.0 headers reach __builtin_unreachable() for some non-ASCII characters after a value
# (upstream marzer/tomlplusplus#295, fixed by #305) and assert a precondition that `[=` breaks
# (#301). Debian's GCC build with NDEBUG answers both with an ordinary parse error, and the
# config fuzzer checks that build, not a header-only one that aborts there. See fuzz/README.md.
