// sealcast-bench: the histogram's buckets and quantiles, the command line, and one short run of
// each scenario against a real broker, checked through the JSON result file.

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <boost/json.hpp>
#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>

#include "bench/histogram.hpp"
#include "bench/keyed_group.hpp"
#include "bench/nats_client.hpp"
#include "bench/options.hpp"
#include "bench/timeline.hpp"
#include "tests/support/broker_process.hpp"

using namespace sealcast;
using namespace sealcast::bench;
using namespace std::chrono_literals;

namespace {

boost::json::object read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return boost::json::parse(ss.str()).as_object();
}

double figure(const boost::json::object& result, const char* key) {
  return result.at("figures").as_object().at(key).to_number<double>();
}

/// Runs sealcast-bench with `args` (plus --json and quiet options); returns the JSON result
/// (fails on exit != 0).
boost::json::object run_bench_args(const test::temp_dir& dir, std::vector<std::string> args) {
  const auto json = dir.path() / "result.json";
  args.insert(args.end(), {"--json", json.string(), "--no-progress", "--timeout", "10"});
  auto r = test::run_program(test::bin_path("sealcast-bench"), args, 60s);
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  return read_json(json);
}

/// Runs sealcast-bench against `broker` with `args`; returns the JSON result (fails on exit != 0).
boost::json::object run_bench(const test::broker_process& broker, const test::temp_dir& dir,
                              std::vector<std::string> args) {
  args.insert(args.end(), {"--url", "ws://127.0.0.1:" + std::to_string(broker.client_port()) + "/ws"});
  return run_bench_args(dir, std::move(args));
}

/// Checks the fanout report's invariants and the fields every fanout JSON carries.
void check_fanout_report(const boost::json::object& r, const char* target) {
  INFO(boost::json::serialize(r));
  CHECK(r.at("target").as_string() == target);
  CHECK(r.at("invariants_hold").as_bool());
  const auto& inv = r.at("invariants").as_array();
  std::set<std::string> keys;
  for (const auto& i : inv) {
    const auto& o = i.as_object();
    keys.insert(std::string(o.at("key").as_string()));
    CHECK(o.at("holds").as_bool());
    CHECK(o.at("expected").to_number<double>() == o.at("actual").to_number<double>());
  }
  CHECK(keys == std::set<std::string>{"sent_accounted", "delivered_equals_expected", "no_errors"});
  // delivered = published x recipients, read back from the figures themselves.
  const auto members = r.at("parameters").as_object().at("recipients_per_publish").to_number<double>();
  CHECK(figure(r, "sent_total") > 0);
  CHECK(figure(r, "delivered_total") == figure(r, "acked_total") * members);
  CHECK(figure(r, "sent_total") == figure(r, "acked_total"));
  for (const char* k : {"errors", "reconnects", "disconnects", "verify_failures", "publish_errors", "undelivered"})
    CHECK(figure(r, k) == 0);
  for (const char* k : {"published_per_s", "delivered_per_s", "expected_deliveries", "broker_cpu_pct",
                        "broker_cpu_us_per_delivery", "bench_cpu_pct"})
    CHECK(r.at("figures").as_object().contains(k));
  for (const char* l : {"publish_to_ack", "publish_to_deliver"}) {
    const auto& lat = r.at("latency").as_object().at(l).as_object();
    CHECK(lat.at("count").to_number<double>() > 0);
    for (const char* q : {"p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms"}) CHECK(lat.contains(q));
    CHECK(lat.at("p999_ms").to_number<double>() >= lat.at("p99_ms").to_number<double>());
    CHECK(lat.at("max_ms").to_number<double>() >= lat.at("p999_ms").to_number<double>());
  }
  const auto& tl = r.at("timeline").as_array();
  CHECK(tl.size() == static_cast<std::size_t>(std::ceil(r.at("parameters").as_object().at("duration_s").to_number<double>())));
  double delivered = 0;
  for (const auto& p : tl) delivered += p.as_object().at("delivered_per_s").to_number<double>();
  CHECK(delivered > 0);
}

/// Parses the SVG as XML and returns the ids of its polylines with at least one point.
std::set<std::string> svg_series(const std::filesystem::path& p) {
  namespace pt = boost::property_tree;
  pt::ptree tree;
  pt::read_xml(p.string(), tree);  // throws on malformed XML
  const auto& svg = tree.get_child("svg");
  CHECK(svg.get<std::string>("<xmlattr>.xmlns") == "http://www.w3.org/2000/svg");
  std::set<std::string> ids;
  for (const auto& [name, child] : svg) {
    if (name != "polyline") continue;
    if (!child.get<std::string>("<xmlattr>.points", "").empty()) ids.insert(child.get<std::string>("<xmlattr>.id"));
  }
  return ids;
}

/// A free loopback TCP port (bound, read back and released: good enough for a test).
unsigned short free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  ::close(fd);
  return ntohs(a.sin_port);
}

bool port_accepts(unsigned short port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

constexpr const char* nats_server_path = "/usr/sbin/nats-server";

/// A nats-server with a WebSocket listener (no TLS) on a free port, stopped on destruction.
class nats_server_process {
 public:
  explicit nats_server_process(const std::filesystem::path& dir) {
    ws_port_ = free_port();
    const auto client_port = free_port();
    const auto conf = dir / "nats.conf";
    std::ofstream(conf) << "listen: \"127.0.0.1:" << client_port << "\"\n"
                        << "websocket {\n  listen: \"127.0.0.1:" << ws_port_ << "\"\n  no_tls: true\n}\n";
    const auto log = dir / "nats.log";
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(out, 1);
      ::dup2(out, 2);
      ::execl(nats_server_path, nats_server_path, "-c", conf.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 200 && !port_accepts(ws_port_); ++i) std::this_thread::sleep_for(25ms);
    REQUIRE(port_accepts(ws_port_));
  }
  ~nats_server_process() {
    ::kill(pid_, SIGTERM);
    int st = 0;
    ::waitpid(pid_, &st, 0);
  }
  nats_server_process(const nats_server_process&) = delete;
  nats_server_process& operator=(const nats_server_process&) = delete;

  [[nodiscard]] int pid() const { return pid_; }
  [[nodiscard]] unsigned short ws_port() const { return ws_port_; }

 private:
  int pid_ = -1;
  unsigned short ws_port_ = 0;
};

constexpr const char* mosquitto_path = "/usr/sbin/mosquitto";

/// A mosquitto with bench/mosquitto-bench.conf (the listener moved to a free port, persistence in
/// a temporary directory), stopped on destruction or by stop().
class mosquitto_process {
 public:
  explicit mosquitto_process(const std::filesystem::path& dir) : db_dir_(dir / "mosquitto-db") {
    port_ = free_port();
    std::filesystem::create_directories(db_dir_);
    std::ifstream in(SEALCAST_BENCH_DIR "/mosquitto-bench.conf");
    REQUIRE(in);
    const auto conf = dir / "mosquitto.conf";
    {
      std::ofstream out(conf);
      std::string line;
      bool listener = false;
      while (std::getline(in, line)) {
        if (line.rfind("listener ", 0) == 0) {
          out << "listener " << port_ << " 127.0.0.1\n";
          listener = true;
        } else {
          out << line << "\n";
        }
      }
      REQUIRE(listener);
      const passwd* me = ::getpwuid(::geteuid());
      REQUIRE(me);
      out << "persistence_location " << db_dir_.string() << "/\nuser " << me->pw_name << "\n";
    }
    const auto log = dir / "mosquitto.log";
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(out, 1);
      ::dup2(out, 2);
      ::execl(mosquitto_path, mosquitto_path, "-c", conf.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 200 && !port_accepts(port_); ++i) std::this_thread::sleep_for(25ms);
    REQUIRE(port_accepts(port_));
  }
  ~mosquitto_process() { (void)stop(); }
  mosquitto_process(const mosquitto_process&) = delete;
  mosquitto_process& operator=(const mosquitto_process&) = delete;

  /// SIGTERM and wait; returns the exit status (mosquitto saves its store on the way out).
  int stop() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    int st = 0;
    ::waitpid(pid_, &st, 0);
    pid_ = -1;
    return st;
  }
  [[nodiscard]] int pid() const { return pid_; }
  [[nodiscard]] unsigned short port() const { return port_; }
  [[nodiscard]] const std::filesystem::path& db_dir() const { return db_dir_; }

 private:
  std::filesystem::path db_dir_;
  int pid_ = -1;
  unsigned short port_ = 0;
};

}  // namespace

TEST_CASE("histogram buckets keep values within 1/32 and quantiles never undershoot", "[bench]") {
  for (std::uint64_t v : {0ull, 1ull, 63ull, 64ull, 65ull, 1000ull, 123456789ull, ~0ull}) {
    const auto i = histogram::index_of(v);
    REQUIRE(i < histogram::bucket_count);
    const auto hi = histogram::upper_bound_of(i);
    CHECK(hi >= v);
    CHECK(static_cast<double>(hi - v) <= static_cast<double>(v) / 32.0 + 1);
  }
  histogram h;
  for (std::uint64_t v = 1; v <= 1000; ++v) h.record(v * 1000);
  const auto s = h.summary();
  CHECK(s.count == 1000);
  CHECK(s.min == 1000);
  CHECK(s.max == 1'000'000);
  CHECK(s.p50 >= 500'000);
  CHECK(s.p50 <= 500'000 * 33 / 32);
  CHECK(s.p999 >= 999'000);
  CHECK(s.p999 <= 1'000'000);
}

TEST_CASE("the command line takes a scenario, --rate max and refuses remote URLs", "[bench]") {
  auto o = parse_options({"rotate", "--url", "ws://127.0.0.1:7900/ws", "--iterations", "3"});
  REQUIRE(o);
  CHECK(o->which == scenario::rotate);
  CHECK(o->members == 1000);
  CHECK(o->target.port == 7900);
  auto f = parse_options({"--scenario=fanout", "--rate", "max", "--window", "8"});
  REQUIRE(f);
  CHECK_FALSE(f->rate.has_value());
  CHECK(f->members == 100);
  CHECK_FALSE(parse_options({"fanout", "--url", "ws://192.0.2.1:7800/ws"}));
  CHECK_FALSE(parse_options({"fanout", "--members", "1.5"}));
  CHECK_FALSE(parse_options({"nosuch"}));
  CHECK(o->custody == key_custody::broker);
  auto c = parse_options({"rotate", "--custody", "client"});
  REQUIRE(c);
  CHECK(c->custody == key_custody::client);
  CHECK_FALSE(parse_options({"rotate", "--custody", "nobody"}));
  CHECK_FALSE(parse_options({"fanout", "--custody", "client"}));
}

TEST_CASE("the --target option takes sealcast, a nats-server WebSocket listener or an MQTT broker, --plot a file",
          "[bench]") {
  auto n = parse_options({"fanout", "--target", "nats://127.0.0.1:4223", "--plot", "x.svg"});
  REQUIRE(n);
  CHECK(n->kind == target_kind::nats);
  CHECK(n->target.port == 4223);
  CHECK(n->target.path == "/");
  CHECK(n->plot_path == "x.svg");
  auto s = parse_options({"fanout", "--target", "sealcast"});
  REQUIRE(s);
  CHECK(s->kind == target_kind::sealcast);
  CHECK_FALSE(parse_options({"fanout", "--target", "nats://192.0.2.1:4223"}));
  CHECK_FALSE(parse_options({"fanout", "--target", "tcp://127.0.0.1:4222"}));
  CHECK_FALSE(parse_options({"idle", "--target", "nats://127.0.0.1:4223"}));
  auto m = parse_options({"fanout", "--target", "mqtt://127.0.0.1:18830"});
  REQUIRE(m);
  CHECK(m->kind == target_kind::mqtt);
  CHECK(m->target.port == 18830);
  CHECK(m->target.host == "127.0.0.1");
  CHECK_FALSE(parse_options({"fanout", "--target", "mqtt://192.0.2.1:1883"}));
  CHECK_FALSE(parse_options({"fanout", "--target", "mqtt://127.0.0.1"}));
  CHECK_FALSE(parse_options({"rotate", "--target", "mqtt://127.0.0.1:1883"}));
}

TEST_CASE("a keyed group's frames open once for their sender, in any order, and never for another", "[bench]") {
  bench_options o;
  o.size = 64;
  const auto g = keyed_group::make("sealcast-bench/x/0", 2);
  frame_sealer alice(g, 0, o), bob(g, 1, o);
  std::vector<std::string> from_alice;
  for (std::uint64_t t = 1; t <= 3; ++t) {
    auto f = alice.seal(1000 * t);
    REQUIRE(f);
    from_alice.push_back(*f);
  }
  auto from_bob = bob.seal(42);
  REQUIRE(from_bob);
  frame_opener member(g, true);
  CHECK(member.open(0, from_alice[2]) == 3000u);  // out of order: the skipped keys are kept
  CHECK(member.open(0, from_alice[0]) == 1000u);
  CHECK(member.open(1, *from_bob) == 42u);
  CHECK_FALSE(member.open(0, from_alice[0]));  // a replay
  CHECK_FALSE(member.open(1, from_alice[1]));  // not Bob's
  CHECK_FALSE(member.open(std::nullopt, from_alice[1]));
  CHECK_FALSE(member.open(0, "{}"));
  frame_opener decrypt_only(g, false);
  CHECK(decrypt_only.open(0, from_alice[1]) == 2000u);
  CHECK(sender_index("sealcast-bench/x/0/12", '/') == 12u);
  CHECK(sender_index("sealcast-bench.x.0.3", '.') == 3u);
  CHECK_FALSE(sender_index("sealcast-bench/x/0/+", '/'));
  CHECK_FALSE(sender_index("nodots", '.'));
}

TEST_CASE("the NATS parser reassembles messages split across WebSocket frames", "[bench]") {
  const std::string stream =
      "INFO {\"server_id\":\"x\"}\r\nPING\r\nMSG a.b 1 5\r\nhello\r\n+OK\r\nMSG a.b 1 _INBOX.r 0\r\n\r\n"
      "PONG\r\n-ERR 'Slow Consumer'\r\nMSG a.b 12 7\r\nx\r\ny\r\nz\r\n";
  // Every split point, and every frame size from 1 byte up, gives the same events.
  for (std::size_t chunk = 1; chunk <= stream.size(); chunk += (chunk < 16 ? 1 : 13)) {
    nats_parser p;
    std::vector<std::string> seen;
    for (std::size_t i = 0; i < stream.size(); i += chunk) {
      auto err = p.feed(std::string_view(stream).substr(i, chunk), [&](const nats_event& e) {
        switch (e.what) {
          case nats_event::kind::msg:
            seen.push_back("MSG " + std::string(e.subject) + " " + std::string(e.sid) + " [" + std::string(e.payload) + "]");
            break;
          case nats_event::kind::ping:
            seen.emplace_back("PING");
            break;
          case nats_event::kind::pong:
            seen.emplace_back("PONG");
            break;
          case nats_event::kind::ok:
            seen.emplace_back("+OK");
            break;
          case nats_event::kind::err:
            seen.push_back("ERR " + std::string(e.text));
            break;
          case nats_event::kind::info:
            seen.emplace_back("INFO");
            break;
        }
      });
      REQUIRE(err.empty());
    }
    INFO("chunk " << chunk);
    CHECK(seen == std::vector<std::string>{"INFO", "PING", "MSG a.b 1 [hello]", "+OK", "MSG a.b 1 []", "PONG",
                                           "ERR 'Slow Consumer'", "MSG a.b 12 [x\r\ny\r\nz]"});
    CHECK(p.pending() == 0);
  }
  nats_parser bad;
  CHECK_FALSE(bad.feed("WHAT\r\n", [](const nats_event&) {}).empty());
  nats_parser bad_size;
  CHECK_FALSE(bad_size.feed("MSG a 1 x\r\n", [](const nats_event&) {}).empty());
  nats_parser no_crlf;
  CHECK_FALSE(no_crlf.feed("MSG a 1 2\r\nabcd\r\n", [](const nats_event&) {}).empty());
}

TEST_CASE("the plot is well-formed SVG with the latency and rate series", "[bench]") {
  timeline tl(1'000'000'000, 3);
  for (std::uint64_t i = 0; i < 100; ++i) {
    tl.record_latency(1'000'000'000 + i * 20'000'000, 1'000'000 + i * 10'000);
    tl.count_delivery(1'000'000'000 + i * 20'000'000);
  }
  tl.count_delivery(5'000'000'000);  // outside: ignored
  const auto pts = tl.points();
  REQUIRE(pts.size() == 3);
  CHECK(pts[0].delivered_per_s == 50);
  CHECK(pts[1].delivered_per_s == 50);
  CHECK(pts[2].samples == 0);
  CHECK(pts[0].p50_ms >= 1.0);
  CHECK(pts[1].max_ms >= pts[1].p99_ms);
  test::temp_dir dir;
  const auto file = dir.path() / "plot.svg";
  REQUIRE(write_svg_plot(file.string(), "title <&>", "sub", pts));
  CHECK(svg_series(file) == std::set<std::string>{"p50", "p99", "max", "delivered"});
}

TEST_CASE("fanout publishes, delivers to every member and reports latency", "[bench][broker]") {
  test::temp_dir dir;
  test::broker_process broker(dir.path() / "data", {"--set", "log.level=warn"});
  auto r =
      run_bench(broker, dir,
                {"fanout", "--groups", "2", "--members", "5", "--rate", "200", "--warmup", "0.3", "--duration", "1"});
  CHECK(figure(r, "published_per_s") > 100);
  CHECK(figure(r, "delivered_per_s") > 500);
  CHECK(figure(r, "undelivered") == 0);
  CHECK(figure(r, "verify_failures") == 0);
  CHECK(figure(r, "publish_errors") == 0);
  CHECK(r.at("latency").as_object().at("publish_to_deliver").as_object().at("count").to_number<double>() > 0);
}

TEST_CASE("fanout in closed loop without verification still decrypts", "[bench][broker]") {
  test::temp_dir dir;
  test::broker_process broker(dir.path() / "data", {"--set", "log.level=warn", "--set", "storage.sync=false"});
  auto r = run_bench(broker, dir,
                     {"fanout", "--members", "3", "--rate", "max", "--window", "4", "--warmup", "0", "--duration",
                      "0.5", "--no-verify"});
  CHECK(figure(r, "published_per_s") > 0);
  CHECK(figure(r, "verify_failures") == 0);
}

TEST_CASE("fanout's report holds its invariants, with JSON fields and a plot", "[bench][broker]") {
  test::temp_dir dir;
  test::broker_process broker(dir.path() / "data", {"--set", "log.level=warn"});
  const auto svg = dir.path() / "fanout.svg";
  auto r = run_bench(broker, dir,
                     {"fanout", "--groups", "2", "--members", "4", "--rate", "100", "--warmup", "0.2", "--duration", "2",
                      "--broker-pid", std::to_string(broker.pid()), "--plot", svg.string()});
  check_fanout_report(r, "sealcast");
  CHECK(figure(r, "gaps") == 0);
  CHECK(figure(r, "duplicates") == 0);
  CHECK(svg_series(svg) == std::set<std::string>{"p50", "p99", "max", "delivered"});
  // Every member publishes: each publish reaches the 2 others of its group of 3.
  auto all = run_bench(broker, dir,
                       {"fanout", "--groups", "2", "--members", "3", "--all-publish", "--rate", "60", "--warmup", "0.2",
                        "--duration", "1", "--broker-pid", std::to_string(broker.pid())});
  check_fanout_report(all, "sealcast");
  CHECK(all.at("parameters").as_object().at("recipients_per_publish").to_number<double>() == 2);
  CHECK(figure(all, "connections") == 6);
}

TEST_CASE("fanout against nats-server through its WebSocket listener holds the same invariants", "[bench][nats]") {
  if (!std::filesystem::exists(nats_server_path)) SKIP("no " << nats_server_path);
  test::temp_dir dir;
  nats_server_process nats(dir.path());
  const auto svg = dir.path() / "nats.svg";
  auto r = run_bench_args(
      dir, {"fanout", "--target", "nats://127.0.0.1:" + std::to_string(nats.ws_port()), "--groups", "2", "--members",
            "4", "--rate", "100", "--warmup", "0.2", "--duration", "2", "--broker-pid", std::to_string(nats.pid()),
            "--plot", svg.string()});
  check_fanout_report(r, "nats");
  CHECK(svg_series(svg) == std::set<std::string>{"p50", "p99", "max", "delivered"});
  // Closed loop, decrypt only.
  auto c = run_bench_args(dir, {"fanout", "--target", "nats://127.0.0.1:" + std::to_string(nats.ws_port()),
                                "--members", "3", "--rate", "max", "--window", "4", "--warmup", "0", "--duration", "1",
                                "--no-verify", "--broker-pid", std::to_string(nats.pid())});
  check_fanout_report(c, "nats");
  // Every member publishes (echo off): each publish reaches the 2 others of its group of 3.
  auto all = run_bench_args(dir, {"fanout", "--target", "nats://127.0.0.1:" + std::to_string(nats.ws_port()),
                                  "--groups", "2", "--members", "3", "--all-publish", "--rate", "60", "--warmup", "0.2",
                                  "--duration", "1", "--broker-pid", std::to_string(nats.pid())});
  check_fanout_report(all, "nats");
  CHECK(figure(all, "connections") == 6);
}

TEST_CASE("fanout against Mosquitto (MQTT 5, QoS 1, persistence on) holds the same invariants", "[bench][mqtt]") {
  if (!std::filesystem::exists(mosquitto_path)) SKIP("no " << mosquitto_path);
  test::temp_dir dir;
  mosquitto_process mosquitto(dir.path());
  const auto target = "mqtt://127.0.0.1:" + std::to_string(mosquitto.port());
  const auto svg = dir.path() / "mqtt.svg";
  auto r = run_bench_args(
      dir, {"fanout", "--target", target, "--groups", "2", "--members", "4", "--rate", "100", "--warmup", "0.2",
            "--duration", "2", "--broker-pid", std::to_string(mosquitto.pid()), "--plot", svg.string()});
  check_fanout_report(r, "mqtt");
  CHECK(figure(r, "connections") == 2 * 5);
  CHECK(svg_series(svg) == std::set<std::string>{"p50", "p99", "max", "delivered"});
  // Closed loop, decrypt only, two bench threads.
  auto c = run_bench_args(
      dir, {"fanout", "--target", target, "--members", "3", "--rate", "max", "--window", "4", "--warmup", "0",
            "--duration", "1", "--no-verify", "--threads", "2", "--broker-pid", std::to_string(mosquitto.pid())});
  check_fanout_report(c, "mqtt");
  // Every member publishes (No Local): each publish reaches the 2 others of its group of 3, not
  // its sender, or the delivery count would exceed acked x 2.
  auto all = run_bench_args(
      dir, {"fanout", "--target", target, "--groups", "2", "--members", "3", "--all-publish", "--rate", "60",
            "--warmup", "0.2", "--duration", "1", "--broker-pid", std::to_string(mosquitto.pid())});
  check_fanout_report(all, "mqtt");
  CHECK(figure(all, "connections") == 6);
  // Persistence is on: Mosquitto writes its store when it stops.
  const int st = mosquitto.stop();
  CHECK(WIFEXITED(st));
  CHECK(std::filesystem::exists(mosquitto.db_dir() / "mosquitto.db"));
}

TEST_CASE("compare_table.py puts every target x shape side by side and marks bench-bound figures", "[bench]") {
  test::temp_dir dir;
  // What sealcast-bench --json writes, reduced to the fields the table reads.
  auto run = [&](const std::string& name, double published, double delivered, bool saturated, bool holds, double rate) {
    boost::json::object r;
    r["invariants_hold"] = holds;
    r["parameters"] = boost::json::object{{"rate", rate}};
    r["figures"] = boost::json::object{{"published_per_s", published},
                                       {"delivered_per_s", delivered},
                                       {"broker_cpu_us_per_delivery", 12.5},
                                       {"bench_saturated", saturated ? 1 : 0}};
    r["latency"] = boost::json::object{
        {"publish_to_deliver", boost::json::object{{"count", 100}, {"p50_ms", 1.5}, {"p99_ms", 7.25}}}};
    std::ofstream(dir.path() / (name + ".json")) << boost::json::serialize(r);
  };
  run("sealcast-1x1000-max", 60, 60000, false, true, 0);
  run("sealcast-1x1000-lat", 24, 24000, false, true, 24);
  run("mqtt-1x1000-max", 40, 40000, true, true, 0);
  run("mqtt-1x1000-lat", 24, 24000, false, false, 24);
  run("sealcast-50x2-max", 900, 900, false, true, 0);  // mqtt-50x2 never ran
  auto r = test::run_program("/usr/bin/python3",
                             {SEALCAST_BENCH_DIR "/compare_table.py", "--dir", dir.path().string(), "--targets",
                              "sealcast mqtt", "--shapes", "1x1000 50x2", "--setting", "test run"},
                             30s);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  std::ifstream md_in(dir.path() / "compare.md");
  std::stringstream md;
  md << md_in.rdbuf();
  INFO(md.str());
  CHECK_THAT(md.str(), Catch::Matchers::ContainsSubstring("| shape | figure | Sealcast | Mosquitto |"));
  CHECK_THAT(md.str(),
             Catch::Matchers::ContainsSubstring("| 1x1000 | max deliveries/s (closed loop) | 60.0k | 40.0k* |"));
  CHECK_THAT(md.str(), Catch::Matchers::ContainsSubstring("at 24 publishes/s | 1.5 / 7.2 | 1.5 / 7.2! |"));
  CHECK_THAT(md.str(), Catch::Matchers::ContainsSubstring("| 50x2 | max publishes/s (closed loop) | 900 | - |"));
  const auto j = read_json(dir.path() / "compare.json");
  CHECK(j.at("rows").as_array().size() == 4);
  // The chart is well-formed SVG with one bar per figure that exists.
  namespace pt = boost::property_tree;
  pt::ptree tree;
  pt::read_xml((dir.path() / "compare.svg").string(), tree);
  std::size_t bars = 0;
  std::function<void(const pt::ptree&)> count = [&](const pt::ptree& t) {
    for (const auto& [name, child] : t) {
      if (name == "rect" && child.get<std::string>("<xmlattr>.class", "") == "bar") ++bars;
      count(child);
    }
  };
  count(tree.get_child("svg"));
  CHECK(bars == 2 * 3 + 1 + 1);  // 1x1000: 3 figures x 2 targets; 50x2: Sealcast's max and CPU
}

TEST_CASE("idle measures the broker's memory per connection", "[bench][broker]") {
  test::temp_dir dir;
  test::broker_process broker(dir.path() / "data", {"--set", "log.level=warn"});
  auto r = run_bench(broker, dir,
                     {"idle", "--connections", "40", "--settle", "0.2", "--source-addrs", "2", "--broker-pid",
                      std::to_string(broker.pid())});
  CHECK(figure(r, "connections") == 40);
  CHECK(figure(r, "open_after_settle") == 40);
  CHECK(r.at("figures").as_object().contains("broker_bytes_per_connection"));
}

TEST_CASE("rotate times add_member and remove_member until every member holds the key", "[bench][broker]") {
  test::temp_dir dir;
  test::broker_process broker(dir.path() / "data", {"--set", "log.level=warn"});
  auto r = run_bench(broker, dir, {"rotate", "--members", "12", "--iterations", "2"});
  CHECK(figure(r, "add_ok_median_ms") > 0);
  CHECK(figure(r, "add_keys_max_ms") > 0);
  CHECK(figure(r, "incomplete") == 0);
  CHECK(figure(r, "key_errors") == 0);
  // v2 key frames carry the one change, not the member list: small, and the same for everyone.
  CHECK(figure(r, "add_key_bytes_per_member") > 0);
  CHECK(figure(r, "add_key_bytes_per_member") < 1024);
  CHECK(std::abs(figure(r, "add_key_bytes") - figure(r, "add_key_bytes_per_member") * 12) < 1);
  CHECK(std::abs(figure(r, "remove_key_bytes") - figure(r, "remove_key_bytes_per_member") * 11) < 1);
}

TEST_CASE("rotate in client custody: the owner's client commits each change", "[bench][broker]") {
  test::temp_dir dir;
  test::broker_process broker(dir.path() / "data", {"--set", "log.level=warn"});
  auto r = run_bench(broker, dir, {"rotate", "--members", "12", "--iterations", "2", "--custody", "client"});
  INFO(boost::json::serialize(r));
  CHECK(r.at("parameters").as_object().at("custody").as_string() == "client");
  CHECK(figure(r, "add_keys_median_ms") > 0);
  CHECK(figure(r, "remove_keys_median_ms") > 0);
  CHECK(figure(r, "incomplete") == 0);
  CHECK(figure(r, "key_errors") == 0);
  CHECK(figure(r, "commits") == 2 + 4);  // genesis, the members, then 2 adds and 2 removes
  CHECK(figure(r, "add_key_bytes_per_member") < 1024);
}
