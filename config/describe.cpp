// Text made from a config: TOML values, the start-up summary and the documented sample file.
#include <string>

#include "config/schema.hpp"

namespace sealcast {
namespace {

void append_toml_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  out += '"';
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 0xf];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

std::string seconds(std::chrono::seconds s) { return std::to_string(s.count()) + "s"; }

std::string scheme_url(std::string_view plain, std::string_view secure, bool tls,
                       const std::string& listen) {
  return std::string{tls ? secure : plain} + "://" + listen;
}

// A long array is written one item per line so the sample stays readable.
std::string key_line(const key_spec& key, const config_value& value) {
  std::string line = std::string{key.name} + " = " + to_toml(value);
  const auto* items = std::get_if<std::vector<std::string>>(&value);
  if (items == nullptr || line.size() <= 100) return line;
  line = std::string{key.name} + " = [\n";
  for (const auto& item : *items) line += "  " + to_toml(config_value{item}) + ",\n";
  return line + "]";
}

}  // namespace

std::string to_toml(const config_value& value) {
  std::string out;
  if (const auto* n = std::get_if<std::int64_t>(&value)) {
    out = std::to_string(*n);
  } else if (const auto* b = std::get_if<bool>(&value)) {
    out = *b ? "true" : "false";
  } else if (const auto* s = std::get_if<std::string>(&value)) {
    append_toml_string(out, *s);
  } else {
    out += '[';
    const auto& items = std::get<std::vector<std::string>>(value);
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i != 0) out += ", ";
      append_toml_string(out, items[i]);
    }
    out += ']';
  }
  return out;
}

std::string describe(const config& cfg) {
  const auto& g = cfg.gateway;
  const auto& a = cfg.admin;
  const auto& p = cfg.pubsub;
  std::string out;
  out += "data_dir=" + cfg.broker.data_dir;
  out += " workers=" + (cfg.broker.worker_threads == 0 ? std::string{"auto"}
                                                       : std::to_string(cfg.broker.worker_threads));
  out += " client=" + scheme_url("ws", "wss", !g.tls_cert.empty(), g.listen) + "/ws";
  out += " io_threads=" + (g.io_threads == 0 ? std::string{"auto"} : std::to_string(g.io_threads));
  out += " max_connections=" + std::to_string(g.max_connections);
  out += " admin=" + scheme_url("http", "https", !a.tls_cert.empty(), a.listen);
  out += std::string{" admin_token="} + (a.token.empty() ? "(empty)" : "(set)");
  out += std::string{" sync="} + (cfg.storage.sync ? "true" : "false");
  out += " ttl=" + seconds(p.max_message_ttl);
  out += " retry=" + seconds(p.retry_interval);
  out += " attempts=" + std::to_string(p.max_delivery_attempts);
  out += " rotation=" + seconds(p.key_rotation_interval);
  if (p.rotate_after_messages != 0) {
    out += "/" + std::to_string(p.rotate_after_messages) + "msgs";
  }
  out += " max_members=" + std::to_string(p.max_members);
  out += " algorithm=" + cfg.encryption.default_algorithm;
  out += " persisted_events=" + std::to_string(cfg.events.persist.size()) + "/" +
         std::to_string(event_type_names().size());
  out += " log=" + cfg.log.level + "/" + cfg.log.format;
  if (const auto& c = cfg.cluster; c.enabled()) {
    out += " cluster=" + c.node + " nats=" + std::to_string(c.nats.size()) + "servers";
    out += " partitions=" + std::to_string(c.partitions) + " lease=" + std::to_string(c.lease_ms.count()) + "ms";
  } else {
    out += " cluster=off";
  }
  return out;
}

std::string sample_toml() {
  const config defaults;
  std::string out =
      "# Sealcast broker configuration: sealcastd --config FILE.\n"
      "#\n"
      "# Every key is listed with its built-in default, so this file as it stands changes\n"
      "# nothing: keep only the keys you change. Any key can also be given on the command line\n"
      "# as --set section.key=value. Durations are in seconds unless the name ends in _ms.\n"
      "# Unknown keys, wrong types and out-of-range values stop the broker with file:line.\n"
      "#\n"
      "# Generated from the schema in config/schema.cpp; the config tests check that it matches.\n";
  for (const auto& section : config_sections()) {
    out += "\n# " + std::string{section.doc} + "\n[" + std::string{section.name} + "]\n";
    for (const auto& key : config_schema()) {
      if (key.section != section.name) continue;
      out += "# " + std::string{key.doc} + "\n";
      out += key_line(key, key.get(defaults)) + "\n";
    }
  }
  return out;
}

}  // namespace sealcast
