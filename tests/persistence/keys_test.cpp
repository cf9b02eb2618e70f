#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <vector>

#include "persistence/keys.hpp"
#include "test_support.hpp"

using namespace sealcast;
using namespace sealcast::persistence;
using sealcast::persistence::test::code_of;
using sealcast::persistence::test::make_id;

TEST_CASE("every key encoding round-trips", "[persistence][keys]") {
  const id16 a = make_id(0x0102030405060708, 0xab);
  const id16 b = make_id(0xfffffffffffffff0, 0x01);

  auto id = keys::decode_id_key(keys::id_key(a));
  REQUIRE(id);
  CHECK(*id == a);

  auto ev = keys::decode_event_key(keys::event_key(0x1122334455667788));
  REQUIRE(ev);
  CHECK(*ev == 0x1122334455667788);

  const keys::member_key mk{a, b};
  auto m = keys::decode_member_key(keys::encode(mk));
  REQUIRE(m);
  CHECK(*m == mk);

  const keys::user_group_key ugk{b, a};
  auto ug = keys::decode_user_group_key(keys::encode(ugk));
  REQUIRE(ug);
  CHECK(*ug == ugk);

  const keys::epoch_key ek{a, 77};
  auto e = keys::decode_epoch_key(keys::encode(ek));
  REQUIRE(e);
  CHECK(*e == ek);

  const keys::wrapped_key_key wk{a, 78, b};
  auto w = keys::decode_wrapped_key_key(keys::encode(wk));
  REQUIRE(w);
  CHECK(*w == wk);

  const keys::message_key msk{b, 79};
  auto ms = keys::decode_message_key(keys::encode(msk));
  REQUIRE(ms);
  CHECK(*ms == msk);

  const keys::direct_key dk{a, ~std::uint64_t{0}};
  auto d = keys::decode_direct_key(keys::encode(dk));
  REQUIRE(d);
  CHECK(*d == dk);
}

TEST_CASE("keys have fixed widths and start with their owner", "[persistence][keys]") {
  const id16 g = make_id(5, 2);
  const id16 u = make_id(6, 1);
  CHECK(keys::id_key(g).size() == 16);
  CHECK(keys::event_key(1).size() == 8);
  CHECK(keys::encode(keys::member_key{g, u}).size() == 32);
  CHECK(keys::encode(keys::epoch_key{g, 1}).size() == 24);
  CHECK(keys::encode(keys::wrapped_key_key{g, 1, u}).size() == 40);
  CHECK(keys::encode(keys::message_key{g, 1}).size() == 24);
  CHECK(keys::encode(keys::direct_key{u, 1}).size() == 24);

  const bytes prefix = keys::prefix(g);
  const bytes wk = keys::encode(keys::wrapped_key_key{g, 9, u});
  CHECK(std::equal(prefix.begin(), prefix.end(), wk.begin()));
  const bytes epoch_prefix = keys::prefix(g, 9);
  CHECK(std::equal(epoch_prefix.begin(), epoch_prefix.end(), wk.begin()));
  CHECK(keys::meta_key("schema_version") == bytes{'s', 'c', 'h', 'e', 'm', 'a', '_', 'v', 'e', 'r', 's', 'i', 'o', 'n'});
}

TEST_CASE("encoded sequence numbers sort bytewise in numeric order", "[persistence][keys]") {
  const id16 g = make_id(1, 2);
  const std::vector<std::uint64_t> seqs = {0, 1, 255, 256, 65535, 65536, 1ULL << 32, (1ULL << 56) + 1,
                                           ~std::uint64_t{0}};
  for (std::size_t i = 1; i < seqs.size(); ++i) {
    INFO(seqs[i - 1] << " < " << seqs[i]);
    CHECK(keys::encode(keys::message_key{g, seqs[i - 1]}) < keys::encode(keys::message_key{g, seqs[i]}));
    CHECK(keys::event_key(seqs[i - 1]) < keys::event_key(seqs[i]));
    CHECK(keys::encode(keys::epoch_key{g, seqs[i - 1]}) < keys::encode(keys::epoch_key{g, seqs[i]}));
    CHECK(keys::encode(keys::direct_key{g, seqs[i - 1]}) < keys::encode(keys::direct_key{g, seqs[i]}));
  }
  // The owner sorts first: every key of a lower group comes before any key of a higher one.
  CHECK(keys::encode(keys::message_key{make_id(1, 2), ~std::uint64_t{0}}) <
        keys::encode(keys::message_key{make_id(2, 2), 0}));
}

TEST_CASE("key decoders reject wrong lengths with bad_format", "[persistence][keys]") {
  const bytes short_key(15, 0);
  const bytes long_key(41, 0);
  CHECK(code_of(keys::decode_id_key(short_key)) == errc::bad_format);
  CHECK(code_of(keys::decode_event_key(short_key)) == errc::bad_format);
  CHECK(code_of(keys::decode_member_key(long_key)) == errc::bad_format);
  CHECK(code_of(keys::decode_user_group_key(short_key)) == errc::bad_format);
  CHECK(code_of(keys::decode_epoch_key(long_key)) == errc::bad_format);
  CHECK(code_of(keys::decode_wrapped_key_key(long_key)) == errc::bad_format);
  CHECK(code_of(keys::decode_message_key(bytes{})) == errc::bad_format);
  CHECK(code_of(keys::decode_direct_key(short_key)) == errc::bad_format);
}
