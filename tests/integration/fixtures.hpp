#pragma once

// Shared set-up for the integration tests: a broker in a temporary directory, logged-in
// clients, and broker-custody groups whose members all hold the first key.

#include <catch2/catch_test_macros.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/broker_process.hpp"
#include "tests/support/test_client.hpp"

namespace sealcast::test {

namespace proto = protocol;
namespace srv = protocol::server;
namespace cli = protocol::client;

/// `--set key=value` as two arguments.
inline std::vector<std::string> sets(std::initializer_list<std::string> kvs) {
  std::vector<std::string> out;
  for (const auto& kv : kvs) {
    out.emplace_back("--set");
    out.push_back(kv);
  }
  return out;
}

/// A sealcastd on its own data directory; restart() keeps the data.
struct broker_fixture {
  temp_dir dir;
  std::vector<std::string> args;
  std::unique_ptr<broker_process> broker;

  explicit broker_fixture(std::vector<std::string> extra = {})
      : args(std::move(extra)), broker(std::make_unique<broker_process>(dir.path() / "data", args)) {}
  [[nodiscard]] std::uint16_t port() const { return broker->client_port(); }
  void restart() {
    broker.reset();
    broker = std::make_unique<broker_process>(dir.path() / "data", args);
  }
};

/// Waits until the broker can look the client's user up (user_keys answers ok). The welcome
/// alone should be enough; session_test checks that separately so that this race, while it
/// exists, does not hide what the other tests check.
inline void settle(test_client& c) {
  for (int i = 0; i < 100; ++i) {
    if (c.request(proto::client::user_keys{{}, c.user_id()}).is_ok()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  FAIL("the broker never learnt user " << c.user_id().hex());
}

/// A new identity, logged in and known to the broker.
inline std::unique_ptr<test_client> online(std::uint16_t port, const std::string& name = "") {
  auto c = std::make_unique<test_client>();
  c->login(port, name);
  settle(*c);
  return c;
}

/// Creates a broker-custody group of `owner` and `others`; every one of them holds epoch 1.
inline id16 make_group(test_client& owner, const std::vector<test_client*>& others, const std::string& name = "g") {
  std::vector<id16> ids;
  for (auto* o : others) ids.push_back(o->user_id());
  const auto g = owner.create_group(name, ids);
  REQUIRE(owner.wait_key(g, 1));
  for (auto* o : others) REQUIRE(o->wait_key(g, 1));
  return g;
}

/// Creates a client-custody group of `owner` (docs/protocol.md 6.4): the genesis commit, then
/// `others` added by the owner's signed proposals and one commit; every one of them holds that
/// last epoch's key (the others after replaying the chain from epoch 1).
inline id16 make_client_group(test_client& owner, const std::vector<test_client*>& others,
                              const std::string& name = "e2e",
                              proto::group_policy policy = proto::group_policy::invite) {
  std::vector<id16> ids;
  for (auto* o : others) ids.push_back(o->user_id());
  const auto g = owner.create_group(name, ids, proto::key_custody::client, policy);
  const auto e = owner.current_epoch(g);
  REQUIRE(e == (others.empty() ? 1u : 2u));
  for (auto* o : others) REQUIRE(o->wait_key(g, e));
  return g;
}

/// Commits the group's pending changes through `admin`, the only owner or admin online.
inline std::uint64_t commit_by(test_client& admin, const id16& g) {
  auto r = admin.commit(g);
  INFO("commit: " << (r ? std::string("ok") : r.err().message));
  REQUIRE(r.ok());
  return *r;
}

/// Commits the group's pending changes through whichever of `admins` the broker asks (it asks
/// one online owner or admin, and another one after a bad_rekey); the committed epoch.
inline std::uint64_t commit_any(const std::vector<test_client*>& admins, const id16& g,
                                std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string last = "no rekey_request reached any of the admins";
  while (std::chrono::steady_clock::now() < deadline) {
    for (auto* x : admins) {
      auto rq = x->rekey_request(g, std::chrono::milliseconds(30));
      if (!rq) continue;
      auto r = x->answer(*rq);
      if (r.is_ok()) {
        REQUIRE(x->wait_key(g, rq->epoch));
        return rq->epoch;
      }
      last = r.describe();
      if (r.code() != errc::bad_rekey) FAIL("rekey for epoch " << rq->epoch << ": " << last);
    }
  }
  FAIL("no commit: " << last);
  return 0;
}

/// Reads `n` message pushes of `group` (in arrival order), failing the test on a timeout.
inline std::vector<srv::message> messages(test_client& c, const id16& group, std::size_t n,
                                          std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  std::vector<srv::message> out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.size() < n) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    auto f = c.wait_for(
        [&](const proto::server_frame& x) {
          auto* m = std::get_if<srv::message>(&x);
          return m && m->group == group;
        },
        left);
    if (!f) break;
    out.push_back(std::get<srv::message>(std::move(*f)));
  }
  INFO("received " << out.size() << " of " << n << " messages");
  REQUIRE(out.size() == n);
  return out;
}

/// sealcast_groups_loaded from /metrics (-1 if it cannot be read).
inline long groups_loaded(broker_fixture& f) {
  auto r = http_get("127.0.0.1", f.broker->admin_port(), "/metrics");
  const std::string key = "\nsealcast_groups_loaded ";
  const auto at = r.body.find(key);
  if (r.status != 200 || at == std::string::npos) return -1;
  return std::stol(r.body.substr(at + key.size()));
}

/// Waits up to 10 s for sealcast_groups_loaded to read `n`.
inline bool wait_groups_loaded(broker_fixture& f, long n) {
  for (int i = 0; i < 100; ++i) {
    if (groups_loaded(f) == n) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

/// True when no message of `group` arrives within `window`.
inline bool no_message(test_client& c, const id16& group, std::chrono::milliseconds window) {
  return !c.wait_for(
      [&](const proto::server_frame& x) {
        auto* m = std::get_if<srv::message>(&x);
        return m && m->group == group;
      },
      window);
}

/// The plaintext of a delivery, failing the test if it does not verify or decrypt.
inline std::string plain(test_client& c, const srv::message& m) {
  auto r = c.decrypt(m);
  INFO("seq " << m.seq << ": " << (r ? std::string("ok") : r.err().message));
  REQUIRE(r.ok());
  return *r;
}

}  // namespace sealcast::test
