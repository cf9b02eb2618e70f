// Quotas and fairness (issue 11, docs/operations.md "Limits and quotas"): per-connection request
// rates, connections per user and per source address, groups per user, membership churn, and
// the `keys` request's membership check and bounded reply. Each case fails without its
// protection (the limit set to 0 turns it off).

#include <catch2/catch_test_macros.hpp>

#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "tests/integration/fixtures.hpp"

using namespace sealcast;
using namespace sealcast::test;
using namespace std::chrono_literals;

namespace {

/// Sends `frame` with the string rid "<prefix><i>" without waiting for the reply.
bool send_with_rid(test_client& c, proto::client_frame frame, const std::string& rid) {
  std::visit(
      [&](auto& f) {
        if constexpr (requires { f.rid; }) f.rid = proto::request_id::from_string(rid);
      },
      frame);
  return c.send_raw(proto::to_json(frame));
}

/// Replies (ok or error) read within `timeout`, until `n` have arrived.
struct tally {
  std::size_t ok = 0;
  std::size_t limited = 0;
  std::size_t other = 0;
  std::string message;  ///< of the first rate_limited error
  [[nodiscard]] std::size_t total() const { return ok + limited + other; }
};

tally collect(test_client& c, std::size_t n, std::chrono::milliseconds timeout = 10s) {
  tally t;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (t.total() < n && std::chrono::steady_clock::now() < deadline) {
    auto f = c.wait_for(
        [](const proto::server_frame& x) {
          return std::holds_alternative<srv::ok>(x) || std::holds_alternative<srv::error>(x);
        },
        500ms);
    if (!f) continue;
    if (std::holds_alternative<srv::ok>(*f)) {
      ++t.ok;
    } else if (auto& e = std::get<srv::error>(*f); e.code == errc::rate_limited) {
      if (t.limited++ == 0) t.message = e.message;
    } else {
      ++t.other;
    }
  }
  return t;
}

/// An open broker-custody group of `owner`; the owner holds epoch 1.
id16 open_group(test_client& owner, const std::string& name = "lobby") {
  cli::create_group cg;
  cg.name = name;
  cg.policy = proto::group_policy::open;
  const auto g = owner.request(cg).as<proto::create_group_result>().group;
  REQUIRE(owner.wait_key(g, 1));
  return g;
}

std::uint64_t epoch_of(test_client& c, const id16& g) {
  return c.request(cli::group_info{{}, g}).as<proto::group_info_result>().epoch;
}

/// A second connection of `c`'s identity.
std::unique_ptr<test_client> same_user(const test_client& c) {
  return std::make_unique<test_client>(crypto::identity::from_secrets(c.identity().sign_sk(), c.identity().kx_sk()));
}

/// An unauthenticated WebSocket (it stays open for gateway.auth_timeout_ms); nullptr and the
/// HTTP status when the upgrade is refused.
std::unique_ptr<ws_client> raw_ws(std::uint16_t port, int* status = nullptr) {
  ws_options o;
  o.port = port;
  return ws_client::connect(o, nullptr, status);
}

}  // namespace

TEST_CASE("a request flood gets rate_limited with the limit named; the connection stays open",
          "[integration][quotas]") {
  broker_fixture f(sets({"limits.request_rate=20", "limits.request_burst=20"}));
  auto a = online(f.port(), "a");
  std::this_thread::sleep_for(1100ms);  // settle() spent some tokens: start from a full bucket

  constexpr std::size_t n = 100;
  for (std::size_t i = 0; i < n; ++i)
    REQUIRE(send_with_rid(*a, cli::user_keys{{}, a->user_id()}, "flood" + std::to_string(i)));
  const auto t = collect(*a, n);
  INFO("ok " << t.ok << ", rate_limited " << t.limited << ", other " << t.other);
  REQUIRE(t.total() == n);  // every request answered once
  CHECK(t.other == 0);
  CHECK(t.ok >= 20);
  CHECK(t.ok < 40);  // the burst and what refilled while the flood was read
  CHECK(t.limited == n - t.ok);
  CHECK(t.message.find("limits.request_rate") != std::string::npos);

  // Still connected, and served again once the bucket refills.
  std::this_thread::sleep_for(1100ms);
  CHECK(a->request(cli::user_keys{{}, a->user_id()}).is_ok());
  CHECK(a->request(cli::list_groups{}).is_ok());
}

TEST_CASE("directs have their own rate", "[integration][quotas]") {
  broker_fixture f(sets({"limits.direct_rate=3"}));
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  a->know(*b);
  REQUIRE(a->request(cli::user_keys{{}, b->user_id()}).is_ok());
  std::size_t ok = 0, limited = 0;
  std::string message;
  for (int i = 0; i < 10; ++i) {
    auto r = a->send_direct(b->user_id(), "d" + std::to_string(i));
    if (r.is_ok()) {
      ++ok;
    } else {
      INFO(r.describe());
      REQUIRE(r.code() == errc::rate_limited);
      if (limited++ == 0) message = r.error->message;
    }
  }
  INFO("ok " << ok << ", rate_limited " << limited);
  CHECK(ok >= 3);
  CHECK(ok < 10);
  CHECK(message.find("limits.direct_rate") != std::string::npos);
  // Other requests are not held back by the direct bucket.
  CHECK(a->request(cli::list_groups{}).is_ok());
}

TEST_CASE("while one user floods cheap requests, another user's publish is answered promptly",
          "[integration][quotas][fairness]") {
  // Defaults for the rates; a queue large enough that the flooder, which reads nothing, is not
  // closed as a slow consumer (which would end the flood early).
  broker_fixture f(sets({"limits.slow_consumer_bytes=536870912", "log.level=warn"}));
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  auto c = online(f.port(), "c");
  const auto g = make_group(*b, {c.get()}, "quiet");
  // A belongs to 20 groups of 50 members, so that each list_groups costs the broker real work
  // (it reads every group's members) for a small reply.
  std::vector<id16> crowd;
  for (int i = 0; i < 50; ++i) {
    auto x = online(f.port(), "m" + std::to_string(i));
    crowd.push_back(x->user_id());
  }
  constexpr int groups = 20;
  for (int i = 0; i < groups; ++i) (void)a->create_group("a" + std::to_string(i), crowd);
  REQUIRE(a->request(cli::list_groups{}).as<proto::list_groups_result>().groups.size() == groups);

  std::atomic<std::size_t> sent{0};
  std::atomic<bool> stop{false};
  std::thread flooder([&] {
    const auto frame = proto::to_json(proto::client_frame{cli::list_groups{proto::request_id::from_string("x")}});
    while (!stop.load() && sent.load() < 40000) {
      if (!a->socket()->send_text(frame, 2s)) break;
      sent.fetch_add(1);
    }
  });
  // Let the flood pile up first.
  const auto wait_until = std::chrono::steady_clock::now() + 3s;
  while (sent.load() < 20000 && std::chrono::steady_clock::now() < wait_until) std::this_thread::sleep_for(10ms);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = b->publish(g, "still served");
  const auto took = std::chrono::steady_clock::now() - t0;
  stop = true;
  flooder.join();
  INFO("flood frames sent: " << sent.load() << "; publish answered after "
                             << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms: "
                             << r.describe());
  REQUIRE(sent.load() >= 5000);
  REQUIRE(r.is_ok());
  CHECK(took < 5s);
  CHECK(plain(*c, messages(*c, g, 1, 10s)[0]) == "still served");
}

TEST_CASE("limits.connections_per_user refuses one more hello with rate_limited and 1008",
          "[integration][quotas]") {
  broker_fixture f(sets({"limits.connections_per_user=2"}));
  auto a1 = online(f.port(), "a");
  auto a2 = same_user(*a1);
  a2->login(f.port(), "a");

  auto a3 = same_user(*a1);
  a3->connect(f.port());
  std::string refused;
  try {
    (void)a3->hello("a");
  } catch (const protocol_failure& e) {
    refused = e.what();
  }
  INFO(refused);
  CHECK(refused.find("limits.connections_per_user") != std::string::npos);
  CHECK(a3->socket()->wait_close(5s) == 1008);
  CHECK(a3->socket()->close_reason() == "too many connections for this user");
  // The two others work on, and another user is not affected.
  CHECK(a1->request(cli::list_groups{}).is_ok());
  CHECK(a2->request(cli::list_groups{}).is_ok());
  auto b = online(f.port(), "b");

  // Once one closes, the user may connect again.
  a1->disconnect();
  bool again = false;
  for (int i = 0; i < 50 && !again; ++i) {
    auto a4 = same_user(*a2);
    a4->connect(f.port());
    try {
      (void)a4->hello("a");
      again = true;
    } catch (const protocol_failure&) {
      std::this_thread::sleep_for(50ms);
    }
  }
  CHECK(again);
}

TEST_CASE("limits.connections_per_address: 503 at the upgrade, drops at accept beyond twice the limit",
          "[integration][quotas]") {
  broker_fixture f(sets({"limits.connections_per_address=3", "gateway.auth_timeout_ms=60000"}));
  std::vector<std::unique_ptr<ws_client>> open;
  for (int i = 0; i < 3; ++i) {
    open.push_back(raw_ws(f.port()));
    REQUIRE(open.back());
  }
  int status = 0;
  CHECK_FALSE(raw_ws(f.port(), &status));
  CHECK(status == 503);
  auto body = http_get("127.0.0.1", f.port(), "/healthz");  // plain HTTP still answers
  CHECK(body.status == 200);

  // Idle TCP connections count too: with 3 open and 3 idle, a seventh is dropped at accept.
  namespace asio = boost::asio;
  asio::io_context ioc;
  const asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), f.port());
  std::vector<asio::ip::tcp::socket> idle;
  for (int i = 0; i < 3; ++i) {
    idle.emplace_back(ioc);
    idle.back().connect(ep);
  }
  std::this_thread::sleep_for(200ms);  // the broker accepts them
  asio::ip::tcp::socket dropped(ioc);
  dropped.connect(ep);
  struct timeval tv{3, 0};
  ::setsockopt(dropped.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char byte = 0;
  const auto n = ::recv(dropped.native_handle(), &byte, 1, 0);
  CHECK(n == 0);  // closed by the broker at once (a timeout would be -1)
  idle.clear();

  // Closing one WebSocket frees a place.
  open.pop_back();
  bool again = false;
  for (int i = 0; i < 50 && !again; ++i) {
    if (auto w = raw_ws(f.port())) {
      open.push_back(std::move(w));
      again = true;
    } else {
      std::this_thread::sleep_for(50ms);
    }
  }
  CHECK(again);
}

TEST_CASE("limits.connections_per_address holds when upgrades race", "[integration][quotas]") {
  broker_fixture f(sets({"limits.connections_per_address=2", "gateway.auth_timeout_ms=60000"}));
  constexpr int n = 8;
  std::vector<std::unique_ptr<ws_client>> got(n);
  std::vector<int> status(n, 0);
  {
    std::vector<std::thread> racers;
    for (int i = 0; i < n; ++i) racers.emplace_back([&, i] { got[i] = raw_ws(f.port(), &status[i]); });
    for (auto& t : racers) t.join();
  }
  int stayed = 0;
  for (int i = 0; i < n; ++i) {
    if (!got[i]) {
      // Refused at the upgrade (503) or, past twice the limit, closed at accept. A 500 was seen
      // once under this race (issue 11's note): refused either way, but not the clear answer.
      INFO("status " << status[i]);
      CHECK(status[i] != 101);
      continue;
    }
    // Upgraded: either it is one of the two, or it is closed at once with the reason.
    if (const auto code = got[i]->wait_close(500ms); code != 0) {
      CHECK(code == 1008);
      CHECK(got[i]->close_reason() == "too many connections from this address");
    } else {
      ++stayed;
    }
  }
  CHECK(stayed == 2);
}

TEST_CASE("limits.groups_per_user: a user owning that many groups cannot create another, even after a restart",
          "[integration][quotas]") {
  broker_fixture f(sets({"limits.groups_per_user=3"}));
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  // A refused creation does not use up the quota.
  cli::create_group bad;
  bad.name = "";
  CHECK(a->request(bad).code() == errc::bad_request);
  for (int i = 0; i < 3; ++i) {
    auto r = a->request(cli::create_group{{}, "g" + std::to_string(i)});
    INFO(r.describe());
    REQUIRE(r.is_ok());
  }
  auto r = a->request(cli::create_group{{}, "one too many"});
  INFO(r.describe());
  CHECK(r.code() == errc::forbidden);
  REQUIRE(r.error);
  CHECK(r.error->message.find("limits.groups_per_user") != std::string::npos);
  // Being a member of others' groups does not count, nor does one user's quota touch another's.
  cli::create_group theirs;
  theirs.name = "b's";
  theirs.members = {a->user_id()};
  REQUIRE(b->request(theirs).is_ok());
  CHECK(a->request(cli::list_groups{}).as<proto::list_groups_result>().groups.size() == 4);

  // The count comes back from the store.
  a->disconnect();
  b->disconnect();
  f.restart();
  a->login(f.port(), "a");
  CHECK(a->request(cli::create_group{{}, "after restart"}).code() == errc::forbidden);
}

TEST_CASE("open-group churn: joins per user are rate_limited and the epochs stay bounded",
          "[integration][quotas][churn]") {
  broker_fixture f(sets({"limits.joins_per_minute=3", "limits.members_added_per_minute=1000"}));
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  const auto g = open_group(*a);
  std::size_t joined = 0, limited = 0;
  std::string message;
  for (int i = 0; i < 20; ++i) {
    auto j = b->request(cli::join{{}, g});
    if (!j.is_ok()) {
      INFO(j.describe());
      REQUIRE(j.code() == errc::rate_limited);
      if (limited++ == 0) message = j.error->message;
      continue;
    }
    ++joined;
    auto l = b->request(cli::leave{{}, g});  // leaving is never limited: every leave needs a join
    INFO(l.describe());
    REQUIRE(l.is_ok());
  }
  INFO("joined " << joined << ", rate_limited " << limited);
  CHECK(joined == 3);
  CHECK(limited == 17);
  CHECK(message.find("limits.joins_per_minute") != std::string::npos);
  // 1 + a join and a leave per accepted join: the rekeys are bounded by the limit.
  CHECK(epoch_of(*a, g) == 1 + 2 * joined);
  // Another user may still join.
  auto c = online(f.port(), "c");
  CHECK(c->request(cli::join{{}, g}).is_ok());
}

TEST_CASE("members added per minute bound a group's rekeys whoever asks (joins and add_member)",
          "[integration][quotas][churn]") {
  broker_fixture f(sets({"limits.members_added_per_minute=4", "limits.joins_per_minute=100"}));
  auto a = online(f.port(), "a");
  const auto g = open_group(*a);
  std::vector<std::unique_ptr<test_client>> joiners;
  std::size_t joined = 0, limited = 0;
  for (int i = 0; i < 6; ++i) {
    joiners.push_back(online(f.port(), "j" + std::to_string(i)));
    auto j = joiners.back()->request(cli::join{{}, g});
    if (j.is_ok()) {
      ++joined;
    } else {
      INFO(j.describe());
      REQUIRE(j.code() == errc::rate_limited);
      CHECK(j.error->message.find("limits.members_added_per_minute") != std::string::npos);
      ++limited;
    }
  }
  CHECK(joined == 4);
  CHECK(limited == 2);
  // The owner's add_member is counted in the same budget (broker custody: each is a rekey).
  auto late = online(f.port(), "late");
  CHECK(a->request(cli::add_member{{}, g, late->user_id(), proto::member_role::member}).code() ==
        errc::rate_limited);
  CHECK(epoch_of(*a, g) == 1 + joined);
  // Another group has its own budget.
  auto h = open_group(*a, "other");
  CHECK(joiners.back()->request(cli::join{{}, h}).is_ok());
}

TEST_CASE("keys: a non-member gets not_member; a member's reply is bounded and pages",
          "[integration][quotas][keys]") {
  // A small slow_consumer_bytes makes the reply's byte budget (a quarter of it) a few frames.
  broker_fixture f(sets({"limits.slow_consumer_bytes=8192"}));
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  auto c = online(f.port(), "c");
  const auto g = make_group(*a, {b.get()}, "kept");
  const auto o = open_group(*a, "open");

  // A non-member is refused at once, for an invite-only group and for an open one.
  for (const auto& x : {g, o}) {
    auto r = c->request(cli::keys{{}, x, 1});
    INFO(r.describe());
    CHECK(r.code() == errc::not_member);
  }

  constexpr std::uint64_t rotations = 12;
  for (std::uint64_t i = 0; i < rotations; ++i) {
    auto r = http_call("127.0.0.1", f.broker->admin_port(), "POST", "/admin/groups/" + g.hex() + "/rotate");
    INFO(r.status << " " << r.body);
    REQUIRE(r.status == 200);
    REQUIRE(b->wait_key(g, i + 2));
  }
  const auto last = rotations + 1;
  std::vector<std::uint64_t> got;
  std::size_t pages = 0;
  std::uint64_t from = 1;
  while (from <= last && pages < 20) {
    auto r = b->request(cli::keys{{}, g, from});
    INFO(r.describe());
    auto keys = r.as<proto::keys_result>().keys;
    REQUIRE_FALSE(keys.empty());
    CHECK(r.ok->fields.json().size() <= 8192 / 4 + 1024);
    for (auto& k : keys) got.push_back(k.epoch);
    from = keys.back().epoch + 1;
    ++pages;
  }
  INFO("pages: " << pages);
  CHECK(pages > 1);  // one reply would have held every epoch without the bound
  REQUIRE(got.size() == last);
  for (std::uint64_t e = 1; e <= last; ++e) CHECK(got[e - 1] == e);
  CHECK(b->request(cli::list_groups{}).is_ok());  // and the connection is still there
}
