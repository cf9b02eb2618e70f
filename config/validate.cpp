// Rules that span keys, and the shape of every key error message.
#include <algorithm>
#include <initializer_list>
#include <string>

#include "config/loader.hpp"

namespace sealcast::config_detail {
namespace {

// The origin of the first key in `keys` that has one; a default everywhere has none.
origin blame(const origin_map& origins, std::initializer_list<std::string_view> keys) {
  for (auto key : keys) {
    if (auto it = origins.find(key); it != origins.end()) return it->second;
  }
  return {};
}

status rule_error(const origin_map& origins, std::initializer_list<std::string_view> blamed,
                  std::string_view key, std::string_view problem) {
  return error{errc::config_error, key_error(blame(origins, blamed), key, problem)};
}

status check_tls_pair(const origin_map& origins, std::string_view section, const std::string& cert,
                      const std::string& key) {
  if (cert.empty() == key.empty()) return {};
  std::string cert_name = std::string{section} + ".tls_cert";
  std::string key_name = std::string{section} + ".tls_key";
  const auto& set = cert.empty() ? key_name : cert_name;
  const auto& unset = cert.empty() ? cert_name : key_name;
  return rule_error(origins, {set}, set,
                    "is set but '" + unset + "' is empty: set both for TLS, or neither");
}

// [cluster]: empty nats is the single-node broker, so other cluster keys without it are a
// mistake rather than something to ignore; and the lease timings must leave room to renew.
status check_cluster(const cluster_config& c, const origin_map& origins) {
  if (!c.enabled()) {
    cluster_config only_nats_empty;
    only_nats_empty.nats = c.nats;
    if (c == only_nats_empty) return {};
    return rule_error(origins, {"cluster.node", "cluster.advertise", "cluster.partitions"}, "cluster.nats",
                      "must list at least one NATS server URL when other [cluster] keys are set "
                      "(an empty cluster.nats means a single node)");
  }
  if (c.node.empty())
    return rule_error(origins, {"cluster.node", "cluster.nats"}, "cluster.node",
                      "must be set when cluster.nats is: every node needs a unique name");
  if (c.lease_margin_ms * 2 > c.lease_ms)
    return rule_error(origins, {"cluster.lease_margin_ms", "cluster.lease_ms"}, "cluster.lease_margin_ms",
                      "must be at most half of cluster.lease_ms (" + std::to_string(c.lease_ms.count()) +
                          "), got " + std::to_string(c.lease_margin_ms.count()));
  if (c.heartbeat_ms * 4 > c.lease_ms - c.lease_margin_ms)
    return rule_error(origins, {"cluster.heartbeat_ms", "cluster.lease_ms", "cluster.lease_margin_ms"},
                      "cluster.heartbeat_ms",
                      "must be at most a quarter of cluster.lease_ms - cluster.lease_margin_ms (" +
                          std::to_string((c.lease_ms - c.lease_margin_ms).count() / 4) +
                          ") so that a lease is renewed several times before its deadline, got " +
                          std::to_string(c.heartbeat_ms.count()));
  return {};
}

}  // namespace

std::string key_error(const origin& where, std::string_view key, std::string_view problem) {
  if (where.from_set) {
    std::string out = "--set " + where.set_key + ": ";
    if (where.set_key != key) out += "key '" + std::string{key} + "' ";
    return out + std::string{problem};
  }
  std::string out;
  if (!where.source.empty()) {
    out = where.source;
    if (where.line != 0) out += ":" + std::to_string(where.line);
    out += ": ";
  }
  return out + "key '" + std::string{key} + "' " + std::string{problem};
}

std::string did_you_mean(std::string_view word, std::span<const std::string_view> candidates) {
  auto best = closest_match(word, candidates);
  return best.empty() ? std::string{} : " (did you mean '" + std::string{best} + "'?)";
}

status check_rules(const config& cfg, const origin_map& origins) {
  const auto& enc = cfg.encryption;
  if (std::find(enc.allowed_algorithms.begin(), enc.allowed_algorithms.end(),
                enc.default_algorithm) == enc.allowed_algorithms.end()) {
    if (origins.contains("encryption.default_algorithm") ||
        !origins.contains("encryption.allowed_algorithms")) {
      return rule_error(
          origins, {"encryption.default_algorithm"}, "encryption.default_algorithm",
          "must be one of encryption.allowed_algorithms, got '" + enc.default_algorithm + "'");
    }
    return rule_error(origins, {"encryption.allowed_algorithms"}, "encryption.allowed_algorithms",
                      "must include encryption.default_algorithm '" + enc.default_algorithm + "'");
  }
  if (auto st = check_tls_pair(origins, "gateway", cfg.gateway.tls_cert, cfg.gateway.tls_key);
      !st) {
    return st;
  }
  if (auto st = check_tls_pair(origins, "admin", cfg.admin.tls_cert, cfg.admin.tls_key); !st) {
    return st;
  }
  if (cfg.admin.token.empty()) {
    auto ep = parse_endpoint(cfg.admin.listen);
    if (ep.ok() && !is_loopback(ep->host)) {
      return rule_error(
          origins, {"admin.token", "admin.listen"}, "admin.token",
          "must be set when admin.listen ('" + cfg.admin.listen + "') is not a loopback address");
    }
  }
  return check_cluster(cfg.cluster, origins);
}

}  // namespace sealcast::config_detail

namespace sealcast {

status validate(const config& cfg) {
  for (const auto& key : config_schema()) {
    if (auto problem = check_value(key, key.get(cfg)); !problem.empty()) {
      return error{errc::config_error, config_detail::key_error({}, key.full_name(), problem)};
    }
  }
  return config_detail::check_rules(cfg, {});
}

}  // namespace sealcast
