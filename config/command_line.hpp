#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "config/config.hpp"

namespace sealcast {

/// sealcastd's command line: `[--config FILE] [--set section.key=value ...] [--help] [--version]`.
struct command_line {
  std::string config_path;             ///< empty: run on the built-in defaults
  std::vector<std::string> overrides;  ///< "section.key=value", in the order given
  bool help = false;                   ///< --help / -h: print usage() and exit
  bool version = false;                ///< --version: print version() and exit
};

/// Parses the flags; each --set is checked against the schema (key, type, range) at once.
/// Unknown flags and stray arguments are errors.
[[nodiscard]] result<command_line> parse_command_line(int argc, const char* const* argv);

/// The configuration the command line asks for: the file (or the defaults), then every
/// --set in order, then the rules that span keys.
[[nodiscard]] result<config> load_config(const command_line& cl);

/// The --help text for `program`.
[[nodiscard]] std::string usage(std::string_view program);

/// Sealcast's version, e.g. "0.1.0".
[[nodiscard]] std::string_view version() noexcept;

}  // namespace sealcast
