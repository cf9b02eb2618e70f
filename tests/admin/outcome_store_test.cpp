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

  const auto o1 = outcome_for(m1, 1000, message_outcome_status::delivered);
  const auto o2 = outcome_for(m2, 2000, message_outcome_status::expired);
  write_batch settle;
  settle.settle_message(o1);
  settle.settle_message(o2);
  REQUIRE(s->write(settle).ok());
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

  write_batch capped;
  CHECK(must(s->stage_outcome_trim(capped, 10000, 1)) == 1);
  REQUIRE(s->write(capped).ok());
  CHECK(code_of(s->find_message(m2.id)) == errc::not_found);
}
