#include <catch2/catch_test_macros.hpp>

#include "common/bytes.hpp"

using namespace sealcast;

TEST_CASE("base64 matches the RFC 4648 section 10 vectors", "[common][base64]") {
  const std::pair<const char*, const char*> cases[] = {
      {"", ""},           {"f", "Zg=="},         {"fo", "Zm8="},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
  };
  for (auto [plain, encoded] : cases) {
    CHECK(to_base64(as_bytes(plain)) == encoded);
    auto back = from_base64(encoded);
    REQUIRE(back);
    CHECK(std::string(back->begin(), back->end()) == plain);
  }
}

TEST_CASE("base64 rejects malformed input", "[common][base64]") {
  for (const char* bad : {"Zg", "Zg=", "Z===", "Zm9v!A==", "Zg==Zg==", "Zh==", "Zm9=", " Zg==", "=Zg="}) {
    auto r = from_base64(bad);
    INFO(bad);
    REQUIRE_FALSE(r);
    CHECK(r.err().code == errc::bad_encoding);
  }
}

TEST_CASE("hex round-trips and rejects non-hex", "[common][hex]") {
  bytes b{0x00, 0x01, 0xab, 0xff};
  CHECK(to_hex(b) == "0001abff");
  auto back = from_hex("0001ABff");
  REQUIRE(back);
  CHECK(*back == b);
  CHECK_FALSE(from_hex("abc"));
  CHECK_FALSE(from_hex("zz"));
}

TEST_CASE("id16 parses exactly 32 hex characters", "[common][id]") {
  auto id = id16::from_hex("03782b0ed7b423bcd860ddd3c0f866a5");
  REQUIRE(id);
  CHECK(id->hex() == "03782b0ed7b423bcd860ddd3c0f866a5");
  CHECK_FALSE(id16::from_hex("03782b0ed7b423bcd860ddd3c0f866"));
  CHECK_FALSE(id16::from_hex("03782b0ed7b423bcd860ddd3c0f866a5ff"));
  CHECK_FALSE(id16::from_hex("g3782b0ed7b423bcd860ddd3c0f866a5"));
  CHECK(id16{}.is_zero());
  CHECK_FALSE(id->is_zero());
}

TEST_CASE("big-endian helpers order bytes most significant first", "[common][endian]") {
  bytes out;
  put_u64be(out, 0x0102030405060708ULL);
  put_u32be(out, 0xa0b0c0d0U);
  CHECK(to_hex(out) == "0102030405060708a0b0c0d0");
  CHECK(get_u64be(out.data()) == 0x0102030405060708ULL);
  CHECK(get_u32be(out.data() + 8) == 0xa0b0c0d0U);
}
