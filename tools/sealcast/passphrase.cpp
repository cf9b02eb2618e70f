// Passphrase input. The prompt goes to /dev/tty rather than stdin/stdout so that a chat driven
// through a pipe, or a command whose output is captured, still asks the person at the terminal.

#include "tools/sealcast/passphrase.hpp"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>

#include "tools/sealcast/cli.hpp"

namespace sealcast::cli {

namespace {

/// Closes a descriptor on scope exit.
struct fd_closer {
  int fd;
  ~fd_closer() {
    if (fd >= 0) ::close(fd);
  }
};

void put(int fd, std::string_view s) {
  while (!s.empty()) {
    const auto n = ::write(fd, s.data(), s.size());
    if (n <= 0) return;
    s.remove_prefix(static_cast<std::size_t>(n));
  }
}

/// One line from the terminal with echo off; the terminal's settings come back even on errors.
std::string prompt(int fd, std::string_view text) {
  put(fd, text);
  termios saved{};
  const bool have_termios = ::tcgetattr(fd, &saved) == 0;
  if (have_termios) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    ::tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  std::string line;
  char c = 0;
  while (line.size() < 4096) {
    const auto n = ::read(fd, &c, 1);
    if (n <= 0 || c == '\n' || c == '\r') break;
    line.push_back(c);
  }
  c = 0;
  if (have_termios) ::tcsetattr(fd, TCSAFLUSH, &saved);
  return line;
}

}  // namespace

void wipe(std::string& s) noexcept {
  volatile char* p = s.data();
  for (std::size_t i = 0; i < s.size(); ++i) p[i] = 0;
  s.clear();
}

std::string read_passphrase(const std::string& file, bool confirm) {
  if (const char* env = std::getenv("SEALCAST_PASSPHRASE")) return env;
  fd_closer tty{::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)};
  if (tty.fd < 0)
    throw failure{exit_identity, "no passphrase for " + file + ": set SEALCAST_PASSPHRASE or run on a terminal"};
  auto first = prompt(tty.fd, "passphrase for " + file + ": ");
  if (confirm) {
    if (first.empty()) throw failure{exit_identity, "an empty passphrase is not allowed"};
    auto second = prompt(tty.fd, "again: ");
    const bool same = first == second;
    wipe(second);
    if (!same) {
      wipe(first);
      throw failure{exit_identity, "the passphrases differ"};
    }
  }
  return first;
}

}  // namespace sealcast::cli
