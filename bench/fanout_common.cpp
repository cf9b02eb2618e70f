#include "bench/fanout_common.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>

#include "bench/system_stats.hpp"
#include "common/detail/coroutine_frame_warning.hpp"
#include "protocol/types.hpp"

namespace sealcast::bench {

void fanout_stats::open_window(std::uint64_t start, double duration_s) {
  per_second = std::make_unique<timeline>(start, static_cast<std::size_t>(std::ceil(duration_s)));
  window_start = start;
  window_end = start + static_cast<std::uint64_t>(duration_s * 1e9);
}

cpu_sample sample_cpu(int broker_pid) {
  cpu_sample s;
  s.at_ns = steady_ns();
  if (broker_pid) {
    s.broker_cpu_s = cpu_seconds(broker_pid);
    if (const auto threads = sched_threads(broker_pid); !threads.empty()) {
      double wait = 0;
      for (const auto& t : threads) wait += t.wait_s;
      s.broker_wait_s = wait;
    }
  }
  s.bench_cpu_s = cpu_seconds(::getpid());
  s.bench_threads = sched_threads(::getpid());
  return s;
}

std::uint64_t open_run_window(fanout_stats& st, const bench_options& o) {
  const auto start = steady_ns() + 100'000'000;
  st.open_window(start + static_cast<std::uint64_t>(o.warmup_s * 1e9), o.duration_s);
  return start;
}

boost::asio::awaitable<window_result> measure_and_drain(fanout_stats& st, const bench_options& o,
                                                        std::size_t publishers, unsigned recipients) {
  window_result r;
  st.phase = "warmup";
  co_await sleep_until_ns(st.window_start.load());
  st.phase = "measure";
  r.cpu.start = sample_cpu(o.broker_pid);
  co_await sleep_until_ns(st.window_end.load());
  r.cpu.end = sample_cpu(o.broker_pid);

  st.phase = "drain";
  (void)co_await wait_until([&] { return st.loops_done.load() == publishers; }, std::chrono::seconds(30));
  const auto settled = [&] {
    const auto acked = st.acked.load();
    return st.sent.load() == acked + st.publish_errors.load() && st.delivered.load() >= acked * recipients;
  };
  r.drained =
      co_await wait_until(settled, std::chrono::milliseconds(long(o.drain_s * 1000)), std::chrono::milliseconds(10));
  co_return r;
}

fanout_shape start_fanout(bench_context& ctx, report& out) {
  const auto& o = ctx.options();
  fanout_shape sh;
  sh.per_group = o.all_publish ? o.members : o.members + 1;
  sh.recipients = o.all_publish ? o.members - 1 : o.members;
  sh.total = static_cast<std::size_t>(o.groups) * sh.per_group;
  ctx.plan_connections(sh.total);
  fanout_parameters(out, o);
  return sh;
}

void fanout_parameters(report& out, const bench_options& o) {
  out.set_target(to_string(o.kind));
  out.param("target", o.kind == target_kind::sealcast ? o.url : o.target_url);
  out.param("groups", double(o.groups));
  out.param("members_per_group", double(o.members));
  out.param("all_publish", o.all_publish);
  out.param("recipients_per_publish", double(o.all_publish ? o.members - 1 : o.members));
  out.param("size_bytes", double(o.size));
  out.param("rate", o.rate ? param_value(*o.rate) : param_value(std::string("max")));
  if (!o.rate) out.param("window", double(o.window));
  out.param("warmup_s", o.warmup_s);
  out.param("duration_s", o.duration_s);
  if (o.kind == target_kind::sealcast) {
    out.param("ack_every", double(o.ack_every));
    out.param("ack_delay_ms", double(o.ack_delay_ms));
  }
  out.param("verify", o.verify);
  out.param("alg", std::string(protocol::to_string(o.alg)));
  out.param("threads", double(o.threads));
}

std::function<std::string(double)> fanout_progress(std::shared_ptr<fanout_stats> run, std::size_t total) {
  return [run, total](double t) {
    auto& s = *run;
    const auto acked = s.acked.load(), delivered = s.delivered.load(), sent = s.sent.load();
    const auto failed = std::min(sent - acked, s.publish_errors.load());
    const auto line = "t=" + std::to_string(int(t)) + "s " + s.phase.load() + " logins=" + std::to_string(s.logins.load()) +
                      "/" + std::to_string(total) + " sent=" + std::to_string(sent) +
                      " acked/s=" + std::to_string(acked - s.last_acked) +
                      " delivered/s=" + std::to_string(delivered - s.last_delivered) +
                      " outstanding=" + std::to_string(sent - acked - failed) +
                      " errors=" + std::to_string(s.publish_errors.load() + s.verify_failures.load() +
                                                  s.server_errors.load()) +
                      " reconnects=" + std::to_string(s.reconnects.load());
    s.last_acked = acked;
    s.last_delivered = delivered;
    return line;
  };
}

void fanout_report(report& out, fanout_stats& st, const bench_options& o, unsigned recipients,
                   std::uint64_t client_errors, const window_cpu& cpu, bool drained, const login_stats& logins) {
  const bool nats = o.kind == target_kind::nats, mqtt = o.kind == target_kind::mqtt;
  const char* ack = nats ? "PONG" : mqtt ? "PUBACK" : "ok";
  const double d = o.duration_s;
  out.add("offered_per_s", double(st.sent_window.load()) / d, "msg/s", "publishes sent per second (offered)");
  out.add("published_per_s", double(st.acked_window.load()) / d, "msg/s",
          std::string("publishes acked (") + ack + ") per second");
  out.add("delivered_per_s", double(st.delivered_window.load()) / d, "msg/s", "deliveries per second (all members)");
  out.add("sent_total", double(st.sent.load()), "", "publishes sent (whole run)");
  out.add("acked_total", double(st.acked.load()), "", std::string("publishes acked (") + ack + ", whole run)");
  out.add("delivered_total", double(st.delivered.load()), "", "deliveries (whole run)");
  const auto expected = st.acked.load() * recipients;
  out.add("expected_deliveries", double(expected), "", "expected deliveries (acked x recipients)");
  out.add("undelivered", double(expected > st.delivered.load() ? expected - st.delivered.load() : 0), "",
          "deliveries missing after the drain");
  out.add("publish_errors", double(st.publish_errors.load()), "", "publish errors (or unanswered)");
  out.add("verify_failures", double(st.verify_failures.load()), "", "messages that did not verify/decrypt");
  if (o.kind == target_kind::sealcast) {
    out.add("gaps", double(st.gaps.load()), "", "seq gaps seen by members");
    out.add("duplicates", double(st.duplicates.load()), "", "redelivered messages");
  }
  out.add("server_errors", double(st.server_errors.load()), "",
          nats   ? "-ERR from nats-server"
          : mqtt ? "refusals from the MQTT broker"
                 : "error frames");
  out.add("disconnects", double(st.disconnects.load()), "", "connections lost");
  out.add("reconnects", double(st.reconnects.load()), "", "reconnects (the bench does not reconnect: 0)");
  out.add("client_errors", double(client_errors + st.missing_key.load()), "", "client-side protocol errors");
  const auto errors = st.publish_errors.load() + st.verify_failures.load() + st.gaps.load() + st.duplicates.load() +
                      st.server_errors.load() + st.disconnects.load() + client_errors + st.missing_key.load();
  out.add("errors", double(errors), "", "errors of every kind");
  // CPU figures over the interval actually sampled (the readings can be late when the bench is
  // starved); deliveries are counted over the window itself.
  const cpu_sample* c0 = cpu.start ? &*cpu.start : nullptr;
  const cpu_sample* c1 = cpu.end ? &*cpu.end : nullptr;
  const double span = c0 && c1 && c1->at_ns > c0->at_ns ? static_cast<double>(c1->at_ns - c0->at_ns) / 1e9 : d;
  const double late_s = c0 && c1
                            ? std::max(static_cast<double>(c0->at_ns) - static_cast<double>(st.window_start.load()),
                                       static_cast<double>(c1->at_ns) - static_cast<double>(st.window_end.load())) /
                                  1e9
                            : 0;
  if (c0 && c1 && c0->broker_cpu_s && c1->broker_cpu_s) {
    const double s = *c1->broker_cpu_s - *c0->broker_cpu_s;
    out.add("broker_cpu_pct", 100 * s / span, "%", "broker CPU in the window");
    if (st.delivered_window.load() > 0)
      out.add("broker_cpu_us_per_delivery", 1e6 * (s / span) * d / double(st.delivered_window.load()), "us",
              "broker CPU per delivered message");
    if (c0->broker_wait_s && c1->broker_wait_s)
      out.add("broker_wait_pct", 100 * (*c1->broker_wait_s - *c0->broker_wait_s) / span, "%",
              "broker threads waiting for a CPU (summed)");
  }
  // The bench is the bottleneck when it used all the CPU its threads can get (as many CPUs as it
  // has threads, no more than its affinity mask allows), or when one of its threads was busy or
  // waiting for a CPU all the time: that thread's connections were served as fast as it could.
  const unsigned capacity = std::min(o.threads, usable_cpus());
  bool saturated = false;
  if (c0 && c1 && c0->bench_cpu_s && c1->bench_cpu_s) {
    const double bench_cpu = (*c1->bench_cpu_s - *c0->bench_cpu_s) / span;
    saturated = bench_cpu > 0.9 * capacity;
    out.add("bench_cpu_pct", 100 * bench_cpu, "%", "bench CPU in the window");
    out.add("bench_cpu_capacity_pct", 100.0 * capacity, "%", "CPU the bench can get (threads, affinity)");
    double wait = 0, busiest = 0;
    for (const auto& t1 : c1->bench_threads) {
      for (const auto& t0 : c0->bench_threads) {
        if (t0.tid != t1.tid) continue;
        wait += t1.wait_s - t0.wait_s;
        busiest = std::max(busiest, (t1.cpu_s - t0.cpu_s + t1.wait_s - t0.wait_s) / span);
      }
    }
    if (!c1->bench_threads.empty()) {
      out.add("bench_wait_pct", 100 * wait / span, "%", "bench threads waiting for a CPU (summed)");
      out.add("bench_busiest_thread_pct", 100 * busiest, "%", "busiest bench thread: on a CPU or waiting for one");
      saturated = saturated || busiest > 0.9;
    }
    out.add("bench_saturated", saturated ? 1 : 0, "", "1: the bench was the bottleneck");
  }
  out.add_latency("publish_to_ack",
                  nats   ? "publish -> PONG (flush)"
                  : mqtt ? "publish -> PUBACK"
                         : "publish -> ok",
                  st.ack_ns.summary());
  out.add_latency("publish_to_deliver", "publish -> deliver", st.deliver_ns.summary());
  out.add_latency("login",
                  nats   ? "connect -> first PONG"
                  : mqtt ? "connect -> CONNACK, SUBACK"
                         : "connect -> welcome",
                  logins.login);

  out.check("sent_accounted", "publishes sent = acked + failed", double(st.sent.load()),
            double(st.acked.load() + st.publish_errors.load()));
  out.check("delivered_equals_expected", "deliveries = acked x " + std::to_string(recipients) + " recipients",
            double(expected), double(st.delivered.load()));
  out.check("no_errors", "errors of every kind", 0, double(errors));
  if (st.per_second) out.set_timeline(st.per_second->points());

  if (!out.invariants_hold())
    out.note("INVARIANT MISMATCH: see the invariant table" +
             std::string(nats   ? " (NATS is at-most-once: a slow consumer loses messages)"
                         : mqtt ? " (Mosquitto drops QoS 1 messages beyond max_queued_messages per subscriber)"
                                : ""));
  if (o.rate && double(st.acked_window.load()) / d < 0.95 * *o.rate)
    out.note("acked publishes fell short of the offered rate: the broker or the bench was saturated");
  if (saturated)
    out.note("the bench was the bottleneck: it used all the CPU its threads can get (" + std::to_string(capacity) +
             (capacity == 1 ? " CPU" : " CPUs") +
             ") or one of its threads was always on a CPU or waiting for one; figures are a lower bound for the "
             "broker" +
             std::string(o.verify ? " (try --no-verify)" : ""));
  if (late_s > 0.05 * d)
    out.note("the CPU readings at the window's edges were " + std::to_string(static_cast<int>(late_s * 1000)) +
             " ms late (the bench's scenario thread was held up): CPU figures cover the interval actually read");
  if (!drained) out.note("the drain timed out: some acks or deliveries never arrived");
  if (!st.first_error.empty()) out.note("first error: " + st.first_error);
  if (!o.rate) out.note("closed loop: latency is measured from the actual send, which waits for a free window slot");
  if (nats)
    out.note(
        "nats-server core NATS has no durability: nothing is stored, a publish is 'acked' by the PONG of a "
        "PING sent after it (the server has processed it), and a subscriber that is offline or slow loses "
        "messages; sealcastd commits every publish to RocksDB before its ok");
  if (mqtt)
    out.note(
        "MQTT 5, QoS 1 both ways: a publish is 'acked' by its PUBACK, which Mosquitto sends once the message is "
        "in its in-memory store and queued for every subscriber; with `persistence true` "
        "(bench/mosquitto-bench.conf) that store is written to one file every autosave_interval (1800 s there) "
        "and at shutdown, not per message and with no fsync per publish: a crash loses what arrived since the "
        "last save. Subscribers' sessions outlive their connection (expiry 300 s), so an offline subscriber's "
        "messages stay queued, in memory. sealcastd commits every publish to RocksDB (storage.sync=true: a "
        "synced WAL) before its ok");

  if (!o.plot_path.empty()) {
    const std::string shape = o.all_publish ? std::to_string(o.groups) + " groups x " + std::to_string(o.members) +
                                                  " members, all publishing"
                                            : std::to_string(o.groups) + " x (1 -> " + std::to_string(o.members) + ")";
    const std::string title =
        "sealcast-bench fanout, target " + out.target() + ": " + shape + ", " + std::to_string(o.size) + " B";
    const std::string subtitle =
        (o.rate ? "open loop, " + std::to_string(static_cast<long long>(*o.rate)) + " publishes/s offered"
                : "closed loop, window " + std::to_string(o.window)) +
        (o.verify ? ", verified" : ", --no-verify") + "; publish -> deliver latency per second";
    if (auto w = write_svg_plot(o.plot_path, title, subtitle, out.timeline_points()); !w)
      out.note("plot: " + w.err().message);
  }
}

}  // namespace sealcast::bench
