#include "config/schema.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <limits>

namespace sealcast {
namespace {

// Conversions between a config member and its schema value. Setters receive values that
// check_value() accepted, so the narrowing casts below cannot lose information.
config_value to_value(std::uint32_t v) { return std::int64_t{v}; }
config_value to_value(std::uint64_t v) { return static_cast<std::int64_t>(v); }
config_value to_value(std::chrono::seconds v) { return static_cast<std::int64_t>(v.count()); }
config_value to_value(std::chrono::milliseconds v) { return static_cast<std::int64_t>(v.count()); }
config_value to_value(bool v) { return v; }
config_value to_value(const std::string& v) { return v; }
config_value to_value(const std::vector<std::string>& v) { return v; }

std::int64_t int_of(const config_value& v) { return std::get<std::int64_t>(v); }
void from_value(const config_value& v, std::uint32_t& out) {
  out = static_cast<std::uint32_t>(int_of(v));
}
void from_value(const config_value& v, std::uint64_t& out) {
  out = static_cast<std::uint64_t>(int_of(v));
}
void from_value(const config_value& v, std::chrono::seconds& out) {
  out = std::chrono::seconds{int_of(v)};
}
void from_value(const config_value& v, std::chrono::milliseconds& out) {
  out = std::chrono::milliseconds{int_of(v)};
}
void from_value(const config_value& v, bool& out) { out = std::get<bool>(v); }
void from_value(const config_value& v, std::string& out) { out = std::get<std::string>(v); }
void from_value(const config_value& v, std::vector<std::string>& out) {
  out = std::get<std::vector<std::string>>(v);
}

template <auto Section, auto Member>
config_value get_field(const config& c) {
  return to_value(c.*Section.*Member);
}

template <auto Section, auto Member>
void set_field(config& c, const config_value& v) {
  from_value(v, c.*Section.*Member);
}

constexpr std::int64_t unbounded = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t ten_years_s = 10LL * 365 * 86400;
constexpr std::int64_t one_hour_ms = 3600LL * 1000;
constexpr std::int64_t one_day_ms = 86400LL * 1000;

constexpr std::array<std::string_view, 3> algorithms = {"aes-256-gcm", "chacha20-poly1305",
                                                        "xchacha20-poly1305"};
constexpr std::array<std::string_view, 15> event_types = {
    "group_created",     "member_joined",    "member_left",      "key_rotated",    "message_published",
    "message_delivered", "message_failed",   "message_cleaned",  "direct_sent",    "direct_delivered",
    "rekey_requested",   "user_connected",   "user_disconnected", "partition_gained", "partition_lost"};
constexpr std::array<std::string_view, 5> log_levels = {"trace", "debug", "info", "warn", "error"};
constexpr std::array<std::string_view, 2> log_formats = {"text", "json"};

constexpr std::array<std::string_view, 2> nats_schemes = {"nats", "tls"};
constexpr std::array<std::string_view, 2> client_schemes = {"ws", "wss"};
constexpr std::int64_t max_identifier = 64;

constexpr std::array<section_spec, 10> sections = {{
    {"broker", "Where the broker keeps its state and how many CAF workers it runs."},
    {"gateway", "The client WebSocket listener."},
    {"admin", "The admin HTTP listener (stats, events, metrics, dashboard)."},
    {"pubsub", "Delivery, retry, expiry and key rotation."},
    {"encryption", "AEAD algorithms for message payloads."},
    {"storage", "RocksDB durability and memory."},
    {"events", "Which events are persisted and how long they are kept."},
    {"limits", "Bounds, rates and quotas per connection, user, address and group."},
    {"log", "The broker's log on stderr."},
    {"cluster", "Many nodes as one broker on NATS JetStream (docs/cluster.md); empty nats = one node, no NATS."},
}};

template <auto S, auto M>
key_spec int_key(std::string_view sec, std::string_view name, std::int64_t lo, std::int64_t hi,
                 std::string_view doc) {
  return {.section = sec,
          .name = name,
          .kind = value_kind::integer,
          .doc = doc,
          .min = lo,
          .max = hi,
          .get = &get_field<S, M>,
          .set = &set_field<S, M>};
}

template <auto S, auto M>
key_spec bool_key(std::string_view sec, std::string_view name, std::string_view doc) {
  return {.section = sec,
          .name = name,
          .kind = value_kind::boolean,
          .doc = doc,
          .get = &get_field<S, M>,
          .set = &set_field<S, M>};
}

struct string_rules {
  std::span<const std::string_view> allowed{};
  bool listen = false;
  bool non_empty = false;
  bool hosts = false;
  std::span<const std::string_view> schemes{};
  bool identifier = false;
};

template <auto S, auto M>
key_spec text_key(std::string_view sec, std::string_view name, std::string_view doc,
                  string_rules rules = {}) {
  return {.section = sec,
          .name = name,
          .kind = value_kind::string,
          .doc = doc,
          .allowed = rules.allowed,
          .listen = rules.listen,
          .non_empty = rules.non_empty,
          .schemes = rules.schemes,
          .identifier = rules.identifier,
          .get = &get_field<S, M>,
          .set = &set_field<S, M>};
}

template <auto S, auto M>
key_spec list_key(std::string_view sec, std::string_view name, std::string_view doc,
                  string_rules rules) {
  return {.section = sec,
          .name = name,
          .kind = value_kind::string_list,
          .doc = doc,
          .allowed = rules.allowed,
          .non_empty = rules.non_empty,
          .hosts = rules.hosts,
          .schemes = rules.schemes,
          .get = &get_field<S, M>,
          .set = &set_field<S, M>};
}

using C = config;
using bc = broker_config;
using gc = gateway_config;
using ac = admin_config;
using pc = pubsub_config;
using ec = encryption_config;
using sc = storage_config;
using vc = events_config;
using lc = limits_config;
using oc = log_config;
using cc = cluster_config;

// The schema itself. Kept out of clang-format so that each key reads as one entry.
// clang-format off
const std::vector<key_spec>& table() {
  static const std::vector<key_spec> keys = {
      text_key<&C::broker, &bc::data_dir>("broker", "data_dir",
          "RocksDB directory and the broker's key.", {.non_empty = true}),
      int_key<&C::broker, &bc::worker_threads>("broker", "worker_threads", 0, 1024,
          "CAF scheduler threads; 0 = one per usable CPU (the affinity mask), at least 2."),

      text_key<&C::gateway, &gc::listen>("gateway", "listen",
          "Client WebSocket listener, HOST:PORT ([::1]:7800 for IPv6; port 0 = any free port).",
          {.listen = true}),
      int_key<&C::gateway, &gc::io_threads>("gateway", "io_threads", 0, 64,
                                            "io shards, one thread each; 0 = one per usable CPU."),
      int_key<&C::gateway, &gc::max_frame_bytes>("gateway", "max_frame_bytes", 1024, 1LL << 30,
          "Larger frames close the connection with 1009."),
      int_key<&C::gateway, &gc::auth_timeout_ms>("gateway", "auth_timeout_ms", 1, one_hour_ms,
          "Milliseconds allowed for `hello` after the upgrade."),
      int_key<&C::gateway, &gc::idle_timeout>("gateway", "idle_timeout", 1, 86400,
          "Seconds without traffic before a ping, then a close."),
      int_key<&C::gateway, &gc::max_connections>("gateway", "max_connections", 1, 10000000,
          "Further upgrades get 503."),
      text_key<&C::gateway, &gc::tls_cert>("gateway", "tls_cert",
          "PEM certificate chain; with tls_key the listener serves wss://."),
      text_key<&C::gateway, &gc::tls_key>("gateway", "tls_key",
          "PEM private key; with tls_cert the listener serves wss://."),

      text_key<&C::admin, &ac::listen>("admin", "listen",
          "Admin HTTP listener, HOST:PORT (port 0 = any free port).", {.listen = true}),
      text_key<&C::admin, &ac::token>("admin", "token",
          "Bearer token for the admin API; required when listen is not loopback."),
      text_key<&C::admin, &ac::tls_cert>("admin", "tls_cert",
          "PEM certificate chain; with tls_key the listener serves https://."),
      text_key<&C::admin, &ac::tls_key>("admin", "tls_key",
          "PEM private key; with tls_cert the listener serves https://."),
      list_key<&C::admin, &ac::allowed_hosts>("admin", "allowed_hosts",
          "Host names served besides loopback and listen, \"host\" or \"host:port\"; others get 421.",
          {.hosts = true}),

      int_key<&C::pubsub, &pc::max_message_ttl>("pubsub", "max_message_ttl", 1, ten_years_s,
          "Seconds after which undelivered messages expire."),
      int_key<&C::pubsub, &pc::max_delivery_attempts>("pubsub", "max_delivery_attempts", 1, 1000,
          "Delivery attempts before a delivery is failed."),
      int_key<&C::pubsub, &pc::retry_interval>("pubsub", "retry_interval", 1, ten_years_s,
          "Seconds before unacked deliveries are resent."),
      int_key<&C::pubsub, &pc::cleanup_interval>("pubsub", "cleanup_interval", 1, ten_years_s,
          "Seconds between runs of the cleanup reaper."),
      int_key<&C::pubsub, &pc::key_rotation_interval>("pubsub", "key_rotation_interval", 1,
          ten_years_s, "Seconds after which an epoch's key is rotated."),
      int_key<&C::pubsub, &pc::rotate_after_messages>("pubsub", "rotate_after_messages", 0,
          unbounded, "Rotate after this many messages in an epoch; 0 = never."),
      int_key<&C::pubsub, &pc::epoch_grace_ms>("pubsub", "epoch_grace_ms", 0, one_day_ms,
          "Milliseconds the previous epoch is still accepted after a non-removal change."),
      int_key<&C::pubsub, &pc::retain_delivered>("pubsub", "retain_delivered", 0, ten_years_s,
          "Seconds to keep fully delivered messages (for fetch); 0 = delete at once."),
      int_key<&C::pubsub, &pc::max_members>("pubsub", "max_members", 1, 1000000,
          "Members per group."),
      int_key<&C::pubsub, &pc::rekey_deadline_ms>("pubsub", "rekey_deadline_ms", 1, one_day_ms,
          "Client custody: milliseconds before another admin is asked to rekey."),

      text_key<&C::encryption, &ec::default_algorithm>("encryption", "default_algorithm",
          "Algorithm of broker-custody epochs; must be in allowed_algorithms.",
          {.allowed = algorithms}),
      list_key<&C::encryption, &ec::allowed_algorithms>("encryption", "allowed_algorithms",
          "Algorithms accepted at publish; others are refused.",
          {.allowed = algorithms, .non_empty = true}),

      bool_key<&C::storage, &sc::sync>("storage", "sync",
          "Sync the WAL before acknowledging a publish (the durability promise)."),
      int_key<&C::storage, &sc::write_buffer_mb>("storage", "write_buffer_mb", 1, 65536,
          "RocksDB memtable size in MiB."),

      list_key<&C::events, &vc::persist>("events", "persist",
          "Event types written to RocksDB (all are counted); message_delivered is per recipient.",
          {.allowed = event_types}),
      int_key<&C::events, &vc::retention>("events", "retention", 1, ten_years_s,
          "Seconds after which events are trimmed."),
      int_key<&C::events, &vc::max_events>("events", "max_events", 1, unbounded,
          "At most this many events are kept."),

      int_key<&C::limits, &lc::slow_consumer_bytes>("limits", "slow_consumer_bytes", 1024,
          unbounded, "Queued outbound bytes that disconnect a slow reader."),
      int_key<&C::limits, &lc::max_inflight>("limits", "max_inflight", 1, 1000000,
          "Unacked deliveries per connection."),
      int_key<&C::limits, &lc::request_rate>("limits", "request_rate", 0, 1000000,
          "Requests/s per connection, all but publish, direct and acks; then rate_limited. 0 = off."),
      int_key<&C::limits, &lc::request_burst>("limits", "request_burst", 1, 1000000,
          "Requests a connection may make at once before request_rate applies."),
      int_key<&C::limits, &lc::publish_rate>("limits", "publish_rate", 0, 1000000,
          "Publishes per second per connection; then rate_limited. 0 = off."),
      int_key<&C::limits, &lc::direct_rate>("limits", "direct_rate", 0, 1000000,
          "Direct messages per second per connection; then rate_limited. 0 = off."),
      int_key<&C::limits, &lc::ack_rate>("limits", "ack_rate", 0, 10000000,
          "ack and ack_direct per second per connection; the excess is dropped. 0 = off."),
      int_key<&C::limits, &lc::connections_per_user>("limits", "connections_per_user", 0, 1000000,
          "Connections one user may hold; one more hello is refused (1008). 0 = off."),
      int_key<&C::limits, &lc::connections_per_address>("limits", "connections_per_address", 0,
          10000000, "WebSocket connections per IPv4 address or IPv6 /64 (HTTP 503). 0 = off: "
          "needed behind a proxy."),
      int_key<&C::limits, &lc::groups_per_user>("limits", "groups_per_user", 0, 10000000,
          "Groups one user may own; one more create_group is forbidden. 0 = off."),
      int_key<&C::limits, &lc::members_added_per_minute>("limits", "members_added_per_minute", 0,
          1000000, "Per group: joins and broker-custody add_member per minute. 0 = off."),
      int_key<&C::limits, &lc::joins_per_minute>("limits", "joins_per_minute", 0, 1000000,
          "Joins of one group by one user per minute (open-group churn). 0 = off."),
      int_key<&C::limits, &lc::direct_pending_bytes>("limits", "direct_pending_bytes", 0, unbounded,
          "Bytes of direct messages one sender may have unread by one recipient; then rate_limited. 0 = off."),
      int_key<&C::limits, &lc::send_window_bytes>("limits", "send_window_bytes", 1024, unbounded,
          "Queued bytes up to which backlogs and catch-up are streamed (at most half of slow_consumer_bytes); more follows as the socket drains."),
      int_key<&C::limits, &lc::stall_timeout_ms>("limits", "stall_timeout_ms", 100, one_hour_ms,
          "Milliseconds a connection's queue may stay without progress before it is closed as a slow consumer."),

      text_key<&C::log, &oc::level>("log", "level", "trace, debug, info, warn or error.",
          {.allowed = log_levels}),
      text_key<&C::log, &oc::format>("log", "format", "text or json (one object per line).",
          {.allowed = log_formats}),

      list_key<&C::cluster, &cc::nats>("cluster", "nats",
          "NATS server URLs (nats://HOST:PORT), any number; empty = single node, no cluster.",
          {.schemes = nats_schemes}),
      text_key<&C::cluster, &cc::node>("cluster", "node",
          "This node's name: letters, digits, - and _; unique in the cluster.", {.identifier = true}),
      text_key<&C::cluster, &cc::advertise>("cluster", "advertise",
          "This node's client URL as other nodes and clients reach it (ws://HOST:PORT/ws); empty = the bound gateway.listen.",
          {.schemes = client_schemes}),
      int_key<&C::cluster, &cc::partitions>("cluster", "partitions", 1, 4096,
          "Partitions of the group space (partition = hash(group) mod this); the same on every node."),
      int_key<&C::cluster, &cc::lease_ms>("cluster", "lease_ms", 500, one_hour_ms,
          "Milliseconds a partition lease lasts unless renewed; the same on every node."),
      int_key<&C::cluster, &cc::lease_margin_ms>("cluster", "lease_margin_ms", 1, one_hour_ms / 2,
          "Milliseconds before a lease's term at which its holder stops acting (at most lease_ms / 2)."),
      int_key<&C::cluster, &cc::heartbeat_ms>("cluster", "heartbeat_ms", 50, 60000,
          "Milliseconds between heartbeats and partition checks; a node is gone after 3 missed; the same on every node."),
      int_key<&C::cluster, &cc::replicas>("cluster", "replicas", 1, 5,
          "JetStream replicas of the cluster's buckets: 3 for a 3-server NATS cluster, 1 for a single nats-server."),
  };
  return keys;
}
// clang-format on

bool contains(std::span<const std::string_view> list, std::string_view s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

std::string joined(std::span<const std::string_view> list) {
  std::string out;
  for (auto s : list) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

std::string suggestion(std::string_view word, std::span<const std::string_view> candidates) {
  auto best = closest_match(word, candidates);
  return best.empty() ? std::string{} : " (did you mean '" + std::string{best} + "'?)";
}

// SCHEME://HOST:PORT with an optional /path, the scheme one of `schemes`.
std::string check_url(std::span<const std::string_view> schemes, const std::string& s) {
  const auto sep = s.find("://");
  const std::string scheme = sep == std::string::npos ? std::string{} : s.substr(0, sep);
  if (sep == std::string::npos || !contains(schemes, scheme)) {
    std::string want;
    for (auto name : schemes) want += (want.empty() ? "" : " or ") + std::string{name} + "://HOST:PORT";
    return "must be " + want + ", got '" + s + "'";
  }
  std::string rest = s.substr(sep + 3);
  rest = rest.substr(0, rest.find('/'));
  auto ep = parse_endpoint(rest);
  if (!ep.ok()) return "must be " + scheme + "://HOST:PORT (" + ep.err().message + "), got '" + s + "'";
  if (ep->port == 0) return "must name a port other than 0, got '" + s + "'";
  return {};
}

std::string check_identifier(const std::string& s) {
  if (static_cast<std::int64_t>(s.size()) > max_identifier)
    return "must be at most " + std::to_string(max_identifier) + " characters, got " + std::to_string(s.size());
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return "may hold letters, digits, '-' and '_' only, got '" + s + "'";
  }
  return {};
}

std::string check_string(const key_spec& key, const std::string& s) {
  if (key.non_empty && s.empty()) return "must not be empty";
  if (key.identifier) {
    if (auto problem = check_identifier(s); !problem.empty()) return problem;
  }
  if (!key.schemes.empty() && !s.empty()) {
    if (auto problem = check_url(key.schemes, s); !problem.empty()) return problem;
  }
  if (key.listen) {
    if (auto ep = parse_endpoint(s); !ep.ok()) {
      return "must be HOST:PORT (" + ep.err().message + "), got '" + s + "'";
    }
  }
  if (!key.allowed.empty() && !contains(key.allowed, s)) {
    return "must be one of " + joined(key.allowed) + ", got '" + s + "'" +
           suggestion(s, key.allowed);
  }
  return {};
}

// An admin.allowed_hosts entry: what a Host header names, "host", "host:port", "[v6]" or
// "[v6]:port"; no scheme, path or wildcard.
std::string check_host_entry(const std::string& s) {
  if (s.empty()) return "contains an empty entry";
  const bool has_port = s.front() == '[' ? s.find("]:") != std::string::npos : s.find(':') != std::string::npos;
  auto ep = parse_endpoint(has_port ? s : s + ":1");
  if (!ep.ok()) {
    return "contains '" + s + "', which is not HOST or HOST:PORT (" + ep.err().message + ")";
  }
  if (has_port && ep->port == 0) return "contains '" + s + "', whose port is 0";
  return {};
}

std::string check_list(const key_spec& key, const std::vector<std::string>& items) {
  if (key.non_empty && items.empty()) return "must not be empty";
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto& s = items[i];
    if (key.hosts) {
      if (auto problem = check_host_entry(s); !problem.empty()) return problem;
    }
    if (!key.schemes.empty()) {
      if (auto problem = check_url(key.schemes, s); !problem.empty()) return "contains an entry that " + problem;
    }
    if (!key.allowed.empty() && !contains(key.allowed, s)) {
      return "contains '" + s + "', which is not one of " + joined(key.allowed) +
             suggestion(s, key.allowed);
    }
    if (std::find(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(i), s) !=
        items.begin() + static_cast<std::ptrdiff_t>(i)) {
      return "lists '" + s + "' twice";
    }
  }
  return {};
}

}  // namespace

std::string key_spec::full_name() const {
  std::string out{section};
  out += '.';
  out += name;
  return out;
}

std::span<const section_spec> config_sections() noexcept { return sections; }

std::span<const key_spec> config_schema() noexcept { return table(); }

const key_spec* find_key(std::string_view section, std::string_view name) noexcept {
  for (const auto& key : table()) {
    if (key.section == section && key.name == name) return &key;
  }
  return nullptr;
}

bool is_section(std::string_view name) noexcept {
  return std::any_of(sections.begin(), sections.end(),
                     [&](const section_spec& s) { return s.name == name; });
}

std::span<const std::string_view> algorithm_names() noexcept { return algorithms; }

std::span<const std::string_view> event_type_names() noexcept { return event_types; }

std::string check_value(const key_spec& key, const config_value& value) {
  switch (key.kind) {
    case value_kind::integer: {
      auto n = std::get<std::int64_t>(value);
      if (n >= key.min && n <= key.max) return {};
      if (key.max == unbounded) {
        return "must be at least " + std::to_string(key.min) + ", got " + std::to_string(n);
      }
      return "must be between " + std::to_string(key.min) + " and " + std::to_string(key.max) +
             ", got " + std::to_string(n);
    }
    case value_kind::boolean:
      return {};
    case value_kind::string:
      return check_string(key, std::get<std::string>(value));
    case value_kind::string_list:
      return check_list(key, std::get<std::vector<std::string>>(value));
  }
  return {};
}

}  // namespace sealcast
