// The client state file and identity files: round trips (verified chains and ratchets, never a
// group key), the restart skip, wrong passphrases and damaged files give clear errors.

#include <catch2/catch_test_macros.hpp>

#include <algorithm>
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
  g.member_count = 3;
  const id16 me = crypto::random_id();
  const id16 peer = crypto::random_id();
  auto& c = g.chain;
  c.pinned = true;
  c.custody = key_custody::client;
  c.policy = group_policy::open;
  c.epoch = 3;
  c.members[me] = crypto::member_entry{key32{1}, member_role::admin};
  c.members[peer] = crypto::member_entry{key32{2}, member_role::owner};
  for (std::uint64_t e = 1; e <= 3; ++e) {
    cd::verified_epoch h;
    h.manifest_hash[0] = static_cast<std::uint8_t>(e);
    h.members_hash[1] = static_cast<std::uint8_t>(e);
    h.member = e != 1;
    if (e == 3) h.roster = {me, peer};
    c.history.emplace(e, h);

    const auto k = crypto::generate_group_key();
    auto keys = cd::make_epoch_keys(k, crypto::key_id(crypto::random_id(), e, k), aead_alg::chacha20_poly1305,
                                    crypto::random_id(), std::vector<id16>{me, peer}, me);
    (void)keys.own.next();  // index 0 used
    // The peer's chain with a skipped key: index 2 read before 0 and 1.
    REQUIRE(keys.peers.at(peer).take(2).ok());
    g.epochs.emplace(e, std::move(keys));
  }
  s.recent_directs.push_back(crypto::random_id());
  s.recent_encs.push_back(cd::enc_prefix{9, 8, 7});
  return s;
}

void check_same_epochs(const cd::group_entry& a, const cd::group_entry& b) {
  REQUIRE(a.epochs.size() == b.epochs.size());
  for (const auto& [e, k] : a.epochs) {
    const auto& o = b.epochs.at(e);
    CHECK(k.key_id == o.key_id);
    CHECK(k.alg == o.alg);
    CHECK(k.issuer == o.issuer);
    CHECK(k.own.key() == o.own.key());
    CHECK(k.own.next_index() == o.own.next_index());
    REQUIRE(k.peers.size() == o.peers.size());
    for (const auto& [user, chain] : k.peers) {
      const auto& oc = o.peers.at(user);
      CHECK(chain.key() == oc.key());
      CHECK(chain.next_index() == oc.next_index());
      REQUIRE(chain.skipped().size() == oc.skipped().size());
      for (const auto& [i, mk] : chain.skipped()) CHECK(oc.skipped().at(i) == mk);
    }
  }
}

TEST_CASE("the state file round-trips identity, verified chains, ratchets and last seq", "[client][state]") {
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
  const auto& orig = s.groups.begin()->second;
  CHECK(gid == s.groups.begin()->first);
  CHECK(g.name == "team");
  CHECK(g.role == member_role::admin);
  CHECK(g.seq_known);
  CHECK(g.member);
  CHECK(g.last_seq == 42);
  CHECK(g.epoch == 3);
  CHECK(g.member_count == 3);
  CHECK(g.chain == orig.chain);
  check_same_epochs(g, orig);
  CHECK(b.recent_directs == s.recent_directs);
  CHECK(b.recent_encs == s.recent_encs);
  // Encoding what was decoded gives the same bytes.
  CHECK(cd::encode_state(back->first, b) == payload);
}

TEST_CASE("the state file holds no group key", "[client][state]") {
  const auto id = crypto::identity::generate();
  cd::client_state s;
  const auto k = crypto::generate_group_key();
  const id16 me = id.user_id();
  const id16 peer = crypto::random_id();
  s.groups[crypto::random_id()].epochs.emplace(
      1, cd::make_epoch_keys(k, crypto::random_id(), aead_alg::aes_256_gcm, peer, std::vector<id16>{me, peer}, me));
  const auto payload = cd::encode_state(id, s);
  const auto it = std::search(payload.begin(), payload.end(), k.data(), k.data() + k.size());
  CHECK(it == payload.end());
}

TEST_CASE("a loaded state moves its own sending chains 256 indexes ahead; receivers accept them", "[client][state]") {
  const auto alice = crypto::identity::generate();
  const auto bob = crypto::identity::generate();
  const auto group = crypto::random_id();
  const auto k = crypto::generate_group_key();
  const std::vector<id16> roster{alice.user_id(), bob.user_id()};
  auto bob_keys = cd::make_epoch_keys(k, crypto::key_id(group, 1, k), aead_alg::aes_256_gcm, alice.user_id(), roster,
                                      bob.user_id());
  crypto::message_context ctx;
  ctx.group = group;
  ctx.epoch = 1;
  ctx.sender = alice.user_id();
  const auto text = as_bytes(std::string_view("hello"));

  cd::client_state s;
  s.groups[group].epochs.emplace(1, cd::make_epoch_keys(k, crypto::key_id(group, 1, k), aead_alg::aes_256_gcm,
                                                        alice.user_id(), roster, alice.user_id()));
  auto sent = cd::seal_next(s.groups[group].epochs.at(1), alice.signer(), ctx, text);
  REQUIRE(sent.ok());
  CHECK(sent->index == 0);
  // Saved here; then index 1 is sent and the client stops before the next save.
  const auto saved = cd::encode_state(alice, s);
  auto lost = cd::seal_next(s.groups[group].epochs.at(1), alice.signer(), ctx, text);
  REQUIRE(lost.ok());
  for (const auto* m : {&*sent, &*lost}) {
    auto c = ctx;
    c.index = m->index;
    CHECK(cd::open_message(bob_keys, alice.sign_pk(), c, m->msg).body);
  }

  auto back = cd::decode_state(saved);
  REQUIRE(back.ok());
  CHECK(back->second.groups.at(group).epochs.at(1).own.next_index() == 1);
  cd::skip_own_chains(back->second);
  auto& own = back->second.groups.at(group).epochs.at(1);
  CHECK(own.own.next_index() == 1 + cd::restart_skip);
  auto after = cd::seal_next(own, alice.signer(), ctx, text);
  REQUIRE(after.ok());
  CHECK(after->index == 1 + cd::restart_skip);
  auto c = ctx;
  c.index = after->index;
  const auto opened = cd::open_message(bob_keys, alice.sign_pk(), c, after->msg);
  INFO(opened.message);
  CHECK(opened.body);
}

TEST_CASE("a state file of protocol v1 is refused with a clear error", "[client][state]") {
  auto payload = cd::encode_state(crypto::identity::generate(), sample_state());
  payload[4] = 1;
  auto r = cd::decode_state(payload);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::bad_format);
  CHECK(r.err().message.find("version 1") != std::string::npos);
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
  for (std::size_t n = 0; n < payload.size(); n += 3) {
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
