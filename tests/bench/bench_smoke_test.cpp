// sealcast-bench: the histogram's buckets and quantiles, the command line, and one short run of
// each scenario against a real broker, checked through the JSON result file.

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <fstream>
#include <sstream>

#include <boost/json.hpp>

#include "bench/histogram.hpp"
#include "bench/options.hpp"
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

/// Runs sealcast-bench against `broker` with `args`; returns the JSON result (fails on exit != 0).
boost::json::object run_bench(const test::broker_process& broker, const test::temp_dir& dir,
                              std::vector<std::string> args) {
  const auto json = dir.path() / "result.json";
  args.insert(args.end(), {"--url", "ws://127.0.0.1:" + std::to_string(broker.client_port()) + "/ws", "--json",
                           json.string(), "--no-progress", "--timeout", "10"});
  auto r = test::run_program(test::bin_path("sealcast-bench"), args, 60s);
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  return read_json(json);
}

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
}
