// The client state file and identity files: round trips, wrong passphrases and damaged files
// give clear errors.

#include <catch2/catch_test_macros.hpp>

#include <fstream>

#include <sys/stat.h>

#include "client/state_file.hpp"
#include "crypto/group_key.hpp"
#include "crypto/random.hpp"
#include "tests/support/broker_process.hpp"

namespace sealcast::test {
namespace {

namespace cd = sealcast::client::detail;
const crypto::argon2_params cheap{256, 1, 1};

cd::client_state sample_state() {
  cd::client_state s;
  s.broker = crypto::random_id();
  s.broker_pk = crypto::random_bytes(32);
  auto& g = s.groups[crypto::random_id()];
  g.name = "team";
  g.role = member_role::admin;
  g.seq_known = true;
  g.last_seq = 42;
  g.epoch = 3;
  for (std::uint64_t e = 1; e <= 3; ++e) {
    cd::epoch_entry k;
    k.key = crypto::generate_group_key();
    k.key_id = crypto::random_id();
    k.alg = aead_alg::chacha20_poly1305;
    k.custody = key_custody::client;
    k.issuer = crypto::random_id();
    k.manifest_hash[0] = static_cast<std::uint8_t>(e);
    g.epochs.emplace(e, k);
  }
  s.recent_directs.push_back(crypto::random_id());
  return s;
}

TEST_CASE("the state file round-trips identity, keys per epoch and last seq", "[client][state]") {
  temp_dir dir;
  const auto path = dir.path() / "state";
  const auto id = crypto::identity::generate();
  const auto s = sample_state();
  const auto payload = cd::encode_state(id, s);
  REQUIRE(cd::write_state(path, payload, "pw", cheap).ok());

  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  auto back = cd::read_state(path, "pw");
  REQUIRE(back.ok());
  CHECK(back->first.user_id() == id.user_id());
  CHECK(back->first.kx_pk() == id.kx_pk());
  const auto& b = back->second;
  CHECK(b.broker == s.broker);
  CHECK(b.broker_pk == s.broker_pk);
  REQUIRE(b.groups.size() == 1);
  const auto& [gid, g] = *b.groups.begin();
  CHECK(gid == s.groups.begin()->first);
  CHECK(g.name == "team");
  CHECK(g.role == member_role::admin);
  CHECK(g.seq_known);
  CHECK(g.last_seq == 42);
  REQUIRE(g.epochs.size() == 3);
  for (const auto& [e, k] : g.epochs) {
    const auto& orig = s.groups.begin()->second.epochs.at(e);
    CHECK(k.key == orig.key);
    CHECK(k.key_id == orig.key_id);
    CHECK(k.alg == orig.alg);
    CHECK(k.custody == orig.custody);
    CHECK(k.issuer == orig.issuer);
    CHECK(k.manifest_hash == orig.manifest_hash);
  }
  CHECK(b.recent_directs == s.recent_directs);
}

TEST_CASE("a wrong passphrase or a damaged state file is a clear error", "[client][state]") {
  temp_dir dir;
  const auto path = dir.path() / "state";
  REQUIRE(cd::write_state(path, cd::encode_state(crypto::identity::generate(), sample_state()), "right", cheap).ok());

  auto wrong = cd::read_state(path, "wrong");
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.err().code == errc::bad_passphrase);
  CHECK(wrong.err().message.find("wrong passphrase") != std::string::npos);

  auto missing = cd::read_state(dir.path() / "nope", "right");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.err().code == errc::io_error);

  // A keystore is not a state file.
  const auto ks = dir.path() / "id";
  REQUIRE(crypto::save_keystore(ks, crypto::identity::generate(), "right", cheap).ok());
  auto foreign = cd::read_state(ks, "right");
  REQUIRE_FALSE(foreign.ok());
  CHECK(foreign.err().code == errc::bad_format);

  // A truncated payload never crashes the decoder.
  const auto payload = cd::encode_state(crypto::identity::generate(), sample_state());
  for (std::size_t n = 0; n < payload.size(); n += 7) {
    auto r = cd::decode_state(byte_view(payload).first(n));
    CHECK_FALSE(r.ok());
  }
}

TEST_CASE("keygen writes a keystore once, and load_identity checks the passphrase", "[client][state]") {
  temp_dir dir;
  const auto path = dir.path() / "me.key";
  auto id = sealcast::client::keygen(path, "secret", cheap);
  REQUIRE(id.ok());
  auto again = sealcast::client::keygen(path, "secret", cheap);
  REQUIRE_FALSE(again.ok());
  CHECK(again.err().code == errc::exists);
  auto loaded = sealcast::client::load_identity(path, "secret");
  REQUIRE(loaded.ok());
  CHECK(loaded->user_id() == id->user_id());
  auto wrong = sealcast::client::load_identity(path, "nope");
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.err().code == errc::bad_passphrase);
}

}  // namespace
}  // namespace sealcast::test
