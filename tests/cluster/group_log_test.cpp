#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch_test_macros.hpp>

#include "cluster/group_log.hpp"
#include "tests/cluster/shared_cluster.hpp"

using namespace sealcast;
using namespace std::chrono_literals;
using std::chrono::steady_clock;

namespace {

cluster::log_options log_named(const std::string& stream, const std::string& prefix) {
  cluster::log_options o;
  o.stream = stream;
  o.subject_prefix = prefix;
  o.max_age = std::chrono::seconds(3600);
  o.duplicates = std::chrono::seconds(120);
  return o;
}

std::string payload(std::uint64_t seq) { return "record " + std::to_string(seq); }

std::string text(const bytes& b) { return std::string(b.begin(), b.end()); }

}  // namespace

TEST_CASE(
    "records 1..N append in order; a repeated Msg-Id is a duplicate, not a second record; last() and read() recover "
    "them") {
  auto c = test::connect_client("log-order");
  auto log = cluster::group_log::open(c, log_named("SC_ORDER", "order"));
  REQUIRE(log.ok());
  const auto g = test::test_group(0xa1);
  const auto other = test::test_group(0xb2);
  constexpr std::uint32_t p = 5;

  CHECK_FALSE(log->last(p, g)->has_value());  // an empty group has no last record

  constexpr std::uint64_t n = 20;
  std::vector<std::uint64_t> stream_seqs;
  for (std::uint64_t seq = 1; seq <= n; ++seq) {
    cluster::append_options opt;
    opt.headers = {{"Sc-Kind", "message"}};
    auto ack = log->append(p, g, seq, as_bytes(payload(seq)), opt);
    REQUIRE(ack.ok());
    CHECK(ack->outcome == cluster::append_outcome::stored);
    stream_seqs.push_back(ack->stream_seq);
    // Another group interleaves on the same stream.
    REQUIRE(log->append(p, other, seq, as_bytes("other")).ok());
  }

  // The same (group, seq) again, with other bytes: refused as a duplicate of the stored record.
  auto dup = log->append(p, g, 7, as_bytes("an impostor"));
  REQUIRE(dup.ok());
  CHECK(dup->outcome == cluster::append_outcome::duplicate);
  CHECK(dup->stream_seq == stream_seqs[6]);
  auto seventh = log->get(stream_seqs[6]);
  REQUIRE(seventh.ok());
  CHECK(text(seventh->data) == payload(7));

  // last() gives the next seq to use.
  auto last = log->last(p, g);
  REQUIRE(last.ok());
  REQUIRE(last->has_value());
  CHECK((*last)->group_seq() == n);
  CHECK((*last)->stream_seq == stream_seqs.back());
  CHECK((*last)->subject == log->subject(p, g));
  CHECK((*last)->header("Sc-Kind") == "message");

  // read() from the 5th record's stream sequence: 5..N of this group only, in order, once each.
  auto recs = log->read(p, g, stream_seqs[4], 1000, stream_seqs.back());
  REQUIRE(recs.ok());
  REQUIRE(recs->size() == n - 4);
  for (std::size_t i = 0; i < recs->size(); ++i) {
    CHECK((*recs)[i].group_seq() == i + 5);
    CHECK(text((*recs)[i].data) == payload(i + 5));
    CHECK((*recs)[i].stream_seq == stream_seqs[i + 4]);
  }
  // And a bounded read stops at max.
  auto three = log->read(p, g, 1, 3);
  REQUIRE(three.ok());
  CHECK(three->size() <= 3);
}

TEST_CASE("an expected-last mismatch is reported as a conflict, distinct from a duplicate") {
  auto c = test::connect_client("log-conflict");
  auto log = cluster::group_log::open(c, log_named("SC_CONFLICT", "conflict"));
  REQUIRE(log.ok());
  const auto g = test::test_group(0xc3);
  cluster::append_options first;
  first.expected_last_stream_seq = 0;
  auto a1 = log->append(0, g, 1, as_bytes("one"), first);
  REQUIRE(a1.ok());

  cluster::append_options wrong;
  wrong.expected_last_stream_seq = a1->stream_seq + 100;
  auto a2 = log->append(0, g, 2, as_bytes("two"), wrong);
  REQUIRE_FALSE(a2.ok());
  CHECK(a2.err().code == errc::conflict);

  cluster::append_options right;
  right.expected_last_stream_seq = a1->stream_seq;
  auto a3 = log->append(0, g, 2, as_bytes("two"), right);
  REQUIRE(a3.ok());
  CHECK(a3->outcome == cluster::append_outcome::stored);
}

TEST_CASE("kill -9 of the stream leader: acked records stay readable and appends resume once a leader is elected") {
  auto& cl = test::shared_cluster();
  auto c = test::connect_client("log-failover");
  auto log = cluster::group_log::open(c, log_named("SC_FAILOVER", "failover"));
  REQUIRE(log.ok());
  const auto g = test::test_group(0xd4);
  constexpr std::uint32_t p = 1;

  constexpr std::uint64_t acked = 10;
  for (std::uint64_t seq = 1; seq <= acked; ++seq) REQUIRE(log->append(p, g, seq, as_bytes(payload(seq))).ok());

  auto leader = log->leader();
  REQUIRE(leader.ok());
  const int victim = cl.index_of(*leader);
  REQUIRE(victim >= 0);
  const auto killed_at = steady_clock::now();
  cl.kill(victim);

  // Appends of seq acked+1 with the same Msg-Id until one is acked: timeouts and "no leader"
  // are retried, a duplicate means an earlier try was stored after all.
  std::optional<cluster::append_ack> ack;
  int tries = 0;
  std::string first_error;
  while (!ack && steady_clock::now() < killed_at + 30s) {
    ++tries;
    auto r = log->append(p, g, acked + 1, as_bytes(payload(acked + 1)));
    if (r.ok()) {
      ack = *r;
      break;
    }
    INFO("try " << tries << ": " << r.err().message);
    REQUIRE(r.err().code == errc::unavailable);
    if (first_error.empty()) first_error = r.err().message;
    std::this_thread::sleep_for(100ms);
  }
  REQUIRE(ack.has_value());
  const auto resumed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - killed_at);
  WARN("first append acked " << resumed_ms.count() << " ms after kill -9 of leader " << *leader << " (" << tries
                             << " tries; the first failed with: " << first_error << ")");

  auto new_leader = log->leader();
  REQUIRE(new_leader.ok());
  CHECK(*new_leader != *leader);

  // Every acked record is there, once, in order, and the new one follows.
  auto recs = log->read(p, g, 1, 1000, ack->stream_seq);
  REQUIRE(recs.ok());
  REQUIRE(recs->size() == acked + 1);
  for (std::size_t i = 0; i < recs->size(); ++i) CHECK((*recs)[i].group_seq() == i + 1);
  auto last = log->last(p, g);
  REQUIRE(last.ok());
  REQUIRE(last->has_value());
  CHECK((*last)->group_seq() == acked + 1);

  // The killed server comes back on its store and catches up (healthz: its streams are current).
  const auto restart_at = steady_clock::now();
  cl.restart(victim);
  WARN("restarted " << *leader << " healthy after "
                    << std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - restart_at).count()
                    << " ms");
  REQUIRE(log->append(p, g, acked + 2, as_bytes(payload(acked + 2))).ok());
}

TEST_CASE("the fixture can pause and resume a server: the stream keeps a quorum meanwhile") {
  auto& cl = test::shared_cluster();
  auto c = test::connect_client("log-pause");
  auto log = cluster::group_log::open(c, log_named("SC_PAUSE", "pause"));
  REQUIRE(log.ok());
  const auto g = test::test_group(0xe5);
  REQUIRE(log->append(0, g, 1, as_bytes("one")).ok());

  // Pause a follower: not the leader (that is the failover case above) and not the server this
  // client is connected to (its requests would wait for it).
  auto leader = log->leader();
  REQUIRE(leader.ok());
  int follower = -1;
  for (int i = 0; i < cl.size() && follower < 0; ++i)
    if (cl.name(i) != *leader && cl.client_url(i) != c.connected_url()) follower = i;
  REQUIRE(follower >= 0);
  cl.pause(follower);
  auto a2 = log->append(0, g, 2, as_bytes("two"));
  cl.resume(follower);
  REQUIRE(a2.ok());
  CHECK(a2->outcome == cluster::append_outcome::stored);
  cl.wait_ready(20s);
}
