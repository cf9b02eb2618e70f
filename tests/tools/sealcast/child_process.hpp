#pragma once

// A program run as a child with pipes on stdin, stdout and stderr that the test reads while it
// runs (for `sealcast listen` and `sealcast chat`), and then signals or waits for.

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace sealcast::test {

class child_process {
 public:
  /// Starts `program` with `args`; `env` entries are set on top of the test's environment. The
  /// child gets its own session (no controlling terminal), so nothing can prompt on a tty.
  child_process(const std::string& program, const std::vector<std::string>& args,
                const std::map<std::string, std::string>& env = {});
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  /// Writes to the child's stdin.
  void write(std::string_view text);
  /// Closes the child's stdin (end of input).
  void close_stdin();
  /// Waits until stdout contains `needle` (counting from `from`); false on timeout or exit.
  bool wait_out(std::string_view needle, std::chrono::milliseconds timeout = std::chrono::seconds(20),
                std::size_t from = 0);
  /// Same for stderr.
  bool wait_err(std::string_view needle, std::chrono::milliseconds timeout = std::chrono::seconds(20),
                std::size_t from = 0);
  /// Everything read from stdout / stderr so far.
  [[nodiscard]] const std::string& out();
  [[nodiscard]] const std::string& err();
  /// Waits for the exit (killing the child after `timeout`); returns the exit code, 128 + signal
  /// when it died of a signal, -1 when it had to be killed.
  int wait(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  /// Sends a signal, then wait().
  int stop(int signal_number, std::chrono::milliseconds timeout = std::chrono::seconds(20));

 private:
  void pump(std::chrono::milliseconds timeout);
  bool wait_for(const std::string& stream, std::string_view needle, std::chrono::milliseconds timeout,
                std::size_t from);

  int pid_ = -1;
  int in_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  int status_ = -1;
  bool exited_ = false;
  std::string out_;
  std::string err_;
};

/// A finished run: exit code and everything written.
struct cli_result {
  int code = -1;
  std::string out;
  std::string err;
};

/// Runs a program to completion with `input` on stdin.
[[nodiscard]] cli_result run_cli(const std::string& program, const std::vector<std::string>& args,
                                 const std::map<std::string, std::string>& env = {}, std::string_view input = {},
                                 std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace sealcast::test
