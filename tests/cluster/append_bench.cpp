// Append latency and throughput of the group log on the shared 3-node loopback cluster. Hidden
// from the default run; run it with: build/tests/cluster_tests "[bench]"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include <catch2/catch_test_macros.hpp>

#include "cluster/group_log.hpp"
#include "tests/cluster/shared_cluster.hpp"

using namespace sealcast;
using namespace std::chrono_literals;
using std::chrono::steady_clock;

namespace {

struct summary {
  double p50_us = 0;
  double p99_us = 0;
  double per_s = 0;
};

summary summarize(std::vector<double> lat_us, std::chrono::nanoseconds wall) {
  std::sort(lat_us.begin(), lat_us.end());
  auto at = [&](double q) { return lat_us[static_cast<std::size_t>(q * static_cast<double>(lat_us.size() - 1))]; };
  return {at(0.50), at(0.99), static_cast<double>(lat_us.size()) / std::chrono::duration<double>(wall).count()};
}

cluster::log_options bench_log(const std::string& name) {
  cluster::log_options o;
  o.stream = name;
  o.subject_prefix = "bench" + name;
  o.max_age = std::chrono::seconds(600);
  o.duplicates = std::chrono::seconds(120);
  return o;
}

// What the async ack handler needs: send times by index, latencies out.
struct async_state {
  std::mutex mu;
  std::vector<steady_clock::time_point> sent;
  std::vector<double> lat_us;
  std::atomic<int> errors{0};
  std::atomic<int> duplicates{0};
};

void on_ack(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure) {
  auto* st = static_cast<async_state*>(closure);
  const auto now = steady_clock::now();
  if (pae != nullptr || pa == nullptr) {
    st->errors++;
  } else {
    if (pa->Duplicate) st->duplicates++;
    const std::size_t i = std::stoul(cluster::header_value(msg, "Sc-Bench-I"));
    std::lock_guard lock(st->mu);
    st->lat_us.push_back(std::chrono::duration<double, std::micro>(now - st->sent[i]).count());
  }
  natsMsg_Destroy(msg);
}

}  // namespace

TEST_CASE("append latency and throughput, one append in flight", "[.][bench]") {
  auto c = test::connect_client("bench-sync");
  auto log = cluster::group_log::open(c, bench_log("BENCH_SYNC"));
  REQUIRE(log.ok());
  const std::string body(256, 'x');
  constexpr int n = 2000;
  std::vector<double> lat;
  lat.reserve(n);
  const auto start = steady_clock::now();
  for (int i = 1; i <= n; ++i) {
    const auto t0 = steady_clock::now();
    auto ack = log->append(static_cast<std::uint32_t>(i % 64), test::test_group(static_cast<std::uint8_t>(i % 64)),
                           static_cast<std::uint64_t>(i), as_bytes(body));
    REQUIRE(ack.ok());
    lat.push_back(std::chrono::duration<double, std::micro>(steady_clock::now() - t0).count());
  }
  const auto s = summarize(lat, steady_clock::now() - start);
  WARN("one in flight, " << n << " appends of 256 B: p50 " << s.p50_us << " us, p99 " << s.p99_us << " us, " << s.per_s
                         << " appends/s");
}

TEST_CASE("append latency and throughput, many groups in flight (js_PublishMsgAsync)", "[.][bench]") {
  auto c = test::connect_client("bench-async");
  // The log's stream, then a JetStream context of our own whose ack handler measures.
  REQUIRE(cluster::group_log::open(c, bench_log("BENCH_ASYNC")).ok());
  async_state st;
  constexpr int groups = 64;
  constexpr int n = 20000;
  st.sent.resize(n);
  st.lat_us.reserve(n);
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = 10000;
  jo.PublishAsync.MaxPending = groups;  // about one in flight per group
  jo.PublishAsync.AckHandler = on_ack;
  jo.PublishAsync.AckHandlerClosure = &st;
  jsCtx* raw = nullptr;
  REQUIRE(natsConnection_JetStream(&raw, c.connection(), &jo) == NATS_OK);
  cluster::nats_ptr<jsCtx> js(raw);

  const std::string body(256, 'x');
  const auto start = steady_clock::now();
  for (int i = 0; i < n; ++i) {
    const auto g = test::test_group(static_cast<std::uint8_t>(i % groups));
    const std::string subject = "benchBENCH_ASYNC." + std::to_string(i % groups) + "." + g.hex();
    const std::string id = cluster::group_log::msg_id(g, static_cast<std::uint64_t>(i / groups + 1));
    natsMsg* m = nullptr;
    REQUIRE(natsMsg_Create(&m, subject.c_str(), nullptr, body.data(), static_cast<int>(body.size())) == NATS_OK);
    natsMsgHeader_Set(m, "Sc-Bench-I", std::to_string(i).c_str());
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = id.c_str();
    {
      std::lock_guard lock(st.mu);
      st.sent[static_cast<std::size_t>(i)] = steady_clock::now();
    }
    REQUIRE(js_PublishMsgAsync(js.get(), &m, &po) == NATS_OK);  // takes the message; stalls at MaxPending
  }
  jsPubOptions done;
  jsPubOptions_Init(&done);
  done.MaxWait = 30000;
  REQUIRE(js_PublishAsyncComplete(js.get(), &done) == NATS_OK);
  const auto wall = steady_clock::now() - start;
  CHECK(st.errors == 0);
  CHECK(st.duplicates == 0);
  std::lock_guard lock(st.mu);
  REQUIRE(st.lat_us.size() == static_cast<std::size_t>(n));
  const auto s = summarize(st.lat_us, wall);
  WARN(groups << " groups, up to " << groups << " in flight, " << n << " appends of 256 B: p50 " << s.p50_us
              << " us, p99 " << s.p99_us << " us, " << s.per_s << " appends/s");
}
