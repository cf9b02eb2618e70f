// The count of stored group messages kept in meta (message_count): what start-up reads instead
// of scanning the messages family. Every case checks the count against a scan.

#include <catch2/catch_test_macros.hpp>

#include <thread>
#include <vector>

#include "tests/persistence/test_support.hpp"

using namespace sealcast;
using namespace sealcast::persistence;
using namespace sealcast::persistence::test;

namespace {

message_outcome settled(const message_record& m, message_outcome_status st, std::uint64_t settled_ms = 1000) {
  message_outcome o;
  o.settled_ms = settled_ms;
  o.id = m.id;
  o.group = m.group;
  o.seq = m.seq;
  o.sender = m.sender;
  o.epoch = m.epoch;
  o.ts_ms = m.ts_ms;
  o.status = st;
  return o;
}

/// The kept count, after checking that it is what a scan finds.
std::uint64_t checked_count(const store& s) {
  const auto kept = must(s.count_messages());
  CHECK(kept == must(s.scan_message_count()));
  return kept;
}

/// Turns the database into one written before the count was kept: schema 2, no count row.
void make_schema_2(store& s) {
  write_batch b;
  b.delete_meta(meta_names::message_count);
  b.put_meta_u64(meta_names::schema_version, 2);
  REQUIRE(s.write(b, true));
}

}  // namespace

TEST_CASE("a new database starts with a stored message count of zero", "[persistence][count]") {
  temp_dir dir;
  auto s = must(open_at(dir.db()));
  CHECK(checked_count(*s) == 0);
  CHECK(must(s->get_meta_u64(meta_names::message_count)) == 0);
  CHECK(must(s->get_meta_u64(meta_names::schema_version)) == schema_version);
}

TEST_CASE("the count follows puts, deletions, settling and expiry", "[persistence][count]") {
  temp_dir dir;
  auto s = must(open_at(dir.db()));
  const auto g = make_id(1, 2);
  std::vector<message_record> ms;
  write_batch put;
  for (std::uint64_t seq = 1; seq <= 10; ++seq) {
    ms.push_back(sample_message(g, seq));
    put.put_message(ms.back());
  }
  CHECK(put.message_delta() == 10);
  REQUIRE(s->write(put));
  CHECK(checked_count(*s) == 10);

  write_batch del;
  del.delete_message(g, 1, ms[0].id);
  REQUIRE(s->write(del));
  CHECK(checked_count(*s) == 9);

  write_batch delivered;  // cleaned once every recipient acknowledged
  delivered.settle_message(settled(ms[1], message_outcome_status::delivered));
  delivered.settle_message(settled(ms[2], message_outcome_status::partial));
  REQUIRE(s->write(delivered));
  CHECK(checked_count(*s) == 7);

  write_batch expired;  // past the TTL
  expired.settle_message(settled(ms[3], message_outcome_status::expired));
  REQUIRE(s->write(expired));
  CHECK(checked_count(*s) == 6);

  // A range as the reaper deletes it: read for the ids, counted by what the range holds.
  write_batch reap;
  CHECK(must(s->stage_message_deletion(reap, g, 0, 7)) == 2);  // seqs 5 and 6
  CHECK(reap.message_delta() == -2);
  REQUIRE(s->write(reap));
  CHECK(checked_count(*s) == 4);
  CHECK(must(s->delete_messages(g, 7, 11, true)) == 4);
  CHECK(checked_count(*s) == 0);
}

TEST_CASE("batches committed in one write add their counts up", "[persistence][count]") {
  // The storage writer commits everything queued in one store::write: a publish of one group
  // next to the cleanup of another must not overwrite each other's count.
  temp_dir dir;
  auto s = must(open_at(dir.db()));
  auto g1 = sample_group(1);
  auto g2 = sample_group(2);
  std::vector<write_batch> first;
  for (std::uint64_t seq = 1; seq <= 3; ++seq) first.push_back(publish_batch(g1, seq));
  for (std::uint64_t seq = 1; seq <= 2; ++seq) first.push_back(publish_batch(g2, seq));
  REQUIRE(s->write(first, true));
  CHECK(checked_count(*s) == 5);

  std::vector<write_batch> second;
  second.push_back(publish_batch(g1, 4));
  write_batch clean;
  clean.settle_message(settled(sample_message(g2.id, 1), message_outcome_status::delivered));
  clean.settle_message(settled(sample_message(g2.id, 2), message_outcome_status::expired));
  second.push_back(std::move(clean));
  second.emplace_back();  // an empty batch counts nothing
  write_batch cursors;    // a batch without messages
  cursors.put_member(sample_member(g1.id, make_id(9, 1)));
  second.push_back(std::move(cursors));
  REQUIRE(s->write(second, true));
  CHECK(checked_count(*s) == 4);

  // A batch that adds and deletes in one: only the difference counts.
  write_batch both = publish_batch(g2, 3);
  both.settle_message(settled(sample_message(g1.id, 1), message_outcome_status::delivered));
  write_batch appended;
  appended.append(std::move(both));
  CHECK(appended.message_delta() == 0);
  REQUIRE(s->write(appended));
  CHECK(checked_count(*s) == 4);
}

TEST_CASE("writes from several threads keep the count exact", "[persistence][count]") {
  temp_dir dir;
  auto s = must(open_at(dir.db()));
  constexpr int threads = 4;
  constexpr std::uint64_t per_thread = 200;
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      const auto g = make_id(static_cast<std::uint64_t>(t), 2);
      for (std::uint64_t seq = 1; seq <= per_thread; ++seq) {
        write_batch b;
        b.put_message(sample_message(g, seq));
        if (seq % 2 == 0) b.settle_message(settled(sample_message(g, seq - 1), message_outcome_status::delivered));
        if (!s->write(b, false)) FAIL_CHECK("a write failed");
      }
    });
  }
  for (auto& t : ts) t.join();
  CHECK(checked_count(*s) == threads * per_thread / 2);
}

TEST_CASE("the count survives a restart without a scan", "[persistence][count]") {
  temp_dir dir;
  const auto g = make_id(1, 2);
  {
    auto s = must(open_at(dir.db(), true));
    write_batch b;
    for (std::uint64_t seq = 1; seq <= 25; ++seq) b.put_message(sample_message(g, seq));
    REQUIRE(s->write(b));
    write_batch settle;
    settle.settle_message(settled(sample_message(g, 1), message_outcome_status::delivered));
    REQUIRE(s->write(settle));
  }
  {
    auto s = must(open_at(dir.db()));
    CHECK(checked_count(*s) == 24);
    // A row written around the helpers is not counted: the next open must still read 24, which
    // shows that it reads the kept count instead of scanning.
    write_batch raw;
    raw.put(column_family::messages, bytes{0xff, 0xff}, bytes{});
    REQUIRE(s->write(raw, true));
    CHECK(must(s->scan_message_count()) == 25);
  }
  auto s = must(open_at(dir.db()));
  CHECK(must(s->count_messages()) == 24);
}

TEST_CASE("a database without the count is counted once when opened, then kept", "[persistence][count]") {
  temp_dir dir;
  auto g1 = sample_group(1);
  auto g2 = sample_group(2);
  {
    auto s = must(open_at(dir.db(), true));
    std::vector<write_batch> bs;
    for (std::uint64_t seq = 1; seq <= 30; ++seq) bs.push_back(publish_batch(seq % 3 ? g1 : g2, seq));
    REQUIRE(s->write(bs, true));
    REQUIRE(s->flush());  // part of it in table files, as in a database that ran for a while
    write_batch more;
    more.put_message(sample_message(g2.id, 31));
    REQUIRE(s->write(more));
    make_schema_2(*s);
    CHECK(code_of(s->get_meta_u64(meta_names::message_count)) == errc::not_found);
  }
  {
    auto s = must(open_at(dir.db()));
    CHECK(must(s->get_meta_u64(meta_names::schema_version)) == schema_version);
    CHECK(must(s->get_meta_u64(meta_names::message_count)) == 31);
    CHECK(checked_count(*s) == 31);
    // Kept from now on.
    write_batch b;
    b.settle_message(settled(sample_message(g2.id, 31), message_outcome_status::expired));
    b.put_message(sample_message(g1.id, 32));
    b.put_message(sample_message(g1.id, 33));
    REQUIRE(s->write(b));
    CHECK(checked_count(*s) == 32);
  }
  auto s = must(open_at(dir.db()));
  CHECK(checked_count(*s) == 32);
}

TEST_CASE("an empty database without the count is upgraded to a count of zero", "[persistence][count]") {
  temp_dir dir;
  {
    auto s = must(open_at(dir.db()));
    make_schema_2(*s);
  }
  auto s = must(open_at(dir.db()));
  CHECK(checked_count(*s) == 0);
  CHECK(must(s->get_meta_u64(meta_names::schema_version)) == schema_version);
}
