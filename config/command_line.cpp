#include "config/command_line.hpp"

#include <CLI/CLI.hpp>

#include <array>

#include "config/loader.hpp"

#ifndef SEALCAST_VERSION
#define SEALCAST_VERSION "unknown"
#endif

namespace sealcast {
namespace {

constexpr std::array<std::string_view, 5> flags = {"--config", "--set", "--help", "-h",
                                                   "--version"};

error usage_error(std::string message) {
  return error{errc::config_error, std::move(message) + "; see --help"};
}

// CLI11's count errors, in our words: a flag without its value ("--config: 1 required TEXT
// missing", also for "--config=") or a value given to a flag that takes none ("help was given a
// disallowed flag override", which names the flag without its dashes).
std::string mismatch_message(std::string_view what, int argc, const char* const* argv) {
  if (what.starts_with("--config")) return "--config needs a FILE";
  if (what.starts_with("--set")) return "--set needs section.key=value";
  const std::string flag = what.starts_with("help") ? "--help" : "--version";
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.starts_with(flag + "=")) {
      return "unknown option '" + std::string{arg} + "'" + config_detail::did_you_mean(flag, flags);
    }
  }
  return std::string{what};
}

}  // namespace

result<command_line> parse_command_line(int argc, const char* const* argv) {
  // CLI11 reads the shape (`--flag value` and `--flag=value`, missing values, repeats); the
  // words of the errors stay ours, and --help prints usage() rather than CLI11's generated text.
  CLI::App app{"", "sealcastd"};
  app.set_help_flag();
  app.allow_extras();  // unknown flags and stray arguments are reported below, with a suggestion
  std::vector<std::string> config_paths;
  command_line cl;
  app.add_option("--config", config_paths)->allow_extra_args(false);
  app.add_option("--set", cl.overrides)->allow_extra_args(false);
  app.add_flag("-h,--help", cl.help)->disable_flag_override();
  app.add_flag("--version", cl.version)->disable_flag_override();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ArgumentMismatch& e) {
    return usage_error(mismatch_message(e.what(), argc, argv));
  } catch (const CLI::ParseError& e) {
    return usage_error(e.what());
  }
  if (const auto extras = app.remaining(); !extras.empty()) {
    const std::string_view arg = extras.front();
    if (!arg.starts_with("-")) return usage_error("unexpected argument '" + std::string{arg} + "'");
    return usage_error("unknown option '" + std::string{arg} + "'" +
                       config_detail::did_you_mean(arg.substr(0, arg.find('=')), flags));
  }
  if (config_paths.size() > 1) return usage_error("--config given twice");
  if (!config_paths.empty()) cl.config_path = std::move(config_paths.front());
  // Each --set is checked against the schema now, so a typo fails before anything starts; the
  // values go into the real configuration in load_config.
  config scratch;
  config_detail::origin_map scratch_origins;
  for (const auto& assignment : cl.overrides) {
    if (auto st = config_detail::override_into(scratch, assignment, scratch_origins); !st) return st.err();
  }
  return cl;
}

result<config> load_config(const command_line& cl) {
  config cfg;
  config_detail::origin_map origins;
  if (!cl.config_path.empty()) {
    if (auto st = config_detail::load_file_into(cfg, cl.config_path, origins); !st) {
      return st.err();
    }
  }
  for (const auto& assignment : cl.overrides) {
    if (auto st = config_detail::override_into(cfg, assignment, origins); !st) return st.err();
  }
  if (auto st = config_detail::check_rules(cfg, origins); !st) return st.err();
  return cfg;
}

std::string usage(std::string_view program) {
  std::string p{program};
  return "usage: " + p +
         " [--config FILE] [--set section.key=value ...]\n"
         "\n"
         "  --config FILE              read settings from a TOML file (default: built-in "
         "defaults)\n"
         "  --set section.key=value    override one setting; repeatable, applied after the file\n"
         "                             (lists: a,b,c or [\"a\", \"b\"])\n"
         "  -h, --help                 print this help and exit\n"
         "      --version              print the version and exit\n"
         "\n"
         "Every key, its default and its meaning are listed in config/sealcast.toml.\n";
}

std::string_view version() noexcept { return SEALCAST_VERSION; }

}  // namespace sealcast
