#pragma once

// Shared pieces of the sealcast chat client: parsed arguments, exit codes, and the error type
// that unwinds a command to main() with its exit code.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace sealcast::cli {

/// Exit codes (also in the usage text).
inline constexpr int exit_ok = 0;
inline constexpr int exit_broker = 1;       ///< the broker refused a request (code + message printed)
inline constexpr int exit_usage = 2;        ///< bad command line
inline constexpr int exit_unreachable = 3;  ///< no connection to the broker, or it went away
inline constexpr int exit_identity = 4;     ///< identity or state file: wrong passphrase, unreadable, foreign
inline constexpr int exit_unknown = 5;      ///< a group or user name that is unknown or ambiguous

/// A failure that ends the command with `code`; `message` is printed after "sealcast: ".
struct failure {
  int code = exit_broker;
  std::string message;
};

/// The command line, options and operands apart.
struct arguments {
  std::string command;
  std::vector<std::string> operands;
  std::string url = "ws://127.0.0.1:7800/ws";
  std::string identity;  ///< --identity, else $SEALCAST_IDENTITY
  std::string state;     ///< --state, else IDENTITY.state
  bool no_state = false;
  std::optional<std::string> name;  ///< --name, else $SEALCAST_NAME, else the identity file's stem
  std::string out;                  ///< keygen --out
  std::vector<std::string> members;  ///< create-group --member
  bool open = false;
  std::string custody = "broker";
  bool json = false;
  bool help = false;
  std::chrono::seconds timeout{10};
  std::string cacert;
  bool insecure = false;
};

/// Parses argv; options may come before or after the command. Throws failure{exit_usage}.
[[nodiscard]] arguments parse_arguments(int argc, char** argv);

/// The usage text.
[[nodiscard]] const char* usage_text() noexcept;

/// The failure for a library error while doing `what`: broker codes exit 1 with "code: message",
/// lost connections exit 3, identity and state file problems exit 4.
[[nodiscard]] failure to_failure(const error& e, const std::string& what);

/// Unwraps a result or throws to_failure(err, what).
template <class T>
T must(result<T> r, const std::string& what) {
  if (!r) throw to_failure(r.err(), what);
  return std::move(r).value();
}

/// Throws to_failure(err, what) on a failed status.
inline void must(const status& s, const std::string& what) {
  if (!s) throw to_failure(s.err(), what);
}

}  // namespace sealcast::cli
