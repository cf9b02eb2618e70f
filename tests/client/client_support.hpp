#pragma once

// Shared set-up for the client library tests: an io_context driven from the test thread, a
// recorder of the events a client reports, and fast options (cheap Argon2, short backoff).

#include <catch2/catch_test_macros.hpp>

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include "client/sealcast_client.hpp"
#include "tests/support/broker_process.hpp"

// Catch2's REQUIRE(x) also names x in a never-taken branch of its do/while condition; GCC 12
// hoists a co_await out of that branch and runs it a second time. Inside coroutines, assert on
// awaited values through these instead.
#define CO_REQUIRE(...)                                     \
  do {                                                      \
    const bool co_assert_value_ = static_cast<bool>(__VA_ARGS__); \
    REQUIRE(co_assert_value_);                              \
  } while (false)
#define CO_CHECK(...)                                       \
  do {                                                      \
    const bool co_assert_value_ = static_cast<bool>(__VA_ARGS__); \
    CHECK(co_assert_value_);                                \
  } while (false)
#define CO_REQUIRE_FALSE(...) CO_REQUIRE(!(__VA_ARGS__))

namespace sealcast::test {

namespace asio = boost::asio;
namespace sc = sealcast::client;
using namespace std::chrono_literals;

/// Runs coroutines on an io_context from the test thread.
struct io_harness {
  asio::io_context ioc;

  /// Runs `a` to completion (at most `limit`); rethrows what it threw (Catch2 failures too).
  template <class T>
  T run(asio::awaitable<T> a, std::chrono::milliseconds limit = 60s) {
    auto fut = asio::co_spawn(ioc, std::move(a), asio::use_future);
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (fut.wait_for(0s) != std::future_status::ready && std::chrono::steady_clock::now() < deadline) {
      if (ioc.stopped()) ioc.restart();
      ioc.run_one_for(20ms);
    }
    REQUIRE(fut.wait_for(0s) == std::future_status::ready);
    return fut.get();
  }
  /// Lets background work (acks, closes) proceed for a while.
  void spin(std::chrono::milliseconds d) {
    const auto deadline = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < deadline) {
      if (ioc.stopped()) ioc.restart();
      ioc.run_one_for(10ms);
    }
  }
};

/// Polls `pred` every few milliseconds until it holds or `timeout` passes.
/// (A template, not std::function: GCC 12 destroys a converted temporary argument of a co_await'ed
/// call twice.)
template <class Pred>
asio::awaitable<bool> until(Pred pred, std::chrono::milliseconds timeout = 10s) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) co_return false;
    t.expires_after(5ms);
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  co_return true;
}

/// Sleeps on the io_context.
inline asio::awaitable<void> pause(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  t.expires_after(d);
  co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
}

/// Everything a client reported.
struct recorder {
  std::vector<sc::group_message> messages;
  std::vector<sc::direct_message> directs;
  std::vector<sc::key_event> keys;
  std::vector<sc::warning_event> warnings;
  std::vector<sc::membership_event> members;
  std::vector<sc::connection_event> connection;

  sc::handlers handlers() {
    sc::handlers h;
    h.on_message = [this](const sc::group_message& m) { messages.push_back(m); };
    h.on_direct = [this](const sc::direct_message& d) { directs.push_back(d); };
    h.on_key = [this](const sc::key_event& k) { keys.push_back(k); };
    h.on_warning = [this](const sc::warning_event& w) { warnings.push_back(w); };
    h.on_membership = [this](const sc::membership_event& m) { members.push_back(m); };
    h.on_connection = [this](const sc::connection_event& c) { connection.push_back(c); };
    return h;
  }
  [[nodiscard]] std::size_t warnings_of(sc::warning_kind k) const {
    std::size_t n = 0;
    for (const auto& w : warnings) n += w.kind == k ? 1 : 0;
    return n;
  }
  [[nodiscard]] std::vector<std::string> texts() const {
    std::vector<std::string> out;
    for (const auto& m : messages) out.push_back(m.text());
    return out;
  }
};

/// Options for a test client of the broker on `port`.
inline sc::options test_options(std::uint16_t port, const std::string& name) {
  sc::options o;
  o.url = "ws://127.0.0.1:" + std::to_string(port) + "/ws";
  o.name = name;
  o.connect_timeout = 5s;
  o.request_timeout = 5s;
  o.reconnect_min = 50ms;
  o.reconnect_max = 500ms;
  o.kdf = crypto::argon2_params{256, 1, 1};
  o.state_save_interval = 20ms;
  return o;
}

/// A library client with its recorder.
struct party {
  recorder rec;
  std::unique_ptr<sc::client> c;

  party(const asio::any_io_executor& ex, sc::options o, crypto::identity id = crypto::identity::generate())
      : c(std::make_unique<sc::client>(ex, std::move(id), std::move(o))) {
    c->set_handlers(rec.handlers());
  }
  sc::client* operator->() { return c.get(); }
  sc::client& operator*() { return *c; }
};

/// Connects, failing the test on an error.
inline asio::awaitable<void> connect_ok(sc::client& c) {
  auto r = co_await c.connect();
  INFO((r ? std::string("ok") : r.err().message));
  REQUIRE(r.ok());
}

/// Waits until `viewer` can look `user` up (the broker registers a user right after welcome).
inline asio::awaitable<void> known(sc::client& viewer, id16 user) {
  for (int i = 0; i < 200; ++i) {
    if (auto k = co_await viewer.user_keys(user); k) co_return;
    co_await pause(20ms);
  }
  FAIL("the broker never learnt user " << user.hex());
}

/// `--set key=value` as two arguments.
inline std::vector<std::string> sets(std::initializer_list<std::string> kvs) {
  std::vector<std::string> out;
  for (const auto& kv : kvs) {
    out.emplace_back("--set");
    out.push_back(kv);
  }
  return out;
}

}  // namespace sealcast::test
