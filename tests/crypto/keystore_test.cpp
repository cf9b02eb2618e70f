#include <catch2/catch_test_macros.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "crypto/keystore.hpp"
#include "crypto/random.hpp"
#include "vectors.hpp"

using namespace sealcast;
using namespace sealcast::crypto;

namespace {

// Small costs so the suite stays fast; the format stores them, so decoding needs no hint.
constexpr argon2_params fast{256, 1, 1};

// A unique directory per test, removed afterwards.
struct temp_dir {
  std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("sealcast-crypto-" + random_id().hex());
  temp_dir() { std::filesystem::create_directories(path); }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

}  // namespace

TEST_CASE("a keystore round-trips an identity under its passphrase", "[crypto][keystore]") {
  const auto alice = test::identity_of("alice");
  auto file = encode_keystore(alice, "correct horse", fast);
  REQUIRE(file.ok());
  CHECK(file->size() == passphrase_header_size + 64 + 16);
  CHECK(std::string(file->begin(), file->begin() + 4) == "SCKS");
  CHECK((*file)[4] == 1);

  auto back = decode_keystore(*file, "correct horse");
  REQUIRE(back.ok());
  CHECK(back->public_part() == alice.public_part());
  CHECK(back->kx_sk() == alice.kx_sk());
  CHECK(back->sign_sk() == alice.sign_sk());
}

TEST_CASE("a keystore opened with the wrong passphrase fails with bad_passphrase",
          "[crypto][keystore]") {
  const auto file = *encode_keystore(test::identity_of("bob"), "secret", fast);
  CHECK(test::code_of(decode_keystore(file, "Secret")) == errc::bad_passphrase);
  CHECK(test::code_of(decode_keystore(file, "")) == errc::bad_passphrase);
}

TEST_CASE("a keystore with any modified byte does not open", "[crypto][keystore]") {
  const auto file = *encode_keystore(test::identity_of("bob"), "secret", fast);
  // Header bytes are associated data: changing the cost parameters, salt or nonce (or the
  // ciphertext and tag) makes the file fail to authenticate.
  for (std::size_t i = 5; i < file.size(); i += 3) {
    bytes bad = file;
    bad[i] ^= 0x01;
    INFO(i);
    auto r = decode_keystore(bad, "secret");
    REQUIRE_FALSE(r.ok());
    CHECK((r.err().code == errc::bad_passphrase || r.err().code == errc::bad_format));
  }
  // memory_kib 256 (00 00 01 00) lowered to 128 (00 00 00 80): a valid cost, but not the one the
  // key was derived with, and the header is authenticated.
  bytes weaker = file;
  weaker[7] = 0x00;
  weaker[8] = 0x80;
  CHECK(test::code_of(decode_keystore(weaker, "secret")) == errc::bad_passphrase);
}

TEST_CASE("a truncated or foreign keystore fails with bad_format", "[crypto][keystore]") {
  const auto file = *encode_keystore(test::identity_of("bob"), "secret", fast);
  for (std::size_t n : {std::size_t{0}, std::size_t{3}, std::size_t{20}, passphrase_header_size,
                        passphrase_header_size + 15}) {
    INFO(n);
    CHECK(test::code_of(decode_keystore(byte_view(file).first(n), "secret")) == errc::bad_format);
  }
  bytes foreign = file;
  foreign[0] = 'X';
  CHECK(test::code_of(decode_keystore(foreign, "secret")) == errc::bad_format);
  bytes future = file;
  future[4] = 2;
  CHECK(test::code_of(decode_keystore(future, "secret")) == errc::bad_format);
  CHECK(test::code_of(decode_keystore(random_bytes(200), "secret")) == errc::bad_format);
  // Truncating the ciphertext (but not below one tag) is an authentication failure.
  CHECK(test::code_of(decode_keystore(byte_view(file).first(file.size() - 1), "secret")) ==
        errc::bad_passphrase);
}

TEST_CASE("a keystore demanding absurd Argon2 costs is refused before running",
          "[crypto][keystore]") {
  bytes file = *encode_keystore(test::identity_of("bob"), "secret", fast);
  file[5] = 0xff;  // memory_kib ~ 4 TiB
  CHECK(test::code_of(decode_keystore(file, "secret")) == errc::bad_format);
  file = *encode_keystore(test::identity_of("bob"), "secret", fast);
  file[13] = 0xff;  // parallelism ~ 4 billion lanes
  CHECK(test::code_of(decode_keystore(file, "secret")) == errc::bad_format);
  CHECK(test::code_of(encode_keystore(test::identity_of("bob"), "s", argon2_params{256, 0, 1})) ==
        errc::bad_request);
  CHECK(test::code_of(encode_keystore(test::identity_of("bob"), "s", argon2_params{4, 1, 1})) ==
        errc::bad_request);
}

TEST_CASE("a sealed payload that is not a key pair is not a keystore", "[crypto][keystore]") {
  const auto file = *seal_with_passphrase(as_bytes("not keys"), "pw", fast);
  CHECK(test::code_of(decode_keystore(file, "pw")) == errc::bad_format);
}

TEST_CASE("arbitrary payloads round-trip under a passphrase", "[crypto][keystore]") {
  for (const bytes& payload : {bytes{}, bytes{1, 2, 3}, random_bytes(5000)}) {
    auto file = seal_with_passphrase(payload, "pw", fast);
    REQUIRE(file.ok());
    auto back = open_with_passphrase(*file, "pw");
    REQUIRE(back.ok());
    CHECK(bytes(back->begin(), back->end()) == payload);
  }
  // Fresh salt and nonce each time.
  CHECK(*seal_with_passphrase(as_bytes("x"), "pw", fast) !=
        *seal_with_passphrase(as_bytes("x"), "pw", fast));
}

TEST_CASE("keystore files are written with mode 0600 and load back", "[crypto][keystore]") {
  temp_dir dir;
  const auto path = dir.path / "alice.keys";
  const auto alice = test::identity_of("alice");
  REQUIRE(save_keystore(path, alice, "pw", fast).ok());

  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  auto back = load_keystore(path, "pw");
  REQUIRE(back.ok());
  CHECK(back->public_part() == alice.public_part());
  CHECK(test::code_of(load_keystore(path, "wrong")) == errc::bad_passphrase);

  // Overwriting replaces the file whole and leaves no temporary file behind.
  const auto bob = test::identity_of("bob");
  REQUIRE(save_keystore(path, bob, "pw2", fast).ok());
  CHECK(load_keystore(path, "pw2")->user_id() == bob.user_id());
  CHECK(std::distance(std::filesystem::directory_iterator(dir.path),
                      std::filesystem::directory_iterator{}) == 1);
}

TEST_CASE("sealed state files save and load through the same format", "[crypto][keystore]") {
  temp_dir dir;
  const auto path = dir.path / "state.bin";
  REQUIRE(save_with_passphrase(path, as_bytes("client state"), "pw", fast).ok());
  auto back = load_with_passphrase(path, "pw");
  REQUIRE(back.ok());
  CHECK(ct_equal(*back, as_bytes("client state")));

  std::ofstream(path, std::ios::binary | std::ios::trunc) << "SCK";
  CHECK(test::code_of(load_with_passphrase(path, "pw")) == errc::bad_format);
}

TEST_CASE("missing or unwritable keystore paths fail with io_error", "[crypto][keystore]") {
  temp_dir dir;
  CHECK(test::code_of(load_keystore(dir.path / "absent", "pw")) == errc::io_error);
  CHECK(test::code_of(save_keystore(dir.path / "no" / "such" / "dir" / "k",
                                    test::identity_of("alice"), "pw", fast)) == errc::io_error);
}
