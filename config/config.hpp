#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

// The broker's configuration: plain structs whose member initializers are the built-in defaults
// (DESIGN.md, "Configuration (TOML)"). Every key is also listed once in the schema
// (config/schema.hpp), which drives parsing, --set, validation and the sample file.
// Durations are in seconds unless the key's name ends in _ms.

namespace sealcast {

/// [broker]: where the broker keeps its state and how many CAF workers it runs.
struct broker_config {
  std::string data_dir = "./data";   ///< RocksDB directory and the broker's key
  std::uint32_t worker_threads = 0;  ///< CAF scheduler threads; 0 = usable CPUs, at least 2

  friend bool operator==(const broker_config&, const broker_config&) = default;
};

/// [gateway]: the client WebSocket listener.
struct gateway_config {
  std::string listen = "127.0.0.1:7800";            ///< HOST:PORT; port 0 picks a free port
  std::uint32_t io_threads = 0;                     ///< io shards (one thread each); 0 = usable CPUs
  std::uint64_t max_frame_bytes = 1048576;          ///< larger frames close with 1009
  std::chrono::milliseconds auth_timeout_ms{5000};  ///< time allowed for `hello`
  std::chrono::seconds idle_timeout{300};           ///< ping/idle timeout
  std::uint64_t max_connections = 100000;           ///< further upgrades get 503
  std::string tls_cert;                             ///< PEM file; with tls_key = wss://
  std::string tls_key;                              ///< PEM file; with tls_cert = wss://

  friend bool operator==(const gateway_config&, const gateway_config&) = default;
};

/// [admin]: the admin HTTP listener.
struct admin_config {
  std::string listen = "127.0.0.1:7801";  ///< HOST:PORT; port 0 picks a free port
  std::string token;                      ///< bearer token; required when listen is not loopback
  std::string tls_cert;                   ///< PEM file; with tls_key = https://
  std::string tls_key;                    ///< PEM file; with tls_cert = https://
  /// Host header values served besides loopback names and `listen` ("host" or "host:port")
  std::vector<std::string> allowed_hosts;

  friend bool operator==(const admin_config&, const admin_config&) = default;
};

/// [pubsub]: delivery, retry, expiry and key rotation.
struct pubsub_config {
  std::chrono::seconds max_message_ttl{3600};         ///< undelivered messages expire after this
  std::uint32_t max_delivery_attempts = 3;            ///< then the delivery is failed
  std::chrono::seconds retry_interval{60};            ///< resend unacked deliveries after this
  std::chrono::seconds cleanup_interval{300};         ///< reaper period
  std::chrono::seconds key_rotation_interval{86400};  ///< epochs older than this rotate
  std::uint64_t rotate_after_messages = 0;          ///< rotate after this many messages; 0 = never
  std::chrono::milliseconds epoch_grace_ms{30000};  ///< previous epoch accepted after a change
  std::chrono::seconds retain_delivered{0};         ///< keep fully delivered messages this long
  std::uint32_t max_members = 1000;                 ///< per group
  std::chrono::milliseconds rekey_deadline_ms{30000};  ///< client custody: re-ask another admin

  friend bool operator==(const pubsub_config&, const pubsub_config&) = default;
};

/// [encryption]: AEAD algorithms for message payloads.
struct encryption_config {
  std::string default_algorithm = "aes-256-gcm";  ///< for broker-custody epochs
  std::vector<std::string> allowed_algorithms = {"aes-256-gcm", "chacha20-poly1305",
                                                 "xchacha20-poly1305"};  ///< others refused

  friend bool operator==(const encryption_config&, const encryption_config&) = default;
};

/// [storage]: RocksDB durability and memory.
struct storage_config {
  bool sync = true;                    ///< sync the WAL before acknowledging
  std::uint64_t write_buffer_mb = 64;  ///< memtable size in MiB

  friend bool operator==(const storage_config&, const storage_config&) = default;
};

/// [events]: which events are persisted and how long they are kept.
struct events_config {
  std::vector<std::string> persist = {"group_created",   "member_joined",     "member_left",
                                      "key_rotated",     "message_published", "message_failed",
                                      "message_cleaned", "direct_sent",       "direct_delivered",
                                      "rekey_requested", "user_connected",    "user_disconnected",
                                      "partition_gained", "partition_lost"};
  std::chrono::seconds retention{604800};  ///< events older than this are trimmed
  std::uint64_t max_events = 1000000;      ///< and at most this many are kept

  friend bool operator==(const events_config&, const events_config&) = default;
};

/// [limits]: per-connection bounds and per-user quotas (docs/operations.md, "Limits and quotas").
/// Rates are token buckets; a rate of 0 turns that limit off.
struct limits_config {
  std::uint64_t slow_consumer_bytes = 8388608;  ///< queued bytes that disconnect a reader
  std::uint32_t max_inflight = 1000;            ///< unacked deliveries per connection
  std::uint32_t request_rate = 200;     ///< requests/s per connection but publish, direct and acks
  std::uint32_t request_burst = 1000;   ///< requests a connection may make at once
  std::uint32_t publish_rate = 2000;    ///< publishes/s per connection (burst: one second's worth)
  std::uint32_t direct_rate = 100;      ///< directs/s per connection (burst: one second's worth)
  std::uint32_t ack_rate = 5000;        ///< ack + ack_direct/s per connection; excess is dropped
  std::uint32_t connections_per_user = 16;       ///< authenticated connections of one user
  std::uint32_t connections_per_address = 2000;  ///< WebSocket connections from one address
  std::uint32_t groups_per_user = 1000;          ///< groups one user may own
  std::uint32_t members_added_per_minute = 60;   ///< per group: joins and broker-custody adds
  std::uint32_t joins_per_minute = 6;            ///< per user and group
  std::uint64_t direct_pending_bytes = 67108864;  ///< unread direct bytes per sender and recipient
  std::uint64_t send_window_bytes = 2097152;    ///< queued bytes a backlog or catch-up stream keeps
  std::chrono::milliseconds stall_timeout_ms{30000};  ///< a queue that does not move: slow consumer

  friend bool operator==(const limits_config&, const limits_config&) = default;
};

/// [log]: level and line format of the broker's log (see common/log.hpp).
struct log_config {
  std::string level = "info";   ///< trace, debug, info, warn or error
  std::string format = "text";  ///< text or json

  friend bool operator==(const log_config&, const log_config&) = default;
};

/// [cluster]: many sealcastd nodes as one broker on NATS JetStream (docs/cluster.md). Empty
/// `nats` (the default) is the single-node broker: no NATS, nothing below is used.
struct cluster_config {
  std::vector<std::string> nats;                    ///< NATS server URLs; empty = no cluster
  std::string node;                                 ///< this node's name, unique in the cluster
  std::string advertise;                            ///< this node's client URL; empty = the bound listener
  std::uint32_t partitions = 64;                    ///< P in partition = hash(group) mod P; same on every node
  std::chrono::milliseconds lease_ms{10000};        ///< partition lease term; same on every node
  std::chrono::milliseconds lease_margin_ms{2000};  ///< stop acting this long before the term ends
  std::chrono::milliseconds heartbeat_ms{1000};     ///< membership heartbeat and partition check period
  std::uint32_t replicas = 3;                       ///< JetStream replicas of the cluster's buckets

  /// True when this node runs as part of a cluster.
  [[nodiscard]] bool enabled() const noexcept { return !nats.empty(); }

  friend bool operator==(const cluster_config&, const cluster_config&) = default;
};

/// The whole configuration; a default-constructed value is the built-in defaults.
struct config {
  broker_config broker;
  gateway_config gateway;
  admin_config admin;
  pubsub_config pubsub;
  encryption_config encryption;
  storage_config storage;
  events_config events;
  limits_config limits;
  log_config log;
  cluster_config cluster;

  friend bool operator==(const config&, const config&) = default;
};

/// Loads and validates a TOML file; keys it does not mention keep their defaults.
[[nodiscard]] result<config> load_config(std::string_view path);

/// Parses and validates TOML text; `source` names it in error messages (normally the path).
[[nodiscard]] result<config> parse_config(std::string_view toml_text, std::string_view source);

/// Applies one `section.key=value` override with the key's own type and range checks. Rules
/// that span keys (TLS pairs, admin token, default algorithm) are left to validate().
[[nodiscard]] status apply_override(config& cfg, std::string_view assignment);

/// Checks every key and every cross-key rule of a configuration built in code.
[[nodiscard]] status validate(const config& cfg);

/// A short human summary for the start-up log; never shows the admin token.
[[nodiscard]] std::string describe(const config& cfg);

/// A `listen` value split into its parts; an IPv6 host is kept without brackets.
struct endpoint {
  std::string host;
  std::uint16_t port = 0;  ///< 0 asks the OS for a free port

  friend bool operator==(const endpoint&, const endpoint&) = default;
};

/// Parses "HOST:PORT" (IPv4, [IPv6] or a hostname); port 0..65535.
[[nodiscard]] result<endpoint> parse_endpoint(std::string_view listen);

/// True for 127.0.0.0/8, ::1 and localhost (a host as returned by parse_endpoint).
[[nodiscard]] bool is_loopback(std::string_view host) noexcept;

}  // namespace sealcast
