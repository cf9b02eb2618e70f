// The store side of message status: a deleted group message leaves an outcome row and a
// message_ids tombstone, both trimmed together by age.

#include <catch2/catch_test_macros.hpp>

#include "tests/persistence/test_support.hpp"

using namespace sealcast;
using namespace sealcast::persistence;
using namespace sealcast::persistence::test;

namespace {

message_outcome outcome_for(const message_record& m, std::uint64_t settled_ms, message_outcome_status st) {
  message_outcome o;
  o.settled_ms = settled_ms;
  o.id = m.id;
  o.group = m.group;
  o.seq = m.seq;
  o.sender = m.sender;
  o.epoch = m.epoch;
  o.ts_ms = m.ts_ms;
  o.status = st;
  o.recipient_count = 3;
  o.delivery_attempts = 4;
  o.remaining_recipients = st == message_outcome_status::expired ? 2 : 0;
  return o;
}

}  // namespace

TEST_CASE("a settled message keeps its outcome until trimmed by age", "[admin][persistence]") {
  temp_dir dir;
  auto s = must(open_at(dir.db()));
  auto g = sample_group(1);
  const auto m1 = sample_message(g.id, 1);
  const auto m2 = sample_message(g.id, 2);
  write_batch put;
  put.put_message(m1);
  put.put_message(m2);
  REQUIRE(s->write(put).ok());
  CHECK(code_of(s->get_message_outcome(m1.id)) == errc::not_found);  // still stored
  CHECK(must(s->count_messages()) == 2);
  CHECK(must(s->count_outcomes()) == 0);

  const auto o1 = outcome_for(m1, 1000, message_outcome_status::delivered);
  const auto o2 = outcome_for(m2, 2000, message_outcome_status::expired);
  write_batch settle;
  settle.settle_message(o1);
  settle.settle_message(o2);
  REQUIRE(s->write(settle).ok());
  CHECK(must(s->count_messages()) == 0);
  CHECK(must(s->count_outcomes()) == 2);
  CHECK(code_of(s->get_message(g.id, 1)) == errc::not_found);
  const auto loc = must(s->find_message(m1.id));
  CHECK(loc.kind == message_kind::settled);
  CHECK(loc.owner == g.id);
  CHECK(loc.seq == 1);
  CHECK(loc.settled_ms == 1000);
  CHECK(must(s->get_message_outcome(m1.id)) == o1);
  CHECK(must(s->get_message_outcome(m2.id)) == o2);

  write_batch none;
  CHECK(must(s->stage_outcome_trim(none, 1000, 100)) == 0);  // settled at 1000 is not before 1000
  CHECK(none.empty());
  write_batch trim;
  CHECK(must(s->stage_outcome_trim(trim, 1500, 100)) == 1);
  REQUIRE(s->write(trim).ok());
  CHECK(code_of(s->find_message(m1.id)) == errc::not_found);
  CHECK(code_of(s->get_message_outcome(m1.id)) == errc::not_found);
  CHECK(must(s->get_message_outcome(m2.id)) == o2);
  CHECK(must(s->count_outcomes()) == 1);

  write_batch capped;
  CHECK(must(s->stage_outcome_trim(capped, 10000, 1)) == 1);
  REQUIRE(s->write(capped).ok());
  CHECK(code_of(s->find_message(m2.id)) == errc::not_found);
}

TEST_CASE("a trim by count takes the oldest outcomes whatever their age", "[admin][persistence]") {
  temp_dir dir;
  auto s = must(open_at(dir.db()));
  auto g = sample_group(1);
  write_batch settle;
  std::vector<message_record> ms;
  for (std::uint64_t i = 1; i <= 5; ++i) {
    ms.push_back(sample_message(g.id, i));
    settle.settle_message(outcome_for(ms.back(), 1000 * i, message_outcome_status::delivered));
  }
  REQUIRE(s->write(settle).ok());
  REQUIRE(must(s->count_outcomes()) == 5);
  // The event bus's count bound: the oldest `excess` rows, before_ms unbounded.
  write_batch oldest;
  CHECK(must(s->stage_outcome_trim(oldest, UINT64_MAX, 2)) == 2);
  REQUIRE(s->write(oldest).ok());
  CHECK(must(s->count_outcomes()) == 3);
  CHECK(code_of(s->get_message_outcome(ms[0].id)) == errc::not_found);
  CHECK(code_of(s->get_message_outcome(ms[1].id)) == errc::not_found);
  CHECK(s->get_message_outcome(ms[2].id).ok());
}

TEST_CASE("member_count counts a group's members without reading other groups", "[admin][persistence]") {
  temp_dir dir;
  auto s = must(open_at(dir.db()));
  const auto g1 = sample_group(1);
  const auto g2 = sample_group(2);
  write_batch b;
  for (std::uint8_t u = 1; u <= 3; ++u) b.put_member(sample_member(g1.id, make_id(9, u)));
  b.put_member(sample_member(g2.id, make_id(9, 1)));
  REQUIRE(s->write(b).ok());
  CHECK(must(s->member_count(g1.id)) == 3);
  CHECK(must(s->member_count(g2.id)) == 1);
  CHECK(must(s->member_count(make_id(7, 7))) == 0);
  CHECK(must(s->member_count(g1.id)) == must(s->members_of(g1.id)).size());
}

TEST_CASE("delivery failures are kept per group until their message settles, then the outcome has them",
          "[admin][persistence]") {
  temp_dir dir;
  auto s = must(open_at(dir.db()));
  const auto g1 = sample_group(1);
  const auto g2 = sample_group(2);
  const auto m1 = sample_message(g1.id, 1);
  const auto m2 = sample_message(g1.id, 2);
  const auto b = make_id(9, 2);
  const auto c = make_id(9, 3);
  write_batch put;
  put.put_message(m1);
  put.put_message(m2);
  put.put_delivery_failure(g1.id, {2, c, 100, 3});
  put.put_delivery_failure(g1.id, {1, c, 90, 3});
  put.put_delivery_failure(g1.id, {1, b, 80, 2});
  put.put_delivery_failure(g2.id, {1, b, 70, 3});  // another group's: not g1's
  REQUIRE(s->write(put).ok());
  const auto all = must(s->delivery_failures_of(g1.id));
  REQUIRE(all.size() == 3);  // in seq, then user order
  CHECK(all[0] == delivery_failure{1, b, 80, 2});
  CHECK(all[1] == delivery_failure{1, c, 90, 3});
  CHECK(all[2] == delivery_failure{2, c, 100, 3});

  // Settling m1 with its failed recipients takes their rows; m2's and g2's stay.
  auto o = outcome_for(m1, 5000, message_outcome_status::failed);
  o.failed = {b, c};
  o.remaining_recipients = 2;
  write_batch settle;
  settle.settle_message(o);
  REQUIRE(s->write(settle).ok());
  const auto left = must(s->delivery_failures_of(g1.id));
  REQUIRE(left.size() == 1);
  CHECK(left[0].seq == 2);
  CHECK(must(s->delivery_failures_of(g2.id)).size() == 1);
  const auto back = must(s->get_message_outcome(m1.id));
  CHECK(back == o);
  CHECK(back.per_recipient);

  write_batch drop;
  drop.delete_delivery_failures(g1.id, 0, 3);
  REQUIRE(s->write(drop).ok());
  CHECK(must(s->delivery_failures_of(g1.id)).empty());
  CHECK(must(s->delivery_failures_of(g2.id)).size() == 1);
}
