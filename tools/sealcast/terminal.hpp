#pragma once

// The chat's terminal: a small raw-mode line editor that lets incoming messages appear above the
// line being typed, or plain line reading when standard input is not a terminal (a pipe, a file),
// so that scripts and tests can drive the chat.

#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

namespace sealcast::cli {

class terminal {
 public:
  /// Raw mode when both standard input and output are terminals; restored on destruction.
  explicit terminal(boost::asio::any_io_executor ex);
  ~terminal();
  terminal(const terminal&) = delete;
  terminal& operator=(const terminal&) = delete;

  /// Whether the line editor is active (a prompt is shown).
  [[nodiscard]] bool interactive() const noexcept { return raw_; }
  /// Sets the prompt and redraws the input line.
  void set_prompt(std::string prompt);
  /// Prints a line above the input line: the prompt and what was typed so far stay intact.
  void print(std::string_view line);
  /// The next complete input line; nullopt at end of input, on Ctrl-C / Ctrl-D, or after close().
  boost::asio::awaitable<std::optional<std::string>> read_line();
  /// Ends read_line().
  void close();

 private:
  void feed(char c);
  void redraw();
  void write_out(std::string_view s);

  std::unique_ptr<boost::asio::posix::stream_descriptor> input_;
  bool raw_ = false;
  bool eof_ = false;
  std::string prompt_;
  std::string buffer_;  ///< the line being typed (or the partial line read from a pipe)
  std::deque<std::string> lines_;
  int escape_ = 0;  ///< 0 none, 1 after ESC, 2 inside a CSI/SS3 sequence
};

}  // namespace sealcast::cli
