#pragma once

#include <cstdint>
#include <optional>
#include <string>

// What the bench reads from the operating system: a process's resident memory, the load of the
// machine it shares, and the descriptor limit it needs for many connections.

namespace sealcast::bench {

/// VmRSS of a process in bytes, from /proc/<pid>/status; nullopt if it cannot be read.
[[nodiscard]] std::optional<std::uint64_t> rss_bytes(int pid);

/// The three load averages of /proc/loadavg ("0.52 0.61 0.70"), or "" when unreadable.
[[nodiscard]] std::string load_average();

/// CPU seconds (user + system) a process has used, from /proc/<pid>/stat; nullopt if unreadable.
[[nodiscard]] std::optional<double> cpu_seconds(int pid);

/// Raises RLIMIT_NOFILE's soft limit to the hard limit; returns the resulting soft limit.
std::uint64_t raise_fd_limit();

}  // namespace sealcast::bench
