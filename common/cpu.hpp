#pragma once

// How many CPUs this process may run on: the size of its affinity mask (taskset, cgroups' cpuset),
// not the machine's core count, so that a broker pinned to one core starts one worker and one io
// shard instead of several threads fighting for that core.

#include <sched.h>

#include <thread>

namespace sealcast {

[[nodiscard]] inline unsigned usable_cpus() noexcept {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return static_cast<unsigned>(n);
  }
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : hw;
}

}  // namespace sealcast
