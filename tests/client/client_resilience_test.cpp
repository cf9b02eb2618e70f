// The library client when things go wrong or stop: a broker restart (reconnect and resume), a
// restart of the client from its state file, gaps, a tampered key chain, timeouts, bad URLs and
// wrong passphrases.

#include <fstream>
#include <thread>
#include <algorithm>

#include <csignal>

#include "client/state_file.hpp"
#include "crypto/direct.hpp"
#include "tests/client/client_support.hpp"
#include "tests/support/test_client.hpp"

namespace sealcast::test {
namespace {

namespace cd = sealcast::client::detail;

sc::options with_state(sc::options o, const std::filesystem::path& file) {
  o.state_file = file;
  o.passphrase = "state pass";
  return o;
}

// -- reconnect ----------------------------------------------------------------------------------

struct restart_scene {
  std::unique_ptr<party> alice, bob;
  id16 group;
};

asio::awaitable<void> restart_before(std::uint16_t port, restart_scene& s) {
  auto ex = co_await asio::this_coro::executor;
  s.alice = std::make_unique<party>(ex, test_options(port, "alice"));
  s.bob = std::make_unique<party>(ex, test_options(port, "bob"));
  co_await connect_ok(**s.alice);
  co_await connect_ok(**s.bob);
  co_await known(**s.alice, (*s.bob)->user_id());
  sc::group_spec spec;
  spec.name = "durable";
  spec.members = {(*s.bob)->user_id()};
  auto g = co_await (*s.alice)->create_group(spec);
  REQUIRE(g.ok());
  s.group = g->group;
  CO_REQUIRE((co_await (*s.alice)->publish(s.group, std::string_view("before restart"))).ok());
  CO_REQUIRE(co_await until([&] { return s.bob->rec.messages.size() == 1; }));
}

asio::awaitable<void> restart_after(restart_scene& s) {
  auto& alice = *s.alice;
  auto& bob = *s.bob;
  CO_REQUIRE(co_await alice->wait_connected(15s));
  CO_REQUIRE(co_await bob->wait_connected(15s));
  auto p = co_await alice->publish(s.group, std::string_view("after restart"));
  INFO((p ? "" : p.err().message));
  REQUIRE(p.ok());
  CHECK(p->seq == 2);  // the broker kept the group and its seq
  CO_REQUIRE(co_await until([&] { return bob.rec.messages.size() == 2; }));
  CHECK(bob.rec.messages[1].text() == "after restart");
  CHECK(bob.rec.messages[1].verified);
  CHECK(bob->stats().reconnects >= 1);
  CHECK(alice->stats().reconnects >= 1);
  const auto saw_reconnecting = std::any_of(bob.rec.connection.begin(), bob.rec.connection.end(), [](const auto& e) {
    return e.state == sc::connection_state::reconnecting;
  });
  CHECK(saw_reconnecting);
  CHECK(bob.rec.warnings_of(sc::warning_kind::broker_changed) == 0);
}

asio::awaitable<void> while_down(restart_scene& s) {
  CO_REQUIRE(co_await until(
      [&] { return (*s.bob)->state() == sc::connection_state::reconnecting; }, 10s));
}

TEST_CASE("clients reconnect after the broker restarts and carry on", "[client][reconnect]") {
  temp_dir dir;
  auto broker = std::make_unique<broker_process>(dir.path() / "data");
  const auto port = broker->client_port();
  io_harness io;
  restart_scene s;
  io.run(restart_before(port, s));
  broker->stop(SIGTERM);
  io.run(while_down(s));
  io.spin(300ms);  // a few failed reconnect attempts
  broker = std::make_unique<broker_process>(dir.path() / "data",
                                            sets({"gateway.listen=127.0.0.1:" + std::to_string(port)}));
  REQUIRE(broker->client_port() == port);
  io.run(restart_after(s));
  s.alice.reset();
  s.bob.reset();
  io.spin(50ms);
}

// -- state file ---------------------------------------------------------------------------------

struct state_scene {
  std::filesystem::path bob_state;
  crypto::identity bob_id = crypto::identity::generate();
  id16 group;
  std::uint64_t bob_seen = 0;
};

// Bob (no auto-ack) sees three messages over two epochs, acknowledges only the first two, and
// stops. The third stays undelivered at the broker.
asio::awaitable<void> state_first_run(std::uint16_t port, state_scene& s, std::unique_ptr<party>& alice) {
  auto ex = co_await asio::this_coro::executor;
  alice = std::make_unique<party>(ex, test_options(port, "alice"));
  auto bob_opts = with_state(test_options(port, "bob"), s.bob_state);
  bob_opts.auto_ack = false;
  party bob(ex, bob_opts, s.bob_id);
  party carol(ex, test_options(port, "carol"));
  co_await connect_ok(**alice);
  co_await connect_ok(*bob);
  co_await connect_ok(*carol);
  co_await known(**alice, bob->user_id());
  co_await known(**alice, carol->user_id());
  sc::group_spec spec;
  spec.name = "remember";
  spec.members = {bob->user_id()};
  auto g = co_await (*alice)->create_group(spec);
  REQUIRE(g.ok());
  s.group = g->group;
  CO_REQUIRE((co_await (*alice)->publish(s.group, std::string_view("one"))).ok());
  CO_REQUIRE((co_await (*alice)->publish(s.group, std::string_view("two"))).ok());
  CO_REQUIRE((co_await (*alice)->add_member(s.group, carol->user_id())).ok());
  CO_REQUIRE(co_await until([&] { return (*alice)->has_key(s.group, 2); }));
  CO_REQUIRE((co_await (*alice)->publish(s.group, std::string_view("three"))).ok());
  CO_REQUIRE(co_await until([&] { return bob.rec.messages.size() == 3; }));
  CHECK(bob.rec.texts() == std::vector<std::string>{"one", "two", "three"});
  CHECK(bob.rec.messages[2].epoch == 2);
  bob->ack(s.group, 2);
  s.bob_seen = bob->last_seq(s.group);
  CHECK(s.bob_seen == 3);
  auto flushed = co_await bob->close_and_flush();
  REQUIRE(flushed.ok());
}

// Bob restarts from the state file: the redelivered third message is dropped as already seen,
// and epoch 1 (which the broker does not resend) is still installed. Messages he read before do
// not open again: their single-use keys are gone (forward secrecy within the epoch).
asio::awaitable<void> state_second_run(std::uint16_t port, state_scene& s) {
  auto ex = co_await asio::this_coro::executor;
  party bob(ex, with_state(test_options(port, "bob"), s.bob_state), s.bob_id);
  co_await connect_ok(*bob);
  CHECK(bob->last_seq(s.group) == s.bob_seen);
  CHECK(bob->has_key(s.group, 1));
  CHECK(bob->has_key(s.group, 2));
  CO_REQUIRE(co_await until([&] { return bob->stats().duplicates_dropped >= 1; }));
  CHECK(bob.rec.messages.empty());

  // A client without the state file gets only the keys the broker resends.
  party fresh(ex, test_options(port, "bob"), s.bob_id);
  co_await connect_ok(*fresh);
  CO_REQUIRE(co_await until([&] { return fresh->has_key(s.group, 2); }));
  CHECK_FALSE(fresh->has_key(s.group, 1));
  fresh->close();

  // Messages already read, fetched again from the broker's retention, are replays.
  auto old = co_await bob->fetch(s.group, 1, 2);
  INFO((old ? "" : old.err().message));
  REQUIRE(old.ok());
  CHECK(old->empty());
  CHECK(bob.rec.warnings_of(sc::warning_kind::replay) == 2);
  CHECK(bob.rec.messages.empty());
}

asio::awaitable<void> state_wrong_passphrase(std::uint16_t port, state_scene& s) {
  auto ex = co_await asio::this_coro::executor;
  auto o = with_state(test_options(port, "bob"), s.bob_state);
  o.passphrase = "not the passphrase";
  party bob(ex, o, s.bob_id);
  auto r = co_await bob->connect();
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::bad_passphrase);
  CHECK(r.err().message.find("wrong passphrase") != std::string::npos);
  CHECK(bob->state() != sc::connection_state::connected);

  // Somebody else's identity with this state file is refused too.
  party mallory(ex, with_state(test_options(port, "mallory"), s.bob_state));
  auto m = co_await mallory->connect();
  REQUIRE_FALSE(m.ok());
  CHECK(m.err().message.find("belongs to user") != std::string::npos);
}

TEST_CASE("a client restarted from its state file skips seen messages, keeps old epochs and refuses re-reads",
          "[client][state]") {
  temp_dir dir;
  broker_process broker(dir.path() / "data", sets({"pubsub.retain_delivered=3600"}));
  io_harness io;
  state_scene s;
  s.bob_state = dir.path() / "bob.state";
  std::unique_ptr<party> alice;
  io.run(state_first_run(broker.client_port(), s, alice));
  io.spin(100ms);
  REQUIRE(std::filesystem::exists(s.bob_state));
  auto identity_back = sc::load_state_identity(s.bob_state, "state pass");
  REQUIRE(identity_back.ok());
  CHECK(identity_back->user_id() == s.bob_id.user_id());
  io.run(state_second_run(broker.client_port(), s));
  io.spin(50ms);
  io.run(state_wrong_passphrase(broker.client_port(), s));
  alice.reset();
  io.spin(50ms);
}

// close_and_flush with a long state_save_interval: close cancels the saver's coalescing wait
// and writes the latest state at once (it does not wait out the interval).
asio::awaitable<void> flush_long_interval(std::uint16_t port, const std::filesystem::path& file, id16& group,
                                          std::uint64_t& seen) {
  auto ex = co_await asio::this_coro::executor;
  party alice(ex, test_options(port, "alice"));
  auto bob_opts = with_state(test_options(port, "bob"), file);
  bob_opts.state_save_interval = std::chrono::hours(1);
  party bob(ex, bob_opts);
  co_await connect_ok(*alice);
  co_await connect_ok(*bob);
  co_await known(*alice, bob->user_id());
  sc::group_spec spec;
  spec.name = "flushed";
  spec.members = {bob->user_id()};
  auto g = co_await alice->create_group(spec);
  REQUIRE(g.ok());
  group = g->group;
  CO_REQUIRE((co_await alice->publish(group, std::string_view("one"))).ok());
  CO_REQUIRE((co_await alice->publish(group, std::string_view("two"))).ok());
  CO_REQUIRE(co_await until([&] { return bob.rec.messages.size() == 2; }));
  seen = bob->last_seq(group);
  // The saver is still in its one-hour wait: nothing written yet.
  CHECK_FALSE(std::filesystem::exists(file));
  auto flushed = co_await bob->close_and_flush();
  INFO((flushed ? "" : flushed.err().message));
  REQUIRE(flushed.ok());
  CHECK(bob.rec.warnings_of(sc::warning_kind::state_file) == 0);
  co_await alice->close_and_flush();
}

TEST_CASE("close_and_flush writes the latest state at once despite a long state_save_interval", "[client][state]") {
  temp_dir dir;
  broker_process broker(dir.path() / "data");
  io_harness io;
  const auto file = dir.path() / "bob.state";
  id16 group;
  std::uint64_t seen = 0;
  // The limit guards against waiting out the interval (one hour); it is not a speed check.
  io.run(flush_long_interval(broker.client_port(), file, group, seen), 30s);
  REQUIRE(seen == 2);
  REQUIRE(std::filesystem::exists(file));
  auto back = cd::read_state(file, "state pass");
  INFO((back ? "" : back.err().message));
  REQUIRE(back.ok());
  REQUIRE(back->second.groups.contains(group));
  CHECK(back->second.groups.at(group).last_seq == seen);
  CHECK(back->second.groups.at(group).seq_known);
}

// -- gaps ---------------------------------------------------------------------------------------

struct gap_scene {
  std::filesystem::path bob_state;
  crypto::identity bob_id = crypto::identity::generate();
  id16 group;
  std::unique_ptr<party> alice;
};

asio::awaitable<void> gap_first(std::uint16_t port, gap_scene& s) {
  auto ex = co_await asio::this_coro::executor;
  s.alice = std::make_unique<party>(ex, test_options(port, "alice"));
  party bob(ex, with_state(test_options(port, "bob"), s.bob_state), s.bob_id);
  co_await connect_ok(**s.alice);
  co_await connect_ok(*bob);
  co_await known(**s.alice, bob->user_id());
  sc::group_spec spec;
  spec.name = "gappy";
  spec.members = {bob->user_id()};
  auto g = co_await (*s.alice)->create_group(spec);
  REQUIRE(g.ok());
  s.group = g->group;
  CO_REQUIRE((co_await (*s.alice)->publish(s.group, std::string_view("first"))).ok());
  CO_REQUIRE(co_await until([&] { return bob.rec.messages.size() == 1; }));
  CO_REQUIRE((co_await bob->close_and_flush()).ok());
}

asio::awaitable<void> gap_publish(gap_scene& s, const char* text) {
  auto p = co_await (*s.alice)->publish(s.group, std::string_view(text));
  REQUIRE(p.ok());
}

asio::awaitable<void> gap_second(std::uint16_t port, gap_scene& s) {
  auto ex = co_await asio::this_coro::executor;
  party bob(ex, with_state(test_options(port, "bob"), s.bob_state), s.bob_id);
  co_await connect_ok(*bob);
  CHECK(bob->last_seq(s.group) == 1);
  co_await gap_publish(s, "third");
  CO_REQUIRE(co_await until([&] { return bob.rec.messages.size() == 2; }));
  // seq 2 went to another session of bob's and was acknowledged there; this session noticed the
  // jump from 1 to 3 and fetched it, in order.
  CHECK(bob.rec.texts() == std::vector<std::string>{"second", "third"});
  CHECK(bob.rec.messages[0].fetched);
  CHECK(bob.rec.messages[0].seq == 2);
  CHECK_FALSE(bob.rec.messages[1].fetched);
  CHECK(bob->stats().gaps_detected == 1);
  CHECK(bob->stats().fetched == 1);
  CHECK(bob.rec.warnings_of(sc::warning_kind::gap) == 1);
}

TEST_CASE("a seq gap makes the client fetch the missing messages, in order", "[client][gap]") {
  temp_dir dir;
  broker_process broker(dir.path() / "data", sets({"pubsub.retain_delivered=3600"}));
  io_harness io;
  gap_scene s;
  s.bob_state = dir.path() / "bob.state";
  io.run(gap_first(broker.client_port(), s));
  io.spin(50ms);

  // Another session of bob's (the blocking test client) takes seq 2 and acknowledges it.
  test_client other(s.bob_id);
  other.login(broker.client_port());
  io.run(gap_publish(s, "second"));
  auto m2 = other.next_push<protocol::server::message>(5s);
  REQUIRE(m2);
  CHECK(m2->seq == 2);
  REQUIRE(other.ack(s.group, 2));
  other.drain(100ms);
  other.disconnect();

  io.run(gap_second(broker.client_port(), s));
  s.alice.reset();
  io.spin(50ms);
}

// -- tampered chain -----------------------------------------------------------------------------

struct chain_scene {
  std::filesystem::path bob_state;
  crypto::identity bob_id = crypto::identity::generate();
  id16 group;
  std::unique_ptr<party> alice;
  id16 carol;
};

asio::awaitable<void> chain_first(std::uint16_t port, chain_scene& s) {
  auto ex = co_await asio::this_coro::executor;
  s.alice = std::make_unique<party>(ex, test_options(port, "alice"));
  party bob(ex, with_state(test_options(port, "bob"), s.bob_state), s.bob_id);
  party carol(ex, test_options(port, "carol"));
  co_await connect_ok(**s.alice);
  co_await connect_ok(*bob);
  co_await connect_ok(*carol);
  s.carol = carol->user_id();
  co_await known(**s.alice, bob->user_id());
  co_await known(**s.alice, carol->user_id());
  sc::group_spec spec;
  spec.name = "chain";
  spec.members = {bob->user_id()};
  auto g = co_await (*s.alice)->create_group(spec);
  REQUIRE(g.ok());
  s.group = g->group;
  CO_REQUIRE(co_await until([&] { return bob->has_key(s.group, 1); }));
  CO_REQUIRE((co_await bob->close_and_flush()).ok());
}

asio::awaitable<void> chain_second(std::uint16_t port, chain_scene& s) {
  auto ex = co_await asio::this_coro::executor;
  party bob(ex, with_state(test_options(port, "bob"), s.bob_state), s.bob_id);
  co_await connect_ok(*bob);
  // Epoch 1 sent again does not match what bob recorded: a chain break, nothing installed.
  CO_REQUIRE(co_await until([&] { return bob.rec.warnings_of(sc::warning_kind::chain_break) == 1; }));
  CHECK_FALSE(bob->has_key(s.group, 1));
  // Epoch 2 signed over the broker's (true) epoch 1 does not verify over bob's: refused too (a key
  // frame carries no prev_hash, so the signature is what fails).
  CO_REQUIRE((co_await (*s.alice)->add_member(s.group, s.carol)).ok());
  CO_REQUIRE(co_await until([&] { return bob.rec.warnings_of(sc::warning_kind::bad_signature) == 1; }));
  CHECK_FALSE(bob->has_key(s.group, 2));  // not installed
  CHECK(bob->stats().keys_rejected == 2);
  CO_REQUIRE(co_await until([&] { return (*s.alice)->has_key(s.group, 2); }));  // an untampered member accepts it
  CHECK(s.alice->rec.warnings_of(sc::warning_kind::chain_break) == 0);
  CHECK(s.alice->rec.warnings_of(sc::warning_kind::bad_signature) == 0);
}

TEST_CASE("keys whose manifests do not chain to the remembered ones are refused with warnings",
          "[client][verify]") {
  temp_dir dir;
  broker_process broker(dir.path() / "data");
  io_harness io;
  chain_scene s;
  s.bob_state = dir.path() / "bob.state";
  io.run(chain_first(broker.client_port(), s));
  io.spin(50ms);

  // Rewrite history in bob's state: epoch 1's manifest hash no longer matches the broker's, and
  // its ratchets are gone, so the key frame the broker sends again at login is checked anew.
  auto st = cd::read_state(s.bob_state, "state pass");
  REQUIRE(st.ok());
  auto& g = st->second.groups.at(s.group);
  g.chain.history.at(1).manifest_hash[0] ^= 0xff;
  g.epochs.erase(1);
  REQUIRE(cd::write_state(s.bob_state, cd::encode_state(st->first, st->second), "state pass",
                          crypto::argon2_params{256, 1, 1})
              .ok());

  io.run(chain_second(broker.client_port(), s));
  s.alice.reset();
  io.spin(50ms);
}

// -- replays -------------------------------------------------------------------------------------

asio::awaitable<void> replay_connect(std::uint16_t port, std::unique_ptr<party>& bob, const crypto::identity& id) {
  auto ex = co_await asio::this_coro::executor;
  bob = std::make_unique<party>(ex, test_options(port, "bob"), id);
  co_await connect_ok(**bob);
}

asio::awaitable<void> replay_check(party& bob, bool group_replay_stored, bool direct_replay_stored) {
  const std::size_t replays = (group_replay_stored ? 1 : 0) + (direct_replay_stored ? 1 : 0);
  CO_REQUIRE(co_await until([&] {
    return bob.rec.messages.size() == 1 && bob.rec.directs.size() == 1 &&
           bob.rec.warnings_of(sc::warning_kind::replay) == replays;
  }));
  co_await pause(200ms);  // nothing else shows up
  CHECK(bob.rec.texts() == std::vector<std::string>{"one"});
  REQUIRE(bob.rec.directs.size() == 1);
  CHECK(bob.rec.directs[0].text() == "psst");
  CHECK(bob.rec.warnings_of(sc::warning_kind::replay) == replays);
}

TEST_CASE("a repeated ratchet index and a repeated direct message are refused as replays", "[client][replay]") {
  temp_dir dir;
  broker_process broker(dir.path() / "data");
  io_harness io;
  const auto bob_id = crypto::identity::generate();
  std::unique_ptr<party> bob;
  io.run(replay_connect(broker.client_port(), bob, bob_id));

  // alice (the blocking test client) sends a message, then the same index again under a new seq.
  test_client alice;
  alice.login(broker.client_port());
  const auto group = alice.create_group("replays", {bob_id.user_id()});
  REQUIRE(alice.wait_key(group, 1));
  REQUIRE(alice.publish(group, "one").is_ok());
  const auto again = alice.request(alice.make_publish_at(group, 1, 0, "one again"));
  INFO("replayed publish: " << again.describe());

  // And one sealed direct message sent twice (two ids, one HPKE enc).
  auto sealed = crypto::seal_direct(alice.identity(), bob_id.user_id(), bob_id.kx_pk(),
                                    as_bytes(std::string_view("psst")));
  REQUIRE(sealed.ok());
  const protocol::client::direct d{{}, bob_id.user_id(), sealed->sealed, to_array<64>(sealed->sig)};
  REQUIRE(alice.request(d).is_ok());
  const auto twice = alice.request(d);
  INFO("replayed direct: " << twice.describe());

  io.run(replay_check(*bob, again.is_ok(), twice.is_ok()));
  alice.disconnect();
  bob.reset();
  io.spin(50ms);
}

// -- errors -------------------------------------------------------------------------------------

asio::awaitable<void> timeout_connect(std::uint16_t port, std::unique_ptr<party>& p) {
  auto ex = co_await asio::this_coro::executor;
  auto o = test_options(port, "slowpoke");
  o.request_timeout = 300ms;
  o.reconnect = false;
  p = std::make_unique<party>(ex, o);
  co_await connect_ok(**p);
}

asio::awaitable<void> timeout_request(party& p) {
  auto r = co_await p->list_users();
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::internal);
  CHECK(r.err().message.find("timeout") != std::string::npos);
}

/// True once every thread of process `pid` is stopped ("T" in /proc/PID/task/TID/stat).
bool stopped_within(int pid, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  const std::filesystem::path tasks = "/proc/" + std::to_string(pid) + "/task";
  while (std::chrono::steady_clock::now() < deadline) {
    bool all = true;
    std::error_code ec;
    for (const auto& t : std::filesystem::directory_iterator(tasks, ec)) {
      std::ifstream stat(t.path() / "stat");
      std::string line;
      std::getline(stat, line);
      const auto close = line.rfind(')');
      if (close == std::string::npos || close + 2 >= line.size() || line[close + 2] != 'T') all = false;
    }
    if (all && !ec) return true;
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

TEST_CASE("a request the broker does not answer times out with a clear error", "[client][errors]") {
  temp_dir dir;
  broker_process broker(dir.path() / "data");
  io_harness io;
  std::unique_ptr<party> p;
  io.run(timeout_connect(broker.client_port(), p));
  REQUIRE(::kill(broker.pid(), SIGSTOP) == 0);
  // The stop is asynchronous: wait until every thread of the broker is stopped ("T" in
  // /proc/PID/stat) before asking, and let it continue whatever the outcome.
  struct resume {
    int pid;
    ~resume() { ::kill(pid, SIGCONT); }
  } resume_broker{broker.pid()};
  REQUIRE(stopped_within(broker.pid(), 5s));
  io.run(timeout_request(*p), 10s);
  p.reset();
  io.spin(50ms);
}

asio::awaitable<void> bad_urls(std::uint16_t free_port) {
  auto ex = co_await asio::this_coro::executor;
  for (const std::string url : {"http://127.0.0.1:7800/ws", "ws://", "ws://127.0.0.1:99999/ws"}) {
    auto o = test_options(0, "x");
    o.url = url;
    sc::client c(ex, crypto::identity::generate(), o);
    auto r = co_await c.connect();
    INFO(url);
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == errc::bad_request);
    CHECK(r.err().message.find("bad url") != std::string::npos);
  }
  // Nobody listening: a connection error naming the URL, quickly.
  auto o = test_options(free_port, "x");
  sc::client c(ex, crypto::identity::generate(), o);
  auto r = co_await c.connect();
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().message.find("cannot connect") != std::string::npos);
  CHECK(c.state() != sc::connection_state::connected);
  // And a request on a client that is not connected fails at once.
  auto u = co_await c.list_users();
  REQUIRE_FALSE(u.ok());
  CHECK(u.err().message.find("not connected") != std::string::npos);
}

TEST_CASE("a bad url or an unreachable broker is a clear error", "[client][errors]") {
  // A port that was free a moment ago: the admin port of a broker that has been stopped.
  std::uint16_t free_port = 0;
  {
    temp_dir dir;
    broker_process broker(dir.path() / "data");
    free_port = broker.client_port();
    broker.stop(SIGTERM);
  }
  io_harness io;
  io.run(bad_urls(free_port));
}

}  // namespace
}  // namespace sealcast::test
