#include <catch2/catch_test_macros.hpp>

#include <vector>

#include "crypto/random.hpp"
#include "crypto/ratchet.hpp"
#include "vectors.hpp"

using namespace sealcast;
using namespace sealcast::crypto;

namespace {

chain_key some_chain() {
  const auto k = *group_key::from_bytes(bytes(32, 0x5a));
  return initial_chain(k, *id16::from_hex("4f17a1c9b332758cb588b8b03d0dd9c0"));
}

// msg_key_i of some_chain(), computed step by step.
std::vector<aead_key> keys_up_to(std::uint32_t n) {
  std::vector<aead_key> out;
  chain_key c = some_chain();
  for (std::uint32_t i = 0; i <= n; ++i) {
    out.push_back(chain_message_key(c));
    c = chain_advance(c);
  }
  return out;
}

}  // namespace

TEST_CASE("a message key is a function of the chain key; advancing gives new keys", "[crypto][ratchet]") {
  const chain_key c0 = some_chain();
  CHECK(chain_message_key(c0) == chain_message_key(c0));
  const chain_key c1 = chain_advance(c0);
  CHECK(chain_advance(c0) == c1);
  CHECK_FALSE(c1 == c0);
  CHECK_FALSE(chain_message_key(c1) == chain_message_key(c0));
  // The message key and the next chain key of one step differ (0x01 versus 0x02).
  CHECK_FALSE(ct_equal(chain_message_key(c0).view(), c1.view()));
}

TEST_CASE("chains are per sender and per group key", "[crypto][ratchet]") {
  const auto k = *group_key::from_bytes(bytes(32, 0x5a));
  const id16 a = random_id();
  const id16 b = random_id();
  CHECK(initial_chain(k, a) == initial_chain(k, a));
  CHECK_FALSE(initial_chain(k, a) == initial_chain(k, b));
  const auto other = *group_key::from_bytes(bytes(32, 0x5b));
  CHECK_FALSE(initial_chain(k, a) == initial_chain(other, a));
}

TEST_CASE("a sender hands out indexes 0, 1, 2 ... with the chain's keys, each once", "[crypto][ratchet]") {
  const auto expected = keys_up_to(4);
  sender_chain tx(some_chain(), 0);
  for (std::uint32_t i = 0; i <= 4; ++i) {
    auto r = tx.next();
    REQUIRE(r.ok());
    CHECK(r->first == i);
    CHECK(r->second == expected[i]);
  }
  CHECK(tx.next_index() == 5);
}

TEST_CASE("a sender that skips after a restart never reuses an index", "[crypto][ratchet]") {
  const auto expected = keys_up_to(300);
  sender_chain tx(some_chain(), 0);
  REQUIRE(tx.next().ok());
  tx.skip(256);
  CHECK(tx.next_index() == 257);
  auto r = tx.next();
  REQUIRE(r.ok());
  CHECK(r->first == 257);
  CHECK(r->second == expected[257]);
}

TEST_CASE("a sender refuses to run past the last index", "[crypto][ratchet]") {
  sender_chain tx(some_chain(), 0xfffffffeU);
  auto r = tx.next();
  REQUIRE(r.ok());
  CHECK(r->first == 0xfffffffeU);
  CHECK(test::code_of(tx.next()) == errc::bad_request);
  tx.skip(10);
  CHECK(tx.next_index() == 0xffffffffU);
}

TEST_CASE("a receiver takes indexes in order", "[crypto][ratchet]") {
  const auto expected = keys_up_to(3);
  receiver_chain rx(some_chain(), 0);
  for (std::uint32_t i = 0; i <= 3; ++i) {
    auto k = rx.take(i);
    REQUIRE(k.ok());
    CHECK(*k == expected[i]);
    CHECK(rx.next_index() == i + 1);
  }
  CHECK(rx.skipped().empty());
}

TEST_CASE("a receiver opens messages out of order within the window, each once", "[crypto][ratchet]") {
  const auto expected = keys_up_to(10);
  receiver_chain rx(some_chain(), 0);
  auto k5 = rx.take(5);
  REQUIRE(k5.ok());
  CHECK(*k5 == expected[5]);
  CHECK(rx.next_index() == 6);
  CHECK(rx.skipped().size() == 5);
  for (std::uint32_t i : {2U, 0U, 4U, 1U, 3U}) {
    auto k = rx.take(i);
    REQUIRE(k.ok());
    CHECK(*k == expected[i]);
  }
  CHECK(rx.skipped().empty());
  auto k6 = rx.take(6);
  REQUIRE(k6.ok());
  CHECK(*k6 == expected[6]);
}

TEST_CASE("a receiver refuses an index it already used as a replay", "[crypto][ratchet]") {
  receiver_chain rx(some_chain(), 0);
  REQUIRE(rx.take(0).ok());
  CHECK(test::code_of(rx.take(0)) == errc::replay);
  REQUIRE(rx.take(3).ok());
  CHECK(test::code_of(rx.take(3)) == errc::replay);
  REQUIRE(rx.take(1).ok());  // skipped, still held
  CHECK(test::code_of(rx.take(1)) == errc::replay);
}

TEST_CASE("a receiver refuses an index max_skip or more ahead", "[crypto][ratchet]") {
  receiver_chain rx(some_chain(), 10);
  CHECK(test::code_of(rx.take(10 + max_skip)) == errc::too_large);
  CHECK(test::code_of(rx.take(0xffffffffU)) == errc::too_large);
  CHECK(rx.next_index() == 10);
  auto k = rx.take(10 + max_skip - 1);
  REQUIRE(k.ok());
  CHECK(*k == keys_up_to(max_skip - 1).back());  // the chain given is chain_10
  CHECK(rx.next_index() == 10 + max_skip);
  CHECK(rx.skipped().size() == reorder_window);
}

TEST_CASE("skipped keys beyond the reorder window are dropped and then count as replays", "[crypto][ratchet]") {
  const auto expected = keys_up_to(300);
  receiver_chain rx(some_chain(), 0);
  REQUIRE(rx.take(300).ok());
  REQUIRE(rx.skipped().size() == reorder_window);
  CHECK(rx.skipped().begin()->first == 300 - reorder_window);
  CHECK(test::code_of(rx.take(0)) == errc::replay);
  CHECK(test::code_of(rx.take(300 - reorder_window - 1)) == errc::replay);
  auto oldest = rx.take(300 - reorder_window);
  REQUIRE(oldest.ok());
  CHECK(*oldest == expected[300 - reorder_window]);
  auto k299 = rx.take(299);
  REQUIRE(k299.ok());
  CHECK(*k299 == expected[299]);

  // A later jump pushes older skipped keys out of the window too.
  receiver_chain rx2(some_chain(), 0);
  REQUIRE(rx2.take(10).ok());  // skips 0..9
  REQUIRE(rx2.take(10 + reorder_window).ok());
  CHECK(rx2.skipped().size() == reorder_window);
  CHECK(test::code_of(rx2.take(0)) == errc::replay);
  CHECK(rx2.take(11).ok());
}

TEST_CASE("a refused take leaves the receiver unchanged", "[crypto][ratchet]") {
  receiver_chain rx(some_chain(), 0);
  REQUIRE(rx.take(4).ok());
  REQUIRE(rx.take(2).ok());
  const chain_key chain = rx.key();
  const std::uint32_t next = rx.next_index();
  const std::size_t held = rx.skipped().size();

  CHECK(test::code_of(rx.take(2)) == errc::replay);
  CHECK(test::code_of(rx.take(4)) == errc::replay);
  CHECK(test::code_of(rx.take(next + max_skip)) == errc::too_large);
  CHECK(rx.key() == chain);
  CHECK(rx.next_index() == next);
  CHECK(rx.skipped().size() == held);

  const auto expected = keys_up_to(5);
  auto k5 = rx.take(5);
  REQUIRE(k5.ok());
  CHECK(*k5 == expected[5]);
}

TEST_CASE("a receiver restored from its state file keeps its skipped keys", "[crypto][ratchet]") {
  const auto expected = keys_up_to(8);
  receiver_chain rx(some_chain(), 0);
  REQUIRE(rx.take(8).ok());
  receiver_chain restored(rx.key(), rx.next_index());
  for (const auto& [i, k] : rx.skipped()) {
    restored.restore_skipped(i, k);
  }
  auto k3 = restored.take(3);
  REQUIRE(k3.ok());
  CHECK(*k3 == expected[3]);
  CHECK(test::code_of(restored.take(8)) == errc::replay);
}
