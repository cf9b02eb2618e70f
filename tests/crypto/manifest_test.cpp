#include <catch2/catch_test_macros.hpp>

#include <algorithm>

#include "crypto/manifest.hpp"
#include "vectors.hpp"

using namespace sealcast;
using namespace sealcast::crypto;
using sealcast::test::hex;

namespace {

// The v1 manifest: epoch and key_id from the "epoch" vector, the rest from "manifest", members
// in the file's (unsorted) order.
manifest vector_manifest() {
  const auto& e = test::v1_vectors().at("epoch");
  const auto& m = test::v1_vectors().at("manifest");
  manifest out;
  out.group = test::id(e.at("group_id"));
  out.epoch = e.at("epoch").to_number<std::uint64_t>();
  out.key_id = test::id(e.at("key_id"));
  out.alg = *parse_aead_alg(test::str(m.at("alg")));
  const bytes prev = hex(m.at("prev_hash"));
  REQUIRE(prev.size() == out.prev_hash.size());
  std::copy(prev.begin(), prev.end(), out.prev_hash.begin());
  for (const auto& mem : m.at("members").as_array()) {
    out.members.push_back({test::id(mem.at("user")), hex(mem.at("kx_pk")),
                           *parse_member_role(test::str(mem.at("role")))});
  }
  return out;
}

}  // namespace

TEST_CASE("manifest bytes, hash and signature reproduce the v1 vector", "[crypto][manifest]") {
  const auto& v = test::v1_vectors().at("manifest");
  const auto issuer = test::identity_of(test::str(v.at("issuer")));
  const manifest m = vector_manifest();

  auto b = m.canonical_bytes();
  REQUIRE(b.ok());
  CHECK(to_hex(*b) == test::str(v.at("bytes")));
  auto h = m.hash();
  REQUIRE(h.ok());
  CHECK(to_hex(*h) == test::str(v.at("hash")));
  auto sig = m.sign(issuer.signer());
  REQUIRE(sig.ok());
  CHECK(to_hex(*sig) == test::str(v.at("sig")));
  CHECK(m.verify(hex(v.at("sig")), issuer.sign_pk()).ok());
}

TEST_CASE("manifest bytes do not depend on the order members are listed in", "[crypto][manifest]") {
  manifest m = vector_manifest();
  const auto expected = *m.canonical_bytes();
  std::reverse(m.members.begin(), m.members.end());
  CHECK(*m.canonical_bytes() == expected);
  std::sort(m.members.begin(), m.members.end(),
            [](const auto& a, const auto& b) { return a.user < b.user; });
  CHECK(*m.canonical_bytes() == expected);
}

TEST_CASE("a manifest signature fails for a flipped bit or any changed field",
          "[crypto][manifest]") {
  const auto& v = test::v1_vectors().at("manifest");
  const auto alice = test::identity_of("alice");
  const bytes sig = hex(v.at("sig"));

  for (std::size_t i = 0; i < sig.size(); i += 5) {
    bytes bad = sig;
    bad[i] ^= 0x01;
    CHECK(test::code_of(vector_manifest().verify(bad, alice.sign_pk())) == errc::bad_signature);
  }
  CHECK(test::code_of(vector_manifest().verify(sig, test::identity_of("bob").sign_pk())) ==
        errc::bad_signature);

  auto changed = [&](auto&& mutate) {
    manifest m = vector_manifest();
    mutate(m);
    return test::code_of(m.verify(sig, alice.sign_pk()));
  };
  CHECK(changed([](manifest& m) { m.epoch += 1; }) == errc::bad_signature);
  CHECK(changed([](manifest& m) { m.group.b[0] ^= 1; }) == errc::bad_signature);
  CHECK(changed([](manifest& m) { m.key_id.b[0] ^= 1; }) == errc::bad_signature);
  CHECK(changed([](manifest& m) { m.alg = aead_alg::chacha20_poly1305; }) == errc::bad_signature);
  CHECK(changed([](manifest& m) { m.prev_hash[31] ^= 1; }) == errc::bad_signature);
  CHECK(changed([](manifest& m) { m.members[1].role = member_role::admin; }) ==
        errc::bad_signature);
  CHECK(changed([](manifest& m) { m.members[2].kx_pk[5] ^= 1; }) == errc::bad_signature);
  CHECK(changed([](manifest& m) { m.members.pop_back(); }) == errc::bad_signature);
  CHECK(changed([](manifest& m) {
          m.members.push_back({test::identity_of("broker").user_id(),
                               test::identity_of("broker").kx_pk(), member_role::member});
        }) == errc::bad_signature);
}

TEST_CASE("manifests with malformed members are refused", "[crypto][manifest]") {
  manifest m = vector_manifest();
  m.members[0].kx_pk.pop_back();
  CHECK(test::code_of(m.canonical_bytes()) == errc::bad_length);
  CHECK(test::code_of(m.verify(hex(test::v1_vectors().at("manifest").at("sig")),
                               test::identity_of("alice").sign_pk())) == errc::bad_length);

  m = vector_manifest();
  m.members.push_back(m.members[0]);
  CHECK(test::code_of(m.validate()) == errc::bad_format);
  m = vector_manifest();
  m.members[0].role = static_cast<member_role>(0);
  CHECK(test::code_of(m.hash()) == errc::bad_format);
  m = vector_manifest();
  m.alg = static_cast<aead_alg>(7);
  CHECK(test::code_of(m.sign(test::identity_of("alice").signer())) == errc::bad_format);
}

TEST_CASE("the first epoch's manifest chains from 32 zero bytes", "[crypto][manifest]") {
  manifest m = vector_manifest();
  m.epoch = 1;
  m.prev_hash = {};
  const auto b = *m.canonical_bytes();
  const auto prev_at = std::string("sealcast/v1/manifest").size() + 16 + 8 + 16 + 1;
  CHECK(std::all_of(b.begin() + prev_at, b.begin() + prev_at + 32, [](auto x) { return x == 0; }));

  manifest next = m;
  next.epoch = 2;
  next.prev_hash = *m.hash();
  CHECK(*next.hash() != *m.hash());
}

TEST_CASE("member roles keep their wire names and ids", "[crypto][manifest]") {
  CHECK(static_cast<int>(member_role::owner) == 1);
  CHECK(static_cast<int>(member_role::admin) == 2);
  CHECK(static_cast<int>(member_role::member) == 3);
  for (auto r : {member_role::owner, member_role::admin, member_role::member}) {
    CHECK(*parse_member_role(to_string(r)) == r);
    CHECK(*member_role_from_id(static_cast<std::uint8_t>(r)) == r);
  }
  CHECK(test::code_of(parse_member_role("root")) == errc::bad_request);
  CHECK(test::code_of(member_role_from_id(4)) == errc::bad_format);
}
