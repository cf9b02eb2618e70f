#pragma once

#include <boost/asio/awaitable.hpp>

#include "bench/report.hpp"
#include "bench/runner.hpp"
#include "common/error.hpp"

// The scenarios sealcast-bench runs; each fills a report and ends by itself.

namespace sealcast::bench {

/// G publishers each create a group of M members and publish encrypted, signed messages at a
/// fixed open-loop rate (or closed loop with a window); recipients verify, decrypt and ack.
/// Reports published/s, delivered/s, publish-to-ack and publish-to-deliver latency.
boost::asio::awaitable<status> run_fanout(bench_context& ctx, report& out);

/// The fanout scenario against nats-server's WebSocket listener (--target nats://HOST:PORT):
/// the same publishers, subscribers, payload bytes, rates and report as run_fanout.
boost::asio::awaitable<status> run_nats_fanout(bench_context& ctx, report& out);

/// The fanout scenario against an MQTT broker such as Mosquitto (--target mqtt://HOST:PORT): the
/// same publishers, subscribers, payload bytes, rates and report, MQTT 5 QoS 1 (the PUBACK is
/// the ack).
boost::asio::awaitable<status> run_mqtt_fanout(bench_context& ctx, report& out);

/// Opens N authenticated connections that then stay idle; reports the broker's RSS growth per
/// connection (--broker-pid) and how fast the connections were set up.
boost::asio::awaitable<status> run_idle(bench_context& ctx, report& out);

/// Times add_member and remove_member in a broker-custody group of M members (each starts an
/// epoch whose key is wrapped to every member), and the time until every member holds the key.
boost::asio::awaitable<status> run_rotate(bench_context& ctx, report& out);

}  // namespace sealcast::bench
