// TOML files to config. toml++ is used only here and in override.cpp, and its exceptions are
// turned into error values before they leave this file.
#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "config/loader.hpp"

namespace sealcast {
namespace config_detail {
namespace {

// Configuration files are small; a bigger one is a mistake, not something to read into memory.
constexpr std::size_t max_file_bytes = 1 << 20;

std::string_view type_name(toml::node_type type) {
  switch (type) {
    case toml::node_type::none:
      return "nothing";
    case toml::node_type::table:
      return "table";
    case toml::node_type::array:
      return "array";
    case toml::node_type::string:
      return "string";
    case toml::node_type::integer:
      return "integer";
    case toml::node_type::floating_point:
      return "float";
    case toml::node_type::boolean:
      return "boolean";
    case toml::node_type::date:
      return "date";
    case toml::node_type::time:
      return "time";
    case toml::node_type::date_time:
      return "date-time";
  }
  return "unknown";
}

std::string_view expected(value_kind kind) {
  switch (kind) {
    case value_kind::integer:
      return "an integer";
    case value_kind::boolean:
      return "a boolean";
    case value_kind::string:
      return "a string";
    case value_kind::string_list:
      return "an array of strings";
  }
  return "a value";
}

struct found_error {
  std::uint32_t line;
  std::string message;
};

// The value of `node` as `kind`, or why it is the wrong type.
std::pair<config_value, std::string> convert(value_kind kind, const toml::node& node) {
  auto wrong = [&](std::string_view got) {
    return std::pair<config_value, std::string>{
        config_value{}, "must be " + std::string{expected(kind)} + ", got " + std::string{got}};
  };
  switch (kind) {
    case value_kind::integer:
      if (const auto* v = node.as_integer()) return {config_value{v->get()}, {}};
      break;
    case value_kind::boolean:
      if (const auto* v = node.as_boolean()) return {config_value{v->get()}, {}};
      break;
    case value_kind::string:
      if (const auto* v = node.as_string()) return {config_value{v->get()}, {}};
      break;
    case value_kind::string_list:
      if (const auto* arr = node.as_array()) {
        std::vector<std::string> items;
        for (const auto& item : *arr) {
          const auto* s = item.as_string();
          if (s == nullptr)
            return wrong("an array containing " + std::string{type_name(item.type())});
          items.push_back(s->get());
        }
        return {config_value{std::move(items)}, {}};
      }
      break;
  }
  return wrong(type_name(node.type()));
}

std::uint32_t line_of(const toml::key& key, const toml::node& node) {
  auto line = key.source().begin.line;
  return line != 0 ? line : node.source().begin.line;
}

std::string at(std::string_view source, std::uint32_t line) {
  std::string out{source};
  if (line != 0) out += ":" + std::to_string(line);
  return out;
}

std::vector<std::string_view> section_names() {
  std::vector<std::string_view> names;
  for (const auto& s : config_sections()) names.push_back(s.name);
  return names;
}

std::vector<std::string_view> key_names(std::string_view section) {
  std::vector<std::string_view> names;
  for (const auto& k : config_schema()) {
    if (k.section == section) names.push_back(k.name);
  }
  return names;
}

// For a key that is not in its section: a near miss in the section, or the same name in
// another section (written in full).
std::string unknown_key_hint(std::string_view section, std::string_view name) {
  auto names = key_names(section);
  if (auto hint = did_you_mean(name, names); !hint.empty()) return hint;
  for (const auto& k : config_schema()) {
    if (k.name == name) return " (did you mean '" + k.full_name() + "'?)";
  }
  return {};
}

void read_section(config& cfg, std::string_view source, std::string_view section,
                  const toml::table& table, origin_map& origins, std::vector<found_error>& errors) {
  for (auto&& [k, node] : table) {
    auto line = line_of(k, node);
    const auto* key = find_key(section, k.str());
    if (key == nullptr) {
      errors.push_back({line, at(source, line) + ": unknown key '" + std::string{section} + "." +
                                  std::string{k.str()} + "'" + unknown_key_hint(section, k.str())});
      continue;
    }
    origin where{.source = std::string{source}, .line = line};
    auto [value, wrong_type] = convert(key->kind, node);
    if (!wrong_type.empty()) {
      errors.push_back({line, key_error(where, key->full_name(), wrong_type)});
      continue;
    }
    if (auto problem = check_value(*key, value); !problem.empty()) {
      errors.push_back({line, key_error(where, key->full_name(), problem)});
      continue;
    }
    key->set(cfg, value);
    origins[key->full_name()] = std::move(where);
  }
}

}  // namespace

status parse_into(config& cfg, std::string_view text, std::string_view source,
                  origin_map& origins) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    const auto& begin = e.source().begin;
    return error{errc::config_error, at(source, begin.line) + ":" + std::to_string(begin.column) +
                                         ": " + std::string{e.description()}};
  } catch (const std::exception& e) {
    return error{errc::config_error, std::string{source} + ": " + e.what()};
  }

  std::vector<found_error> errors;
  for (auto&& [k, node] : root) {
    auto line = line_of(k, node);
    if (!is_section(k.str())) {
      auto names = section_names();
      errors.push_back({line, at(source, line) + ": unknown section '" + std::string{k.str()} +
                                  "'" + did_you_mean(k.str(), names)});
      continue;
    }
    const auto* table = node.as_table();
    if (table == nullptr) {
      errors.push_back({line, at(source, line) + ": section '" + std::string{k.str()} +
                                  "' must be a table, got " + std::string{type_name(node.type())}});
      continue;
    }
    read_section(cfg, source, k.str(), *table, origins, errors);
  }
  if (errors.empty()) return {};
  // Tables iterate in key order; report in file order.
  std::stable_sort(errors.begin(), errors.end(),
                   [](const found_error& a, const found_error& b) { return a.line < b.line; });
  std::string message;
  for (const auto& e : errors) {
    if (!message.empty()) message += '\n';
    message += e.message;
  }
  return error{errc::config_error, std::move(message)};
}

status load_file_into(config& cfg, std::string_view path, origin_map& origins) {
  auto fail = [&](std::string_view reason) {
    return error{errc::config_error, std::string{path} + ": cannot open: " + std::string{reason}};
  };
  std::string name{path};
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file{std::fopen(name.c_str(), "rb"),
                                                       &std::fclose};
  if (!file) return fail(std::strerror(errno));
  std::string text;
  char buf[8192];
  while (true) {
    auto n = std::fread(buf, 1, sizeof buf, file.get());
    text.append(buf, n);
    if (text.size() > max_file_bytes) {
      return error{errc::config_error, name + ": larger than 1 MiB, not a configuration file"};
    }
    if (n < sizeof buf) {
      if (std::ferror(file.get()) != 0) return fail(std::strerror(errno));
      break;
    }
  }
  return parse_into(cfg, text, path, origins);
}

}  // namespace config_detail

result<config> parse_config(std::string_view toml_text, std::string_view source) {
  config cfg;
  config_detail::origin_map origins;
  if (auto st = config_detail::parse_into(cfg, toml_text, source, origins); !st) return st.err();
  if (auto st = config_detail::check_rules(cfg, origins); !st) return st.err();
  return cfg;
}

result<config> load_config(std::string_view path) {
  config cfg;
  config_detail::origin_map origins;
  if (auto st = config_detail::load_file_into(cfg, path, origins); !st) return st.err();
  if (auto st = config_detail::check_rules(cfg, origins); !st) return st.err();
  return cfg;
}

}  // namespace sealcast
