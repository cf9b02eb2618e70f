#include <catch2/catch_test_macros.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "persistence/store.hpp"
#include "test_support.hpp"

using namespace sealcast;
using namespace sealcast::persistence;
using namespace sealcast::persistence::test;

TEST_CASE("a publish batch makes the message, its id and the group's next_seq visible together",
          "[persistence][write]") {
  temp_dir dir;
  auto st = open_at(dir.db());
  REQUIRE(st);
  store& s = **st;
  auto g = sample_group(1);
  g.next_seq = 1;
  const auto b = publish_batch(g, 1);
  CHECK(b.size() == 3);  // message, message id, group
  CHECK(b.byte_size() > 0);
  REQUIRE(s.write(b, true));
  CHECK(must(s.get_group(g.id)).next_seq == 2);
  CHECK(must(s.get_message(g.id, 1)) == sample_message(g.id, 1));
  CHECK(must(s.find_message(sample_message(g.id, 1).id)) == message_locator{message_kind::group, g.id, 1});
}

TEST_CASE("several batches of several groups commit in one write and one sync", "[persistence][write]") {
  temp_dir dir;
  auto st = open_at(dir.db());
  REQUIRE(st);
  store& s = **st;
  std::vector<group_record> groups = {sample_group(1), sample_group(2), sample_group(3)};
  std::vector<write_batch> batches;
  for (auto& g : groups) {
    g.next_seq = 1;
    batches.push_back(publish_batch(g, 1));
    batches.push_back(publish_batch(g, 2));
  }
  batches.emplace_back();  // an empty batch is harmless
  const auto before = s.stats();
  REQUIRE(s.write(batches, true));
  const auto after = s.stats();
  CHECK(after.writes == before.writes + 1);
  CHECK(after.syncs == before.syncs + 1);
  CHECK(after.batches == before.batches + 7);
  CHECK(after.bytes > before.bytes);
  for (const auto& g : groups) {
    CHECK(must(s.get_group(g.id)).next_seq == 3);
    CHECK(must(s.messages_of(g.id, 0, no_limit)).size() == 2);
  }

  // An unsynced write counts as a write but not a sync; an empty one is not a write at all.
  auto g = groups[0];
  REQUIRE(s.write(publish_batch(g, 3), false));
  REQUIRE(s.write(write_batch{}, true));
  CHECK(s.stats().writes == after.writes + 1);
  CHECK(s.stats().syncs == after.syncs);
}

TEST_CASE("write_batch::append keeps both batches' operations in order", "[persistence][write]") {
  write_batch a;
  a.put_user(sample_user(1));
  write_batch b;
  b.put_user(sample_user(2));
  b.delete_meta("x");
  const auto bytes_before = a.byte_size() + b.byte_size();
  a.append(std::move(b));
  CHECK(a.size() == 3);
  CHECK(a.byte_size() == bytes_before);
  CHECK(a.ops()[2].kind == op_kind::del);
  CHECK(a.ops()[2].family == column_family::meta);
  a.clear();
  CHECK(a.empty());
}

TEST_CASE("deleting a message range also removes their message ids", "[persistence][write]") {
  temp_dir dir;
  auto st = open_at(dir.db());
  REQUIRE(st);
  store& s = **st;
  const id16 g = make_id(1, 2);
  const id16 other = make_id(2, 2);
  write_batch b;
  for (std::uint64_t seq = 1; seq <= 10; ++seq) {
    b.put_message(sample_message(g, seq));
    b.put_message(sample_message(other, seq));
  }
  REQUIRE(s.write(b, false));

  auto n = s.delete_messages(g, 3, 8, true);  // [3, 8)
  REQUIRE(n);
  CHECK(*n == 5);
  std::vector<std::uint64_t> left;
  for (const auto& m : must(s.messages_of(g, 0, no_limit))) left.push_back(m.seq);
  CHECK(left == std::vector<std::uint64_t>{1, 2, 8, 9, 10});
  for (std::uint64_t seq = 1; seq <= 10; ++seq) {
    INFO("seq " << seq);
    const bool deleted = seq >= 3 && seq < 8;
    CHECK(s.find_message(sample_message(g, seq).id).ok() == !deleted);
    CHECK(s.find_message(sample_message(other, seq).id).ok());  // the other group is untouched
  }
  CHECK(must(s.messages_of(other, 0, no_limit)).size() == 10);
  CHECK(must(s.delete_messages(g, 3, 8, true)) == 0);  // nothing left there
  CHECK(must(s.delete_messages(g, 9, 9, true)) == 0);  // an empty range
}

TEST_CASE("a staged message deletion commits with other writes", "[persistence][write]") {
  temp_dir dir;
  auto st = open_at(dir.db());
  REQUIRE(st);
  store& s = **st;
  const id16 g = make_id(1, 2);
  write_batch b;
  for (std::uint64_t seq = 1; seq <= 4; ++seq) b.put_message(sample_message(g, seq));
  REQUIRE(s.write(b, false));

  write_batch reap;
  auto n = s.stage_message_deletion(reap, g, 0, 3);
  REQUIRE(n);
  CHECK(*n == 2);
  CHECK(must(s.messages_of(g, 0, no_limit)).size() == 4);  // staged, not yet written
  reap.put_event(sample_event(1));
  REQUIRE(s.write(reap, true));
  CHECK(must(s.messages_of(g, 0, no_limit)).size() == 2);
  CHECK(must(s.events_from(0, no_limit)).size() == 1);
}

TEST_CASE("deleting a direct removes it and its message id", "[persistence][write]") {
  temp_dir dir;
  auto st = open_at(dir.db());
  REQUIRE(st);
  store& s = **st;
  const id16 u = make_id(1, 1);
  write_batch b;
  b.put_direct(sample_direct(u, 1));
  b.put_direct(sample_direct(u, 2));
  REQUIRE(s.write(b, false));
  REQUIRE(s.delete_direct(u, 1, true));
  CHECK(code_of(s.get_direct(u, 1)) == errc::not_found);
  CHECK(code_of(s.find_message(sample_direct(u, 1).id)) == errc::not_found);
  CHECK(s.find_message(sample_direct(u, 2).id).ok());
  CHECK(code_of(s.delete_direct(u, 1, true)) == errc::not_found);
}

TEST_CASE("events append in order and trim drops everything before a seq", "[persistence][write]") {
  temp_dir dir;
  auto st = open_at(dir.db());
  REQUIRE(st);
  store& s = **st;
  write_batch b;
  for (std::uint64_t seq = 1; seq <= 300; ++seq) b.put_event(sample_event(seq));
  REQUIRE(s.write(b, false));
  CHECK(must(s.first_event_seq()) == 1);
  CHECK(must(s.last_event_seq()) == 300);
  auto page = must(s.events_from(255, 3));
  REQUIRE(page.size() == 3);
  CHECK(page[0] == sample_event(255));
  CHECK(page[2].seq == 257);

  REQUIRE(s.trim_events(256, true));
  CHECK(must(s.first_event_seq()) == 256);
  CHECK(must(s.events_from(0, no_limit)).size() == 45);
  CHECK(must(s.events_from(0, 1)).front().seq == 256);
}

TEST_CASE("wrapped keys of old epochs can be range-deleted", "[persistence][write]") {
  temp_dir dir;
  auto st = open_at(dir.db());
  REQUIRE(st);
  store& s = **st;
  const id16 g = make_id(1, 2);
  write_batch b;
  for (std::uint64_t e = 1; e <= 5; ++e) {
    for (std::uint64_t u = 1; u <= 3; ++u) b.put_wrapped_key(g, e, make_id(u, 1), filled<80>(1));
  }
  REQUIRE(s.write(b, false));
  write_batch trim;
  trim.delete_wrapped_keys(g, 1, 4);
  REQUIRE(s.write(trim, false));
  CHECK(must(s.wrapped_keys_of_epoch(g, 3)).empty());
  CHECK(must(s.wrapped_keys_of_epoch(g, 4)).size() == 3);
  CHECK(must(s.wrapped_keys_of_user(g, make_id(2, 1), 0)).size() == 2);
}

TEST_CASE("reads from many threads run safely alongside writes", "[persistence][write]") {
  temp_dir dir;
  auto st = open_at(dir.db());
  REQUIRE(st);
  store& s = **st;
  auto g = sample_group(1);
  g.next_seq = 1;
  REQUIRE(s.write(publish_batch(g, 1), false));

  constexpr std::uint64_t total = 500;
  std::atomic<bool> done{false};
  std::atomic<int> read_errors{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!done.load()) {
        auto group = s.get_group(g.id);
        auto msgs = s.messages_of(g.id, 0, no_limit);
        if (!group || !msgs) {
          ++read_errors;
          continue;
        }
        // next_seq was read first, so at least next_seq - 1 messages must exist (atomic batches).
        if (msgs->size() + 1 < group->next_seq) ++read_errors;
      }
    });
  }
  for (std::uint64_t seq = 2; seq <= total; ++seq) REQUIRE(s.write(publish_batch(g, seq), false));
  done = true;
  for (auto& t : readers) t.join();
  CHECK(read_errors == 0);
  CHECK(must(s.messages_of(g.id, 0, no_limit)).size() == total);
}
