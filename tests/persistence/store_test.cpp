#include <catch2/catch_test_macros.hpp>

#include <filesystem>

#include "persistence/store.hpp"
#include "test_support.hpp"

using namespace sealcast;
using namespace sealcast::persistence;
using namespace sealcast::persistence::test;

namespace {

// One of every kind of row, for the reopen test.
struct fixture_rows {
  id16 g = make_id(1, 2);
  id16 alice = make_id(1, 1);
  id16 bob = make_id(2, 1);
  user_record ua = sample_user(1);
  user_record ub = sample_user(2);
  group_record group = [] {
    auto x = sample_group(1);
    x.owner = make_id(1, 1);
    return x;
  }();
  member_record ma = sample_member(make_id(1, 2), make_id(1, 1), member_role::owner);
  member_record mb = sample_member(make_id(1, 2), make_id(2, 1), member_role::member);
  epoch_record e1 = sample_epoch(make_id(1, 2), 1);
  epoch_record e2 = sample_epoch(make_id(1, 2), 2);
  message_record m1 = sample_message(make_id(1, 2), 1);
  message_record m2 = sample_message(make_id(1, 2), 2);
  direct_record d1 = sample_direct(make_id(2, 1), 1);
  event_record ev1 = sample_event(1);
  event_record ev2 = sample_event(2);

  write_batch batch() const {
    write_batch b;
    b.put_user(ua);
    b.put_user(ub);
    b.put_group(group);
    b.put_member(ma);
    b.put_member(mb);
    b.put_epoch(e1);
    b.put_epoch(e2);
    for (std::uint64_t e : {1, 2}) {
      b.put_wrapped_key(g, e, alice, filled<80>(static_cast<std::uint8_t>(10 * e + 1)));
      b.put_wrapped_key(g, e, bob, filled<80>(static_cast<std::uint8_t>(10 * e + 2)));
    }
    b.put_message(m1);
    b.put_message(m2);
    b.put_direct(d1);
    b.put_event(ev1);
    b.put_event(ev2);
    b.put_meta_u64(meta_names::next_event_seq, 3);
    b.put_meta(meta_names::broker_key, bytes{1, 2, 3});
    return b;
  }
};

}  // namespace

TEST_CASE("everything written is there after close and reopen", "[persistence][store]") {
  temp_dir dir;
  const fixture_rows f;
  {
    auto st = open_at(dir.db());
    REQUIRE(st);
    REQUIRE((*st)->write(f.batch(), true));
    REQUIRE((*st)->close());
  }
  auto st = open_at(dir.db());
  REQUIRE(st);
  const store& s = **st;

  CHECK(must(s.get_user(f.alice)) == f.ua);
  CHECK(must(s.get_user(f.bob)) == f.ub);
  CHECK(must(s.get_group(f.g)) == f.group);
  CHECK(must(s.get_member(f.g, f.bob)) == f.mb);
  CHECK(must(s.members_of(f.g)) == std::vector<member_record>{f.ma, f.mb});
  CHECK(must(s.user_groups(f.alice)) == std::vector<user_group_entry>{{f.g, member_role::owner}});
  CHECK(must(s.user_groups(f.bob)) == std::vector<user_group_entry>{{f.g, member_role::member}});
  CHECK(must(s.get_epoch(f.g, 2)) == f.e2);
  CHECK(must(s.epochs_of(f.g)) == std::vector<epoch_record>{f.e1, f.e2});
  CHECK(must(s.get_wrapped_key(f.g, 2, f.bob)) == filled<80>(22));
  CHECK(must(s.get_message(f.g, 2)) == f.m2);
  CHECK(must(s.messages_of(f.g, 1, no_limit)) == std::vector<message_record>{f.m1, f.m2});
  CHECK(must(s.find_message(f.m1.id)) == message_locator{message_kind::group, f.g, 1});
  CHECK(must(s.find_message(f.d1.id)) == message_locator{message_kind::direct, f.bob, 1});
  CHECK(must(s.get_direct(f.bob, 1)) == f.d1);
  CHECK(must(s.events_from(0, no_limit)) == std::vector<event_record>{f.ev1, f.ev2});
  CHECK(must(s.get_meta_u64(meta_names::next_event_seq)) == 3);
  CHECK(must(s.get_meta(meta_names::broker_key)) == bytes{1, 2, 3});
  CHECK(must(s.get_meta_u64(meta_names::schema_version)) == schema_version);
}

TEST_CASE("a missing row is not_found while an empty scan is an empty list", "[persistence][store]") {
  temp_dir dir;
  auto st = open_at(dir.db());
  REQUIRE(st);
  const store& s = **st;
  const id16 nobody = make_id(99, 1);
  const id16 nogroup = make_id(99, 2);

  CHECK(code_of(s.get_user(nobody)) == errc::not_found);
  CHECK(code_of(s.get_group(nogroup)) == errc::not_found);
  CHECK(code_of(s.get_member(nogroup, nobody)) == errc::not_found);
  CHECK(code_of(s.get_epoch(nogroup, 1)) == errc::not_found);
  CHECK(code_of(s.get_wrapped_key(nogroup, 1, nobody)) == errc::not_found);
  CHECK(code_of(s.get_message(nogroup, 1)) == errc::not_found);
  CHECK(code_of(s.find_message(make_id(1, 3))) == errc::not_found);
  CHECK(code_of(s.get_direct(nobody, 1)) == errc::not_found);
  CHECK(code_of(s.get_meta("no such name")) == errc::not_found);
  CHECK(code_of(s.first_event_seq()) == errc::not_found);
  CHECK(code_of(s.last_event_seq()) == errc::not_found);

  auto members = s.members_of(nogroup);
  REQUIRE(members);
  CHECK(members->empty());
  CHECK(must(s.scan_groups(std::nullopt, 10)).empty());
  CHECK(must(s.scan_users(std::nullopt, 10)).empty());
  CHECK(must(s.user_groups(nobody)).empty());
  CHECK(must(s.epochs_of(nogroup)).empty());
  CHECK(must(s.messages_of(nogroup, 0, 10)).empty());
  CHECK(must(s.directs_of(nobody, 0, 10)).empty());
  CHECK(must(s.events_from(0, 10)).empty());
}

TEST_CASE("scan_groups returns ordered pages that resume after the last id", "[persistence][store]") {
  temp_dir dir;
  auto st = open_at(dir.db());
  REQUIRE(st);
  store& s = **st;
  write_batch b;
  // Written out of order, with ids 255 and 256 whose bytes sort only by big-endian order.
  for (std::uint64_t n : {256, 3, 255, 1, 1000, 2, 4}) b.put_group(sample_group(n));
  REQUIRE(s.write(b, false));

  std::vector<std::uint64_t> seen;
  std::optional<id16> after;
  std::size_t pages = 0;
  for (;;) {
    auto page = s.scan_groups(after, 3);
    REQUIRE(page);
    if (page->empty()) break;
    ++pages;
    CHECK(page->size() <= 3);
    for (const auto& g : *page) seen.push_back(get_u64be(g.id.b.data() + 8));
    after = page->back().id;
  }
  CHECK(pages == 3);
  CHECK(seen == std::vector<std::uint64_t>{1, 2, 3, 4, 255, 256, 1000});
  CHECK(must(s.scan_groups(std::nullopt, 0)).empty());
}

TEST_CASE("scan_users pages through users in id order", "[persistence][store]") {
  temp_dir dir;
  auto st = open_at(dir.db());
  REQUIRE(st);
  store& s = **st;
  write_batch b;
  for (std::uint64_t n = 1; n <= 5; ++n) b.put_user(sample_user(n));
  REQUIRE(s.write(b, false));
  auto first = s.scan_users(std::nullopt, 2);
  REQUIRE(first);
  REQUIRE(first->size() == 2);
  CHECK((*first)[0] == sample_user(1));
  auto rest = s.scan_users(first->back().id, 10);
  REQUIRE(rest);
  REQUIRE(rest->size() == 3);
  CHECK(rest->front() == sample_user(3));
}

TEST_CASE("scans stay inside their owner's prefix and start where asked", "[persistence][store]") {
  temp_dir dir;
  auto st = open_at(dir.db());
  REQUIRE(st);
  store& s = **st;
  const id16 g1 = make_id(1, 2);
  const id16 g2 = make_id(2, 2);
  const id16 u = make_id(1, 1);
  write_batch b;
  for (std::uint64_t seq = 1; seq <= 300; ++seq) {
    b.put_message(sample_message(g1, seq));
    b.put_message(sample_message(g2, seq));
  }
  for (std::uint64_t e = 1; e <= 4; ++e) {
    b.put_epoch(sample_epoch(g1, e));
    b.put_wrapped_key(g1, e, make_id(0, 1), filled<80>(0));
    b.put_wrapped_key(g1, e, u, filled<80>(static_cast<std::uint8_t>(e)));
    b.put_wrapped_key(g1, e, make_id(7, 1), filled<80>(7));
  }
  b.put_epoch(sample_epoch(g2, 1));
  for (std::uint64_t seq = 1; seq <= 5; ++seq) {
    b.put_direct(sample_direct(u, seq));
    b.put_direct(sample_direct(make_id(2, 1), seq));
  }
  REQUIRE(s.write(b, false));

  auto msgs = s.messages_of(g1, 255, 3);
  REQUIRE(msgs);
  REQUIRE(msgs->size() == 3);
  CHECK((*msgs)[0].seq == 255);
  CHECK((*msgs)[1].seq == 256);
  CHECK((*msgs)[2].group == g1);
  CHECK(must(s.messages_of(g1, 299, 100)).size() == 2);  // does not run into g2's rows

  auto epochs = s.epochs_of(g1, 3);
  REQUIRE(epochs);
  REQUIRE(epochs->size() == 2);
  CHECK(epochs->front().epoch == 3);

  auto mine = s.wrapped_keys_of_user(g1, u, 2);
  REQUIRE(mine);
  REQUIRE(mine->size() == 3);
  CHECK((*mine)[0] == wrapped_key_entry{2, u, filled<80>(2)});
  CHECK((*mine)[2].epoch == 4);
  auto epoch2 = s.wrapped_keys_of_epoch(g1, 2);
  REQUIRE(epoch2);
  CHECK(epoch2->size() == 3);

  auto directs = s.directs_of(u, 4, 10);
  REQUIRE(directs);
  REQUIRE(directs->size() == 2);
  CHECK((*directs)[0] == sample_direct(u, 4));
}

TEST_CASE("membership changes keep the user_groups index in step", "[persistence][store]") {
  temp_dir dir;
  auto st = open_at(dir.db());
  REQUIRE(st);
  store& s = **st;
  const id16 u = make_id(5, 1);
  write_batch b;
  b.put_member(sample_member(make_id(1, 2), u, member_role::member));
  b.put_member(sample_member(make_id(2, 2), u, member_role::admin));
  REQUIRE(s.write(b, false));
  CHECK(must(s.user_groups(u)).size() == 2);

  write_batch change;
  change.put_member(sample_member(make_id(1, 2), u, member_role::admin));  // promoted
  change.delete_member(make_id(2, 2), u);
  REQUIRE(s.write(change, false));
  CHECK(must(s.user_groups(u)) == std::vector<user_group_entry>{{make_id(1, 2), member_role::admin}});
  CHECK(code_of(s.get_member(make_id(2, 2), u)) == errc::not_found);
}

TEST_CASE("open refuses an empty path and a missing database without create_if_missing", "[persistence][store]") {
  CHECK_FALSE(store::open(store_options{}));
  temp_dir dir;
  store_options o;
  o.path = dir.db();
  o.create_if_missing = false;
  auto st = store::open(o);
  REQUIRE_FALSE(st);
  CHECK(st.err().message.find(dir.db()) != std::string::npos);
}

TEST_CASE("a closed store answers errors instead of crashing", "[persistence][store]") {
  temp_dir dir;
  auto st = open_at(dir.db());
  REQUIRE(st);
  store& s = **st;
  REQUIRE(s.close());
  CHECK(s.close());  // closing twice is harmless
  CHECK(code_of(s.get_user(make_id(1, 1))) == errc::io_error);
  CHECK(code_of(s.scan_groups(std::nullopt, 5)) == errc::io_error);
  write_batch b;
  b.put_user(sample_user(1));
  CHECK(code_of(s.write(b, true)) == errc::io_error);
}

TEST_CASE("bytes_on_disk grows with data and flush writes table files", "[persistence][store]") {
  temp_dir dir;
  auto st = open_at(dir.db());
  REQUIRE(st);
  store& s = **st;
  auto before = s.bytes_on_disk();
  REQUIRE(before);
  write_batch b;
  for (std::uint64_t seq = 1; seq <= 200; ++seq) b.put_message(sample_message(make_id(1, 2), seq));
  REQUIRE(s.write(b, true));
  REQUIRE(s.flush());
  auto after = s.bytes_on_disk();
  REQUIRE(after);
  CHECK(*after > *before);
  bool has_sst = false;
  for (const auto& entry : std::filesystem::directory_iterator(dir.db())) {
    has_sst = has_sst || entry.path().extension() == ".sst";
  }
  CHECK(has_sst);
}

TEST_CASE("a second open of a database that is already open fails with io_error", "[persistence][store]") {
  temp_dir dir;
  auto first = open_at(dir.db());
  REQUIRE(first);
  auto second = open_at(dir.db());
  REQUIRE_FALSE(second);
  CHECK(second.err().code == errc::io_error);
  CHECK(second.err().message.find(dir.db()) != std::string::npos);
}
