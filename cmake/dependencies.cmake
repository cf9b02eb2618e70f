# Every third-party dependency, found once, exposed as imported targets. All come from Debian
# bookworm packages (see scripts/install-deps.sh).
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)

find_package(Boost 1.81 REQUIRED CONFIG COMPONENTS json url)
find_package(OpenSSL REQUIRED)
pkg_check_modules(BOTAN REQUIRED IMPORTED_TARGET botan-2)
find_package(RocksDB REQUIRED CONFIG)
find_package(tomlplusplus REQUIRED CONFIG)
# Header-only: the command lines of sealcastd, sealcastctl and sealcast.
find_package(CLI11 REQUIRED CONFIG)
# The log writer behind common/log.hpp (Debian builds it as a shared library, on the shared fmt).
find_package(spdlog REQUIRED CONFIG)

# The NATS C client (cnats 3.4.1) behind cluster/. Found through libnats.pc: the CMake package
# that libnats-dev ships names /usr/lib/x86_64-linux-gnu/libprotobuf-c.so in its link interface,
# a file only libprotobuf-c-dev installs, which libnats-dev does not depend on.
pkg_check_modules(NATS REQUIRED IMPORTED_TARGET libnats)

# CAF 0.17 from Debian ships no CMake package: find its libraries and headers directly.
find_path(CAF_INCLUDE_DIR caf/all.hpp REQUIRED)
find_library(CAF_CORE_LIBRARY caf_core REQUIRED)
find_library(CAF_IO_LIBRARY caf_io REQUIRED)
add_library(caf::core UNKNOWN IMPORTED)
set_target_properties(caf::core PROPERTIES
  IMPORTED_LOCATION ${CAF_CORE_LIBRARY}
  INTERFACE_INCLUDE_DIRECTORIES ${CAF_INCLUDE_DIR}
  INTERFACE_LINK_LIBRARIES Threads::Threads)
add_library(caf::io UNKNOWN IMPORTED)
set_target_properties(caf::io PROPERTIES
  IMPORTED_LOCATION ${CAF_IO_LIBRARY}
  INTERFACE_LINK_LIBRARIES caf::core)

if(SEALCAST_TESTS)
  find_package(Catch2 3 REQUIRED CONFIG)
  include(Catch)
endif()
