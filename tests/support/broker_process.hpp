#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/temp_dir.hpp"

namespace sealcast::test {

/// The [cluster] keys of one node, with the short timings the cluster tests use (a 2 s lease
/// keeps a takeover within seconds).
struct cluster_settings {
  std::string nats;  ///< comma-separated NATS URLs
  std::string node;  ///< this node's name
  std::uint32_t partitions = 64;
  std::uint32_t lease_ms = 2000;
  std::uint32_t lease_margin_ms = 500;
  std::uint32_t heartbeat_ms = 250;
  std::uint32_t replicas = 3;
};

/// The `--set cluster.*` arguments for broker_process's `extra_args`.
[[nodiscard]] std::vector<std::string> cluster_args(const cluster_settings& c);

/// A real sealcastd process on free loopback ports (port 0, read back from its ready line) with
/// its data in a directory the caller owns, so that a test can kill and restart it on the same data.
class broker_process {
 public:
  /// Starts `build/bin/sealcastd` with `--set broker.data_dir=<data_dir>`, both listeners on
  /// 127.0.0.1:0, plus `extra_args`; waits for the ready line (fails the test on timeout).
  explicit broker_process(std::filesystem::path data_dir, std::vector<std::string> extra_args = {},
                          std::chrono::milliseconds ready_timeout = std::chrono::seconds(20));
  ~broker_process();
  broker_process(const broker_process&) = delete;
  broker_process& operator=(const broker_process&) = delete;

  [[nodiscard]] int pid() const { return pid_; }
  [[nodiscard]] unsigned short client_port() const { return client_port_; }
  [[nodiscard]] unsigned short admin_port() const { return admin_port_; }
  [[nodiscard]] const std::string& broker_id() const { return broker_id_; }
  [[nodiscard]] const std::string& ready_line() const { return ready_line_; }

  /// Sends a signal and waits for the exit; returns the exit status as from waitpid
  /// (use WIFEXITED/WEXITSTATUS/WIFSIGNALED on it).
  int stop(int signal_number, std::chrono::milliseconds timeout = std::chrono::seconds(20));
  /// kill -9, as a crash.
  int kill_hard() { return stop(9); }
  /// Sends a signal without waiting (SIGSTOP, SIGCONT).
  void signal(int signal_number) const;
  /// Everything the process wrote to stderr so far (its log).
  [[nodiscard]] std::string log() const;

 private:
  int pid_ = -1;
  int stdout_fd_ = -1;
  unsigned short client_port_ = 0;
  unsigned short admin_port_ = 0;
  std::string broker_id_;
  std::string ready_line_;
  std::filesystem::path log_path_;
};

/// Runs a program to completion with the given arguments; returns exit status, stdout and stderr.
struct run_result {
  int exit_code = -1;
  std::string out;
  std::string err;
};
[[nodiscard]] run_result run_program(const std::string& program, const std::vector<std::string>& args,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(30));

/// Path of a built program in build/bin.
[[nodiscard]] std::string bin_path(const std::string& name);

}  // namespace sealcast::test
