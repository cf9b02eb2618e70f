#include "config/command_line.hpp"

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

}  // namespace

result<command_line> parse_command_line(int argc, const char* const* argv) {
  command_line cl;
  bool have_config = false;
  config scratch;  // --set values are checked here now and applied to the real config later
  config_detail::origin_map scratch_origins;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    // "--flag=value" and "--flag value" are both accepted for the two flags that take one.
    std::string_view flag = arg;
    std::string_view inline_value;
    bool has_inline = false;
    if (arg.starts_with("--")) {
      if (auto eq = arg.find('='); eq != std::string_view::npos) {
        flag = arg.substr(0, eq);
        inline_value = arg.substr(eq + 1);
        has_inline = true;
      }
    }
    auto take_value = [&](std::string_view what) -> result<std::string> {
      if (has_inline) return std::string{inline_value};
      if (i + 1 >= argc) return usage_error(std::string{flag} + " needs " + std::string{what});
      return std::string{argv[++i]};
    };
    if (flag == "--config") {
      auto file = take_value("a FILE");
      if (!file) return std::move(file).err();
      if (file->empty()) return usage_error("--config needs a FILE");
      if (have_config) return usage_error("--config given twice");
      have_config = true;
      cl.config_path = std::move(*file);
    } else if (flag == "--set") {
      auto assignment = take_value("section.key=value");
      if (!assignment) return std::move(assignment).err();
      if (auto st = config_detail::override_into(scratch, *assignment, scratch_origins); !st) {
        return st.err();
      }
      cl.overrides.push_back(std::move(*assignment));
    } else if ((flag == "--help" || flag == "-h") && !has_inline) {
      cl.help = true;
    } else if (flag == "--version" && !has_inline) {
      cl.version = true;
    } else if (arg.starts_with("-")) {
      return usage_error("unknown option '" + std::string{arg} + "'" +
                         config_detail::did_you_mean(flag, flags));
    } else {
      return usage_error("unexpected argument '" + std::string{arg} + "'");
    }
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
