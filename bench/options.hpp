#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/types.hpp"

// The command line of sealcast-bench: one scenario and its knobs. Every knob has a default, so
// `sealcast-bench fanout` alone runs the broker-core figures against ws://127.0.0.1:7800/ws.

namespace sealcast::bench {

/// Which load a run generates.
enum class scenario : std::uint8_t { fanout, idle, rotate };

/// The scenario's command-line name.
[[nodiscard]] const char* to_string(scenario s) noexcept;

/// Where the broker listens, from ws://HOST:PORT/PATH. Loopback only in this version.
struct ws_target {
  std::string host = "127.0.0.1";
  std::uint16_t port = 7800;
  std::string path = "/ws";
};

/// Parses ws://HOST:PORT/PATH; refuses wss://, missing ports and hosts that are not loopback.
[[nodiscard]] result<ws_target> parse_ws_url(const std::string& url);

/// What the fanout scenario loads: sealcastd (--url), a nats-server reached through its
/// WebSocket listener (--target nats://HOST:PORT), or an MQTT broker such as Mosquitto
/// (--target mqtt://HOST:PORT, MQTT 5 over TCP, QoS 1).
enum class target_kind : std::uint8_t { sealcast, nats, mqtt };

/// The target's name in reports: "sealcast", "nats" or "mqtt".
[[nodiscard]] const char* to_string(target_kind k) noexcept;

/// Everything a run needs to know.
struct bench_options {
  scenario which = scenario::fanout;
  std::string url = "ws://127.0.0.1:7800/ws";
  ws_target target;
  target_kind kind = target_kind::sealcast;  ///< --target sealcast | nats://HOST:PORT | mqtt://HOST:PORT
  std::string target_url;                    ///< --target as given ("sealcast" by default)
  std::string plot_path;                     ///< --plot FILE.svg; empty: no plot
  unsigned threads = 1;                      ///< threads, each running its own io_context
  std::string json_path;                     ///< --json FILE; empty: no file
  std::chrono::milliseconds timeout{15000};  ///< each connect, login or request
  unsigned connect_concurrency = 200;        ///< logins in flight at once
  unsigned source_addrs = 0;                 ///< 127.0.0.2.. to bind; 0: automatic
  bool progress = true;                      ///< the live line on stderr
  bool help = false;                         ///< --help: print usage() and exit

  // fanout
  unsigned groups = 1;
  unsigned members = 0;  ///< 0: the scenario's default (fanout 100, rotate 1000)
  std::size_t size = 256;
  std::optional<double> rate = 1000;  ///< publishes/s in total; nullopt: --rate max (closed loop)
  bool all_publish = false;  ///< --all-publish: every member publishes to its group (M members in all)
  unsigned window = 64;               ///< closed loop: outstanding publishes per publisher
  double warmup_s = 2;
  double duration_s = 10;
  double drain_s = 10;  ///< after the run: time allowed for outstanding acks and deliveries
  unsigned ack_every = 32;
  unsigned ack_delay_ms = 20;  ///< members ack what is left unacked at least this often (one sweep per thread)
  bool verify = true;  ///< false: decrypt only (the send time is in the plaintext), no signature check
  aead_alg alg = aead_alg::aes_256_gcm;
  std::size_t max_outstanding = 20000;  ///< open loop: a publisher that far behind waits

  // idle
  unsigned connections = 10000;
  int broker_pid = 0;
  double settle_s = 3;

  // rotate
  unsigned iterations = 10;
  bool offline_members = false;  ///< members disconnect before the timed changes (isolates the broker's cost)
  key_custody custody = key_custody::broker;  ///< --custody client: the owner's client commits each epoch
};

/// Parses argv; on error returns bad_request with a message for the user.
[[nodiscard]] result<bench_options> parse_options(const std::vector<std::string>& args);

/// The --help text.
[[nodiscard]] std::string usage();

}  // namespace sealcast::bench
