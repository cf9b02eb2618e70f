#include "tools/sealcast/terminal.hpp"

#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <cstdlib>

#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/asio_nothrow.hpp"

namespace sealcast::cli {

namespace asio = boost::asio;

namespace {

/// Longest input line kept; the rest of a longer line is dropped.
constexpr std::size_t max_line = 64 * 1024;

// The terminal settings to restore, also from atexit (a failure path that skips destructors).
termios saved_termios{};
bool termios_changed = false;

void restore_termios() noexcept {
  if (termios_changed) {
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_termios);
    termios_changed = false;
  }
}

/// Descriptors epoll can watch: a terminal, a pipe, a socket. Regular files and /dev/null are read
/// directly (they never block).
bool pollable(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return false;
  return ::isatty(fd) || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode);
}

}  // namespace

terminal::terminal(asio::any_io_executor ex) {
  if (pollable(STDIN_FILENO)) {
    const int fd = ::dup(STDIN_FILENO);
    if (fd >= 0) {
      input_ = std::make_unique<asio::posix::stream_descriptor>(ex);
      boost::system::error_code ec;
      input_->assign(fd, ec);
      if (ec) {
        ::close(fd);
        input_.reset();
      }
    }
  }
  if (::isatty(STDIN_FILENO) && ::isatty(STDOUT_FILENO) && ::tcgetattr(STDIN_FILENO, &saved_termios) == 0) {
    termios raw = saved_termios;
    // No canonical mode and no echo: keys come one by one and are drawn by us. ISIG off too:
    // Ctrl-C and Ctrl-Z arrive as keys, so the terminal is never left in raw mode by a stop.
    raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO | IEXTEN | ISIG);
    raw.c_iflag &= ~static_cast<tcflag_t>(IXON);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    if (::tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) == 0) {
      raw_ = true;
      termios_changed = true;
      static const bool registered = [] { return std::atexit(restore_termios) == 0; }();
      (void)registered;
    }
  }
}

terminal::~terminal() {
  if (raw_) write_out("\r\x1b[K");
  restore_termios();
}

void terminal::write_out(std::string_view s) {
  while (!s.empty()) {
    const auto n = ::write(STDOUT_FILENO, s.data(), s.size());
    if (n <= 0) return;
    s.remove_prefix(static_cast<std::size_t>(n));
  }
}

void terminal::redraw() {
  if (raw_) write_out("\r\x1b[K" + prompt_ + buffer_);
}

void terminal::set_prompt(std::string prompt) {
  prompt_ = std::move(prompt);
  redraw();
}

void terminal::print(std::string_view line) {
  if (!raw_) {
    std::string out(line);
    out += '\n';
    write_out(out);
    return;
  }
  std::string out = "\r\x1b[K";
  out += line;
  out += "\r\n";
  out += prompt_;
  out += buffer_;
  write_out(out);
}

void terminal::close() {
  eof_ = true;
  if (input_) {
    boost::system::error_code ec;
    input_->cancel(ec);
  }
}

void terminal::feed(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  if (!raw_) {
    if (c == '\n') {
      if (!buffer_.empty() && buffer_.back() == '\r') buffer_.pop_back();
      lines_.push_back(std::move(buffer_));
      buffer_.clear();
    } else if (buffer_.size() < max_line) {
      buffer_.push_back(ch);
    }
    return;
  }
  if (escape_ == 1) {  // ESC seen: a CSI or SS3 sequence (arrow keys, ...) follows, or Alt+key
    escape_ = (c == '[' || c == 'O') ? 2 : 0;
    return;
  }
  if (escape_ == 2) {  // parameters until the final byte
    if (c >= 0x40 && c <= 0x7e) escape_ = 0;
    return;
  }
  switch (c) {
    case '\r':
    case '\n':
      lines_.push_back(std::move(buffer_));
      buffer_.clear();
      redraw();
      return;
    case 0x7f:
    case 0x08:  // backspace: one whole UTF-8 character
      while (!buffer_.empty() && (static_cast<unsigned char>(buffer_.back()) & 0xc0) == 0x80) buffer_.pop_back();
      if (!buffer_.empty()) buffer_.pop_back();
      redraw();
      return;
    case 0x15:  // Ctrl-U: the whole line
      buffer_.clear();
      redraw();
      return;
    case 0x17:  // Ctrl-W: the previous word
      while (!buffer_.empty() && buffer_.back() == ' ') buffer_.pop_back();
      while (!buffer_.empty() && buffer_.back() != ' ') buffer_.pop_back();
      redraw();
      return;
    case 0x0c:  // Ctrl-L: clear the screen
      write_out("\x1b[H\x1b[2J");
      redraw();
      return;
    case 0x03:  // Ctrl-C
      eof_ = true;
      return;
    case 0x04:  // Ctrl-D on an empty line
      if (buffer_.empty()) eof_ = true;
      return;
    case 0x1b:
      escape_ = 1;
      return;
    default:
      break;
  }
  if (c < 0x20 || buffer_.size() >= max_line) return;
  buffer_.push_back(ch);
  write_out(std::string_view(&ch, 1));
}

asio::awaitable<std::optional<std::string>> terminal::read_line() {
  std::array<char, 4096> chunk{};
  for (;;) {
    if (!lines_.empty()) {
      auto line = std::move(lines_.front());
      lines_.pop_front();
      co_return line;
    }
    if (eof_) {
      // A last line without a newline still counts when reading from a pipe or file.
      if (!raw_ && !buffer_.empty()) {
        auto line = std::move(buffer_);
        buffer_.clear();
        co_return line;
      }
      co_return std::nullopt;
    }
    std::size_t n = 0;
    if (input_) {
      auto [ec, got] = co_await input_->async_read_some(asio::buffer(chunk), use_nothrow);
      if (ec) eof_ = true;
      n = got;
    } else {
      const auto got = ::read(STDIN_FILENO, chunk.data(), chunk.size());
      if (got <= 0) eof_ = true;
      n = got > 0 ? static_cast<std::size_t>(got) : 0;
    }
    for (std::size_t i = 0; i < n && !(raw_ && eof_); ++i) feed(chunk[i]);
  }
}

}  // namespace sealcast::cli
