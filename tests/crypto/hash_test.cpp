#include <catch2/catch_test_macros.hpp>

#include "crypto/hash.hpp"

using namespace sealcast;
using namespace sealcast::crypto;

TEST_CASE("sha256 matches FIPS 180-2 examples", "[crypto][hash]") {
  CHECK(to_hex(sha256(as_bytes("abc"))) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(to_hex(sha256(byte_view{})) ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("sha256 of parts equals sha256 of their concatenation", "[crypto][hash]") {
  CHECK(sha256({as_bytes("a"), as_bytes(""), as_bytes("bc")}) == sha256(as_bytes("abc")));
  // The thread's hash object is reset after every use: a second call gives the same digest.
  CHECK(sha256(as_bytes("abc")) == sha256(as_bytes("abc")));
}
