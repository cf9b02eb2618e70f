#pragma once

// The storage writer's test hook (actors/storage_writer.hpp): a broker started with
// SEALCAST_TEST_FAIL_WRITES=<kind>[,<count>] fails the write batches that store a row of that
// kind, as if the disk had refused them.

#include <cstdlib>
#include <string>

#include "tests/integration/fixtures.hpp"

namespace sealcast::test {

inline constexpr const char* fail_writes_variable = "SEALCAST_TEST_FAIL_WRITES";

/// Restarts the broker on its data with the hook set to `spec` (the variable is read once, at
/// start, so it is set only around the start).
inline void restart_failing_writes(broker_fixture& f, const std::string& spec) {
  ::setenv(fail_writes_variable, spec.c_str(), 1);
  try {
    f.restart();
  } catch (...) {
    ::unsetenv(fail_writes_variable);
    throw;
  }
  ::unsetenv(fail_writes_variable);
  INFO(f.broker->log());
  REQUIRE(f.broker->log().find("TEST HOOK ACTIVE") != std::string::npos);
}

/// Restarts the broker on its data without the hook.
inline void restart_honest(broker_fixture& f) {
  ::unsetenv(fail_writes_variable);
  f.restart();
  REQUIRE(f.broker->log().find("TEST HOOK ACTIVE") == std::string::npos);
}

/// Logs `c` in again after a restart, dropping what it had buffered from the old broker.
inline void relogin(test_client& c, const broker_fixture& f, const std::string& name) {
  c.clear_buffer();
  c.login(f.port(), name);
  settle(c);
}

}  // namespace sealcast::test
