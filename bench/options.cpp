#include "bench/options.hpp"

#include <charconv>
#include <cmath>
#include <map>

#include <boost/asio/ip/address.hpp>

#include "protocol/types.hpp"

namespace sealcast::bench {

namespace {

error bad(std::string message) { return error{errc::bad_request, std::move(message)}; }

template <class T>
bool parse_number(const std::string& s, T& out) {
  if constexpr (std::is_floating_point_v<T>) {
    try {
      std::size_t used = 0;
      out = static_cast<T>(std::stod(s, &used));
      return used == s.size() && std::isfinite(out);
    } catch (...) {
      return false;
    }
  } else {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && p == s.data() + s.size();
  }
}

bool is_loopback(const std::string& host) {
  if (host == "localhost") return true;
  boost::system::error_code ec;
  auto a = boost::asio::ip::make_address(host, ec);
  return !ec && a.is_loopback();
}

}  // namespace

const char* to_string(scenario s) noexcept {
  switch (s) {
    case scenario::fanout:
      return "fanout";
    case scenario::idle:
      return "idle";
    case scenario::rotate:
      return "rotate";
  }
  return "fanout";
}

const char* to_string(target_kind k) noexcept {
  switch (k) {
    case target_kind::sealcast:
      return "sealcast";
    case target_kind::nats:
      return "nats";
    case target_kind::mqtt:
      return "mqtt";
  }
  return "sealcast";
}

result<ws_target> parse_ws_url(const std::string& url) {
  constexpr std::string_view scheme = "ws://";
  if (url.rfind(scheme, 0) != 0) return bad("--url must start with ws:// (wss:// is not supported yet): " + url);
  auto rest = url.substr(scheme.size());
  ws_target t;
  const auto slash = rest.find('/');
  t.path = slash == std::string::npos ? "/" : rest.substr(slash);
  auto hostport = rest.substr(0, slash);
  const auto colon = hostport.rfind(':');
  if (colon == std::string::npos || colon + 1 == hostport.size()) return bad("--url needs a port: " + url);
  t.host = hostport.substr(0, colon);
  if (t.host.size() > 2 && t.host.front() == '[' && t.host.back() == ']') t.host = t.host.substr(1, t.host.size() - 2);
  if (!parse_number(hostport.substr(colon + 1), t.port) || t.port == 0) return bad("--url has a bad port: " + url);
  if (!is_loopback(t.host)) return bad("--url must name a loopback address in this version: " + url);
  if (t.host == "localhost") t.host = "127.0.0.1";
  return t;
}

result<bench_options> parse_options(const std::vector<std::string>& args) {
  bench_options o;
  bool scenario_seen = false;
  auto set_scenario = [&](const std::string& name) -> status {
    if (name == "fanout")
      o.which = scenario::fanout;
    else if (name == "idle")
      o.which = scenario::idle;
    else if (name == "rotate")
      o.which = scenario::rotate;
    else
      return bad("unknown scenario '" + name + "' (fanout, idle, rotate)");
    scenario_seen = true;
    return {};
  };
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string key = args[i];
    std::optional<std::string> inline_value;
    if (key.rfind("--", 0) != 0) {
      if (scenario_seen) return bad("unexpected argument '" + key + "'");
      if (auto st = set_scenario(key); !st) return st.err();
      continue;
    }
    if (const auto eq = key.find('='); eq != std::string::npos) {
      inline_value = key.substr(eq + 1);
      key = key.substr(0, eq);
    }
    // Flags without a value.
    if (key == "--help" || key == "-h") {
      o.help = true;
      continue;
    }
    if (key == "--no-verify") {
      o.verify = false;
      continue;
    }
    if (key == "--no-progress") {
      o.progress = false;
      continue;
    }
    if (key == "--all-publish") {
      o.all_publish = true;
      continue;
    }
    if (key == "--offline-members") {
      o.offline_members = true;
      continue;
    }
    std::string v;
    if (inline_value) {
      v = *inline_value;
    } else {
      if (i + 1 >= args.size()) return bad(key + " needs a value");
      v = args[++i];
    }
    auto number = [&](auto& out, double lo, double hi) -> status {
      double d = 0;
      if (!parse_number(v, d) || d < lo || d > hi)
        return bad(key + " must be a number in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got '" + v +
                   "'");
      using T = std::remove_reference_t<decltype(out)>;
      if constexpr (std::is_integral_v<T>) {
        if (d != std::floor(d)) return bad(key + " must be a whole number, got '" + v + "'");
      }
      out = static_cast<std::remove_reference_t<decltype(out)>>(d);
      return {};
    };
    status st;
    if (key == "--scenario")
      st = set_scenario(v);
    else if (key == "--url")
      o.url = v;
    else if (key == "--threads")
      st = number(o.threads, 1, 64);
    else if (key == "--json")
      o.json_path = v;
    else if (key == "--plot")
      o.plot_path = v;
    else if (key == "--target")
      o.target_url = v;
    else if (key == "--timeout") {
      double s = 0;
      st = number(s, 0.1, 600);
      o.timeout = std::chrono::milliseconds(static_cast<long>(s * 1000));
    } else if (key == "--connect-concurrency")
      st = number(o.connect_concurrency, 1, 100000);
    else if (key == "--source-addrs")
      st = number(o.source_addrs, 0, 250);
    else if (key == "--groups")
      st = number(o.groups, 1, 10000);
    else if (key == "--members")
      st = number(o.members, 1, 1000000);
    else if (key == "--size")
      st = number(o.size, 8, 16 * 1024 * 1024);
    else if (key == "--rate") {
      if (v == "max") {
        o.rate.reset();
      } else {
        double r = 0;
        st = number(r, 0.001, 1e7);
        o.rate = r;
      }
    } else if (key == "--window")
      st = number(o.window, 1, 1000000);
    else if (key == "--warmup")
      st = number(o.warmup_s, 0, 3600);
    else if (key == "--duration")
      st = number(o.duration_s, 0.1, 3600);
    else if (key == "--drain")
      st = number(o.drain_s, 0, 600);
    else if (key == "--ack-every")
      st = number(o.ack_every, 1, 1000000);
    else if (key == "--ack-delay-ms")
      st = number(o.ack_delay_ms, 1, 60000);
    else if (key == "--max-outstanding")
      st = number(o.max_outstanding, 1, 10000000);
    else if (key == "--alg") {
      auto a = protocol::parse_aead_alg(v);
      if (!a)
        st = bad("--alg must be aes-256-gcm, chacha20-poly1305 or xchacha20-poly1305");
      else
        o.alg = *a;
    } else if (key == "--connections")
      st = number(o.connections, 1, 1000000);
    else if (key == "--broker-pid")
      st = number(o.broker_pid, 1, 1 << 30);
    else if (key == "--settle")
      st = number(o.settle_s, 0, 600);
    else if (key == "--iterations")
      st = number(o.iterations, 1, 100000);
    else if (key == "--custody") {
      auto c = protocol::parse_key_custody(v);
      if (!c)
        st = bad("--custody must be broker or client");
      else
        o.custody = *c;
    } else
      st = bad("unknown option " + key);
    if (!st) return st.err();
  }
  if (o.help) return o;
  if (o.target_url.empty() || o.target_url == "sealcast") {
    o.target_url = "sealcast";
    auto t = parse_ws_url(o.url);
    if (!t) return t.err();
    o.target = *t;
  } else if (o.target_url.rfind("nats://", 0) == 0) {
    // nats://HOST:PORT names nats-server's WebSocket listener (websocket { listen: ... }): the
    // bench speaks the NATS text protocol over ws://HOST:PORT/.
    auto t = parse_ws_url("ws://" + o.target_url.substr(7));
    if (!t) return bad("--target: " + t.err().message);
    if (o.which != scenario::fanout) return bad("--target nats:// runs the fanout scenario only");
    o.kind = target_kind::nats;
    o.target = *t;
    o.target.path = "/";
  } else if (o.target_url.rfind("mqtt://", 0) == 0) {
    // mqtt://HOST:PORT: an MQTT broker's plain TCP listener (Mosquitto's `listener PORT HOST`).
    auto t = parse_ws_url("ws://" + o.target_url.substr(7));
    if (!t) return bad("--target: " + t.err().message);
    if (t->path != "/") return bad("--target mqtt://HOST:PORT takes no path, got '" + o.target_url + "'");
    if (o.which != scenario::fanout) return bad("--target mqtt:// runs the fanout scenario only");
    o.kind = target_kind::mqtt;
    o.target = *t;
  } else {
    return bad(
        "--target must be sealcast, nats://HOST:PORT (nats-server's WebSocket listener) or mqtt://HOST:PORT "
        "(an MQTT broker's TCP listener), got '" +
        o.target_url + "'");
  }
  if (!o.plot_path.empty() && o.which != scenario::fanout) return bad("--plot needs the fanout scenario");
  if (o.members == 0) o.members = o.which == scenario::rotate ? 1000 : 100;
  if (o.which == scenario::rotate && o.members < 3) return bad("rotate needs --members 3 or more");
  if (o.custody == key_custody::client && o.which != scenario::rotate)
    return bad("--custody needs the rotate scenario");
  if (o.all_publish && o.members < 2) return bad("--all-publish needs --members 2 or more");
  return o;
}

std::string usage() {
  return R"(sealcast-bench: load generator for sealcastd (loopback only)

usage: sealcast-bench SCENARIO [options]        SCENARIO: fanout | idle | rotate

common:
  --url ws://127.0.0.1:7800/ws   the broker's client endpoint
  --threads N              threads of the bench, each with its own io_context (1)
  --json FILE              write every parameter and figure as JSON
  --target T               sealcast (default: the broker at --url), nats://HOST:PORT (a
                           nats-server's WebSocket listener) or mqtt://HOST:PORT (an MQTT
                           broker such as Mosquitto, QoS 1); fanout only, see bench/README.md
  --plot FILE.svg          fanout: latency p50/p99/max and delivered/s per second of the window
  --timeout S              per connect, login and request (15)
  --connect-concurrency N  logins in flight at once (200)
  --source-addrs N         spread connections over 127.0.0.2..(N+1); 0 = automatic (8 above 2000)
  --no-progress            no live line on stderr

fanout: G publishers each create a group of M members and publish encrypted, signed messages
  --groups G (1)  --members M (100)  --size BYTES (256)  --alg aes-256-gcm
  --rate N|max (1000)      total publishes/s (open loop), or closed loop with --window W (64)
  --warmup S (2)  --duration S (10)  --drain S (10)
  --ack-every N (32)       recipients ack cumulatively every N messages (and when idle)
  --ack-delay-ms MS (20)   and at least every MS ms what is left unacked (one sweep per thread)
  --no-verify              recipients decrypt but skip the Ed25519 signature check
  --all-publish            every member publishes: G groups of M members (owner included), each
                           publish reaches the M-1 others; --rate is the total over G*M publishers
  --max-outstanding N (20000)

idle: N authenticated idle connections; broker RSS per connection
  --connections N (10000)  --broker-pid PID  --settle S (3)

rotate: time add_member/remove_member (a new epoch wrapped to every member) in a group, and
  count the key frame bytes members receive per change
  --members M (1000)       the group's size after each add, owner included
  --iterations K (10)      K adds and K removes, alternately
  --custody broker|client  who makes each epoch (broker); client: the owner proposes each change
                           and its client answers the broker's rekey_request (wraps, signs)
  --offline-members        members disconnect before the timed changes: only the owner (and the
                           member that comes and goes) receive key frames
  --broker-pid PID         also report the broker's CPU time per change

fanout also takes --broker-pid PID (sealcastd, nats-server or mosquitto): broker CPU per delivered
message.
)";
}

}  // namespace sealcast::bench
