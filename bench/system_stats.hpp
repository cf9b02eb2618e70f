#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

// What the bench reads from the operating system: a process's resident memory, the load of the
// machine it shares, and the descriptor limit it needs for many connections.

namespace sealcast::bench {

/// VmRSS of a process in bytes, from /proc/<pid>/status; nullopt if it cannot be read.
[[nodiscard]] std::optional<std::uint64_t> rss_bytes(int pid);

/// The three load averages of /proc/loadavg ("0.52 0.61 0.70"), or "" when unreadable.
[[nodiscard]] std::string load_average();

/// CPU seconds (user + system) a process has used, from /proc/<pid>/stat; nullopt if unreadable.
[[nodiscard]] std::optional<double> cpu_seconds(int pid);

/// What the scheduler says about one thread: time on a CPU, and time it was ready to run but
/// waited for one (the run queue), from /proc/<pid>/task/<tid>/schedstat.
struct thread_sched {
  int tid = 0;
  double cpu_s = 0;
  double wait_s = 0;
};

/// Every thread of a process; empty if the kernel keeps no schedstat or the process is gone.
[[nodiscard]] std::vector<thread_sched> sched_threads(int pid);

/// CPUs this process may run on (its affinity mask, e.g. one under `taskset -c 1`); at least 1.
[[nodiscard]] unsigned usable_cpus();

/// Raises RLIMIT_NOFILE's soft limit to the hard limit; returns the resulting soft limit.
std::uint64_t raise_fd_limit();

}  // namespace sealcast::bench
