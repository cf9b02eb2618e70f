// libFuzzer target: the configuration loader (config/load.cpp, override.cpp, validate.cpp), i.e.
// what sealcastd does with `--config FILE` and `--set section.key=value` before it starts.
//
// Input: the TOML text, then optionally a NUL byte and `--set` assignments separated by NUL
// bytes ("[pubsub]\nmax_members = 5\0gateway.listen=127.0.0.1:0\0log.level=debug").
//
// Beyond "no crash, no leak, no UB, no exception escaping", it checks:
// - a configuration that loads also passes validate() (what a program that builds one in code
//   relies on) and can be described;
// - the file path and the command-line path agree: parse_config + apply_override + validate
//   accepts what load_config(command_line) accepts, with the same result;
// - every key of a loaded configuration written back as TOML (schema to_toml) reads back to the
//   same configuration.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/command_line.hpp"
#include "config/config.hpp"
#include "config/loader.hpp"
#include "config/schema.hpp"
#include "fuzz/fuzz_check.hpp"

using namespace sealcast;

namespace {

constexpr std::size_t max_overrides = 16;

std::string message_of(const status& s) { return s ? std::string() : s.err().message; }

// The configuration as a TOML file: every key of every section, values by the schema's to_toml.
std::string as_toml(const config& cfg) {
  std::string out;
  for (const auto& section : config_sections()) {
    out += "[";
    out += section.name;
    out += "]\n";
    for (const auto& key : config_schema()) {
      if (key.section != section.name) continue;
      out += key.name;
      out += " = ";
      out += to_toml(key.get(cfg));
      out += "\n";
    }
  }
  return out;
}

void check_loaded(const config& cfg) {
  auto valid = validate(cfg);
  FUZZ_CHECK(valid.ok(), message_of(valid));
  (void)describe(cfg);
  (void)parse_endpoint(cfg.gateway.listen);
  (void)parse_endpoint(cfg.admin.listen);
  const std::string text = as_toml(cfg);
  auto back = parse_config(text, "written.toml");
  FUZZ_CHECK(back.ok(), text + "\n-> " + (back ? std::string() : back.err().message));
  FUZZ_CHECK(*back == cfg, text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto nul = input.find('\0');
  const std::string_view toml = input.substr(0, nul);
  std::vector<std::string> overrides;
  if (nul != std::string_view::npos) {
    std::string_view rest = input.substr(nul + 1);
    while (overrides.size() < max_overrides) {
      const auto next = rest.find('\0');
      overrides.emplace_back(rest.substr(0, next));
      if (next == std::string_view::npos) break;
      rest.remove_prefix(next + 1);
    }
  }

  // The file alone.
  auto file = parse_config(toml, "fuzz.toml");
  if (file) check_loaded(*file);

  // The command line's order: file, then each --set, then the rules that span keys.
  config cfg;
  config_detail::origin_map origins;
  status st = config_detail::parse_into(cfg, toml, "fuzz.toml", origins);
  for (const auto& o : overrides) {
    if (!st) break;
    st = config_detail::override_into(cfg, o, origins);
  }
  if (st) st = config_detail::check_rules(cfg, origins);
  if (st) check_loaded(cfg);

  // The public API gives the same answer: parse_config, apply_override each, validate.
  if (file) {
    config by_api = *file;
    status api = {};
    for (const auto& o : overrides) {
      if (!api) break;
      api = apply_override(by_api, o);
    }
    if (api) api = validate(by_api);
    if (st) {
      FUZZ_CHECK(api.ok(), message_of(api));
      FUZZ_CHECK(by_api == cfg, "apply_override and override_into disagree");
    }
  }

  // The command line parser checks each --set as it reads it.
  if (!overrides.empty()) {
    std::vector<const char*> argv{"sealcastd"};
    for (const auto& o : overrides) {
      argv.push_back("--set");
      argv.push_back(o.c_str());
    }
    auto cl = parse_command_line(static_cast<int>(argv.size()), argv.data());
    if (cl) FUZZ_CHECK(cl->overrides.size() == overrides.size(), "overrides lost");
  }
  return 0;
}
