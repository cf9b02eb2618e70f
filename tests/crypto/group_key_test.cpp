#include <catch2/catch_test_macros.hpp>

#include <ctime>
#include <iostream>

#include "crypto/group_key.hpp"
#include "crypto/hash.hpp"
#include "crypto/hpke.hpp"
#include "crypto/random.hpp"
#include "vectors.hpp"

using namespace sealcast;
using namespace sealcast::crypto;
using sealcast::test::hex;

namespace {

struct epoch_vector {
  id16 group;
  std::uint64_t epoch;
  group_key key;
  id16 key_id;
};

// Epoch 2 of the v2 vectors' group, whose key the "wrap" vector wraps to bob.
epoch_vector epoch_v() {
  const auto& v = test::v2_vectors();
  const auto& e = v.at("epochs").as_array().at(1);
  return {test::id(v.at("group").at("group_id")), e.at("epoch").to_number<std::uint64_t>(),
          *group_key::from_bytes(hex(e.at("group_key"))), test::id(e.at("key_id"))};
}

bytes vector_wrapped() { return hex(test::v2_vectors().at("wrap").at("wrapped")); }

}  // namespace

TEST_CASE("key_id commits to the v2 label, group, epoch and key", "[crypto][group_key]") {
  const auto e = epoch_v();
  CHECK(key_id(e.group, e.epoch, e.key) == e.key_id);
  bytes input;
  append(input, std::string_view("sealcast/v2/keyid"));
  append(input, e.group.view());
  put_u64be(input, e.epoch);
  append(input, e.key.view());
  const digest32 h = sha256(input);
  CHECK(to_hex(e.key_id.view()) == to_hex(byte_view(h).first(16)));
  CHECK(key_id(e.group, e.epoch + 1, e.key) != e.key_id);
  id16 other_group = e.group;
  other_group.b[0] ^= 1;
  CHECK(key_id(other_group, e.epoch, e.key) != e.key_id);
}

TEST_CASE("the wrap's HPKE info is the v2 label, group and epoch", "[crypto][group_key]") {
  const auto e = epoch_v();
  bytes info;
  append(info, std::string_view("sealcast/v2/wrap"));
  append(info, e.group.view());
  put_u64be(info, e.epoch);
  CHECK(wrap_info(e.group, e.epoch) == info);
  auto k = unwrap_group_key(test::identity_of("bob").kx_sk(), e.group, e.epoch, e.key_id, vector_wrapped());
  REQUIRE(k.ok());
  CHECK(*k == e.key);
}

TEST_CASE("a wrapped key opens only for its recipient, group, epoch and key_id",
          "[crypto][group_key]") {
  const auto e = epoch_v();
  const auto bob = test::identity_of("bob");
  const bytes w = vector_wrapped();
  CHECK(test::code_of(unwrap_group_key(test::identity_of("alice").kx_sk(), e.group, e.epoch,
                                       e.key_id, w)) == errc::decrypt_failed);
  id16 other_group = e.group;
  other_group.b[0] ^= 1;
  CHECK(test::code_of(unwrap_group_key(bob.kx_sk(), other_group, e.epoch, e.key_id, w)) ==
        errc::decrypt_failed);
  CHECK(test::code_of(unwrap_group_key(bob.kx_sk(), e.group, e.epoch + 1, e.key_id, w)) ==
        errc::decrypt_failed);
  id16 other_kid = e.key_id;
  other_kid.b[3] ^= 1;
  CHECK(test::code_of(unwrap_group_key(bob.kx_sk(), e.group, e.epoch, other_kid, w)) ==
        errc::decrypt_failed);
}

TEST_CASE("a wrapped key with any flipped bit is rejected", "[crypto][group_key]") {
  const auto e = epoch_v();
  const auto bob = test::identity_of("bob");
  const bytes w = vector_wrapped();
  for (std::size_t i = 0; i < w.size(); ++i) {
    bytes bad = w;
    bad[i] ^= static_cast<std::uint8_t>(1U << ((i + 3) % 8));
    INFO(i);
    CHECK_FALSE(unwrap_group_key(bob.kx_sk(), e.group, e.epoch, e.key_id, bad).ok());
  }
}

TEST_CASE("an unwrapped key that does not match its key_id is key_mismatch",
          "[crypto][group_key]") {
  // A dishonest wrapper encrypts some other key under the right info and aad.
  const auto e = epoch_v();
  const auto bob = test::identity_of("bob");
  const group_key other = generate_group_key();
  auto forged = hpke_seal(bob.kx_pk(), wrap_info(e.group, e.epoch), e.key_id.view(), other.view());
  REQUIRE(forged.ok());
  CHECK(test::code_of(unwrap_group_key(bob.kx_sk(), e.group, e.epoch, e.key_id, *forged)) ==
        errc::key_mismatch);
}

TEST_CASE("wrap and unwrap round-trip with fresh keys", "[crypto][group_key]") {
  const auto carol = test::identity_of("carol");
  const id16 group = random_id();
  const group_key k = generate_group_key();
  auto w1 = wrap_group_key(carol.kx_pk(), group, 1, k);
  auto w2 = wrap_group_key(carol.kx_pk(), group, 1, k);
  REQUIRE(w1.ok());
  REQUIRE(w2.ok());
  CHECK(*w1 != *w2);  // a fresh ephemeral key per wrap
  auto back = unwrap_group_key(carol.kx_sk(), group, 1, key_id(group, 1, k), *w1);
  REQUIRE(back.ok());
  CHECK(*back == k);
}

TEST_CASE("wrap with a pre-generated ephemeral key round-trips", "[crypto][group_key]") {
  const auto bob = test::identity_of("bob");
  const auto e = epoch_v();
  auto w = wrap_group_key(hpke_ephemeral::generate(), bob.kx_pk(), e.group, e.epoch, e.key);
  REQUIRE(w.ok());
  auto k = unwrap_group_key(bob.kx_sk(), e.group, e.epoch, e.key_id, *w);
  REQUIRE(k.ok());
  CHECK(*k == e.key);
}

TEST_CASE("wrap refuses unusable member keys and unwrap wrong sizes", "[crypto][group_key]") {
  const auto e = epoch_v();
  const auto bob = test::identity_of("bob");
  CHECK(test::code_of(wrap_group_key(bytes(32, 0), e.group, e.epoch, e.key)) == errc::bad_key);
  CHECK(test::code_of(wrap_group_key(bytes(31, 5), e.group, e.epoch, e.key)) == errc::bad_length);
  const bytes w = vector_wrapped();
  CHECK(test::code_of(unwrap_group_key(bob.kx_sk(), e.group, e.epoch, e.key_id,
                                       byte_view(w).first(79))) == errc::bad_length);
  bytes longer = w;
  longer.push_back(0);
  CHECK(test::code_of(unwrap_group_key(bob.kx_sk(), e.group, e.epoch, e.key_id, longer)) ==
        errc::bad_length);
}

namespace {

double thread_cpu_ms() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

}  // namespace

// Not run by default (hidden tag): `crypto_tests "[.bench]"` prints the cost of a rotation, in
// this thread's CPU time so that other processes on the machine do not inflate it.
TEST_CASE("wrapping a group key to 1000 members", "[.bench][crypto][group_key]") {
  std::vector<bytes> members;
  members.reserve(1000);
  for (int i = 0; i < 1000; ++i) {
    members.push_back(identity::generate().kx_pk());
  }
  const id16 group = random_id();
  const group_key k = generate_group_key();

  double start = thread_cpu_ms();
  for (const auto& pk : members) {
    REQUIRE(wrap_group_key(pk, group, 1, k).ok());
  }
  const double fresh_ms = thread_cpu_ms() - start;

  std::vector<hpke_ephemeral> pool;
  pool.reserve(members.size());
  for (std::size_t i = 0; i < members.size(); ++i) {
    pool.push_back(hpke_ephemeral::generate());
  }
  start = thread_cpu_ms();
  for (std::size_t i = 0; i < members.size(); ++i) {
    REQUIRE(wrap_group_key(std::move(pool[i]), members[i], group, 1, k).ok());
  }
  const double pooled_ms = thread_cpu_ms() - start;

  std::cout << "1000 wraps: " << fresh_ms << " ms CPU with fresh ephemerals, " << pooled_ms
            << " ms CPU with pre-generated ones\n";
}
