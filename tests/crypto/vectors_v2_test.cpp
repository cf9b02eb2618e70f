// Known-answer tests of tests/vectors/sealcast-v2.json: every value of the file is recomputed from
// its inputs by the implementation, so the file and the code cannot drift apart (and another
// client can trust the file as a statement of what this code does).

#include <catch2/catch_test_macros.hpp>

#include <string>
#include <vector>

#include "crypto/auth.hpp"
#include "crypto/direct.hpp"
#include "crypto/group_context.hpp"
#include "crypto/group_key.hpp"
#include "crypto/identity.hpp"
#include "crypto/message.hpp"
#include "crypto/ratchet.hpp"
#include "vectors.hpp"

using namespace sealcast;
using namespace sealcast::crypto;
using sealcast::test::hex;
using sealcast::test::str;

namespace {

const boost::json::value& v2(std::string_view key) { return test::v2_vectors().at(key); }

id16 group_id() { return test::id(v2("group").at("group_id")); }

// The identity a vector names ("alice", ...).
identity named(const boost::json::value& v) { return test::identity_of(str(v)); }

std::optional<member_role> role_of(const boost::json::value& v) {
  const std::string r = str(v);
  if (r == "none") {
    return std::nullopt;
  }
  auto parsed = parse_member_role(r);
  REQUIRE(parsed.ok());
  return *parsed;
}

// A change from its vector fields, proposal included when there is one.
change change_of(const boost::json::value& v) {
  change c;
  c.action = *parse_change_action(str(v.at("action")));
  c.user = test::id(v.at("user"));
  c.kx_pk = to_array<32>(hex(v.at("kx_pk")));
  c.role = role_of(v.at("role"));
  const auto& o = v.as_object();
  if (o.contains("by")) {
    c.by = test::id(o.at("by"));
    c.by_pk = to_array<32>(hex(o.at("by_pk")));
    c.sig = to_array<64>(hex(o.at("sig")));
  }
  return c;
}

std::vector<change> changes_of(const boost::json::value& epoch) {
  std::vector<change> out;
  for (const auto& c : epoch.at("changes").as_array()) {
    out.push_back(change_of(c));
  }
  return out;
}

group_key key_of(const boost::json::value& epoch) { return *group_key::from_bytes(hex(epoch.at("group_key"))); }

const boost::json::value& epoch_v(std::uint64_t e) { return v2("epochs").as_array().at(e - 1); }

}  // namespace

TEST_CASE("v2 vectors: identities, kx_sig and user ids", "[crypto][vectors]") {
  for (const auto* who : {"alice", "bob", "carol", "broker"}) {
    INFO(who);
    const auto& v = v2("identities").at(who);
    const auto ident = test::identity_of(who);
    CHECK(to_hex(ident.sign_pk()) == str(v.at("sign_pk")));
    CHECK(to_hex(ident.kx_pk()) == str(v.at("kx_pk")));
    CHECK(ident.user_id().hex() == str(v.at("user_id")));
    CHECK(user_id_of(hex(v.at("sign_pk"))).hex() == str(v.at("user_id")));
    CHECK(to_hex(kx_sig_input(hex(v.at("kx_pk")))) == to_hex(as_bytes("sealcast/v2/kx")) + str(v.at("kx_pk")));
    CHECK(to_hex(kx_sig_input(hex(v.at("kx_pk")))) == str(v.at("kx_sig_input")));
    CHECK(to_hex(ident.kx_sig()) == str(v.at("kx_sig")));
    CHECK(verify_kx_sig(hex(v.at("sign_pk")), hex(v.at("kx_pk")), hex(v.at("kx_sig"))));
    const public_identity pub{hex(v.at("sign_pk")), hex(v.at("kx_pk")), hex(v.at("kx_sig"))};
    CHECK(pub.validate().ok());
    CHECK(pub == ident.public_part());
  }
}

TEST_CASE("v2 vectors: hello signature", "[crypto][vectors]") {
  const auto& v = v2("auth");
  const auto user = named(v.at("user"));
  const bytes nonce = hex(v.at("nonce"));
  const id16 broker_id = test::id(v.at("broker_id"));
  CHECK(broker_id == test::identity_of("broker").user_id());
  CHECK(to_hex(auth_message(nonce, broker_id)) == str(v.at("input")));
  CHECK(str(v.at("input")) == to_hex(as_bytes("sealcast/v2/auth")) + str(v.at("nonce")) + str(v.at("broker_id")));
  CHECK(to_hex(sign_auth(user.signer(), nonce, broker_id)) == str(v.at("sig")));
  CHECK(verify_auth(user.sign_pk(), nonce, broker_id, hex(v.at("sig"))));
}

TEST_CASE("v2 vectors: change lines of every action", "[crypto][vectors]") {
  const auto& lines = v2("change_lines").as_array();
  REQUIRE(lines.size() == 5);
  for (const auto& v : lines) {
    INFO(str(v.at("action")));
    const change c = change_of(v);
    CHECK(to_hex(c.line()) == str(v.at("line")));
    CHECK(c.line().size() == change_line_size);
  }
}

TEST_CASE("v2 vectors: proposal tbs and signature", "[crypto][vectors]") {
  const auto& v = v2("proposal");
  const auto proposer = named(v.at("proposer"));
  const std::uint64_t epoch = v.at("epoch").to_number<std::uint64_t>();
  const change c = change_of(v.at("change"));
  CHECK(test::id(v.at("group_id")) == group_id());
  CHECK(to_hex(proposal_tbs(group_id(), epoch, c, proposer.user_id())) == str(v.at("tbs")));
  CHECK(to_hex(sign_proposal(proposer.signer(), group_id(), epoch, c)) == str(v.at("sig")));
  CHECK(verify_proposal(group_id(), epoch, c, proposer.user_id(), proposer.sign_pk(), hex(v.at("sig"))).ok());
}

TEST_CASE("v2 vectors: the chain of manifests replays from the genesis", "[crypto][vectors]") {
  const auto& g = v2("group");
  const auto alg = *parse_aead_alg(str(g.at("alg")));
  REQUIRE(str(g.at("custody")) == "client");
  REQUIRE(str(g.at("policy")) == "invite");

  member_set set;
  digest32 prev_hash{};
  const auto& epochs = v2("epochs").as_array();
  REQUIRE(epochs.size() >= 2);
  for (const auto& v : epochs) {
    const std::uint64_t e = v.at("epoch").to_number<std::uint64_t>();
    INFO("epoch " << e);
    const std::vector<change> changes = changes_of(v);
    const id16 issuer = test::id(v.at("issuer"));
    CHECK(user_id_of(hex(v.at("issuer_pk"))) == issuer);
    CHECK(str(v.at("prev_hash")) == to_hex(prev_hash));

    auto next = apply_commit({group_id(), e, key_custody::client, group_policy::invite, issuer, &set, changes});
    INFO((next.ok() ? std::string() : next.err().message));
    REQUIRE(next.ok());
    set = *next;
    const auto& members = v.at("members").as_array();
    REQUIRE(members.size() == set.size());
    std::size_t i = 0;
    for (const auto& [user, entry] : set) {
      CHECK(user.hex() == str(members.at(i).at("user")));
      CHECK(to_hex(entry.kx_pk) == str(members.at(i).at("kx_pk")));
      CHECK(to_string(entry.role) == str(members.at(i).at("role")));
      ++i;
    }
    for (std::size_t j = 0; j < changes.size(); ++j) {
      CHECK(to_hex(changes[j].line()) == str(v.at("changes").at(j).at("line")));
    }

    manifest m;
    m.group = group_id();
    m.epoch = e;
    m.key_id = key_id(group_id(), e, key_of(v));
    m.alg = alg;
    m.custody = key_custody::client;
    m.policy = group_policy::invite;
    m.issuer = issuer;
    m.prev_hash = prev_hash;
    m.changes_hash = changes_hash(changes);
    m.members_hash = members_hash(set);
    CHECK(m.key_id.hex() == str(v.at("key_id")));
    CHECK(to_hex(m.changes_hash) == str(v.at("changes_hash")));
    CHECK(to_hex(m.members_hash) == str(v.at("members_hash")));
    CHECK(m.canonical_bytes().size() == manifest_size);
    CHECK(to_hex(m.canonical_bytes()) == str(v.at("manifest")));
    CHECK(to_hex(m.hash()) == str(v.at("manifest_hash")));
    bool signed_by_issuer = false;
    for (const auto* who : {"alice", "bob", "carol"}) {
      const auto ident = test::identity_of(who);
      if (ident.user_id() == issuer) {
        CHECK(to_hex(m.sign(ident.signer())) == str(v.at("sig")));
        signed_by_issuer = true;
      }
    }
    CHECK(signed_by_issuer);
    CHECK(m.verify(hex(v.at("sig")), hex(v.at("issuer_pk"))));
    prev_hash = m.hash();
  }
}

TEST_CASE("v2 vectors: key wrap to a member", "[crypto][vectors]") {
  const auto& w = v2("wrap");
  const std::uint64_t e = w.at("epoch").to_number<std::uint64_t>();
  const auto recipient = named(w.at("recipient"));
  const group_key k = key_of(epoch_v(e));
  const id16 kid = key_id(group_id(), e, k);
  CHECK(kid.hex() == str(w.at("key_id")));
  CHECK(to_hex(wrap_info(group_id(), e)) == str(w.at("info")));
  CHECK(str(w.at("info")) == to_hex(as_bytes("sealcast/v2/wrap")) + group_id().hex() + "0000000000000002");
  CHECK(to_hex(kid.view()) == str(w.at("aad")));
  auto wrapped = wrap_group_key_with_ephemeral(hex(w.at("ephemeral_sk")), recipient.kx_pk(), group_id(), e, k);
  REQUIRE(wrapped.ok());
  CHECK(wrapped->size() == wrapped_key_size);
  CHECK(to_hex(*wrapped) == str(w.at("wrapped")));
  auto back = unwrap_group_key(recipient.kx_sk(), group_id(), e, kid, hex(w.at("wrapped")));
  REQUIRE(back.ok());
  CHECK(*back == k);
}

TEST_CASE("v2 vectors: sender ratchet chain and message keys", "[crypto][vectors]") {
  const auto& r = v2("ratchet");
  const auto sender = named(r.at("sender"));
  const group_key k = key_of(epoch_v(r.at("epoch").to_number<std::uint64_t>()));
  CHECK(str(r.at("info")) == to_hex(as_bytes("sealcast/v2/chain")) + sender.user_id().hex());
  chain_key chain = initial_chain(k, sender.user_id());
  sender_chain tx(initial_chain(k, sender.user_id()), 0);
  receiver_chain rx(initial_chain(k, sender.user_id()), 0);
  const auto& steps = r.at("steps").as_array();
  REQUIRE(steps.size() == 4);
  for (const auto& s : steps) {
    const auto i = s.at("index").to_number<std::uint32_t>();
    INFO("index " << i);
    CHECK(to_hex(chain.view()) == str(s.at("chain")));
    CHECK(to_hex(chain_message_key(chain).view()) == str(s.at("msg_key")));
    auto [index, key] = *tx.next();
    CHECK(index == i);
    CHECK(to_hex(key.view()) == str(s.at("msg_key")));
    chain = chain_advance(chain);
  }
  // The receiver reaches index 3 directly and still opens 0 to 2 afterwards.
  CHECK(to_hex(rx.take(3)->view()) == str(steps.at(3).at("msg_key")));
  CHECK(to_hex(rx.take(1)->view()) == str(steps.at(1).at("msg_key")));
}

TEST_CASE("v2 vectors: group messages at index 2", "[crypto][vectors]") {
  const auto& msgs = v2("messages").as_array();
  REQUIRE(msgs.size() == 3);
  for (const auto& v : msgs) {
    INFO(str(v.at("alg")));
    const auto sender = named(v.at("sender"));
    const std::uint64_t e = v.at("epoch").to_number<std::uint64_t>();
    const auto index = v.at("index").to_number<std::uint32_t>();
    const message_context ctx{group_id(), e, sender.user_id(), index, *parse_aead_alg(str(v.at("alg")))};

    receiver_chain rx(initial_chain(key_of(epoch_v(e)), sender.user_id()), 0);
    auto mk = rx.take(index);
    REQUIRE(mk.ok());
    CHECK(to_hex(mk->view()) == str(v.at("msg_key")));
    CHECK(to_hex(message_aad(ctx)) == str(v.at("aad")));

    auto sealed = encrypt_message_with_nonce(sender.signer(), *mk, ctx, hex(v.at("nonce")), hex(v.at("plaintext")));
    REQUIRE(sealed.ok());
    CHECK(to_hex(sealed->ct) == str(v.at("ct")));
    CHECK(to_hex(message_sig_input(ctx, sealed->nonce, sealed->ct)) == str(v.at("sig_input")));
    CHECK(to_hex(sealed->sig) == str(v.at("sig")));

    const sealed_message from_file{hex(v.at("nonce")), hex(v.at("ct")), hex(v.at("sig"))};
    CHECK(verify_message_sig(sender.sign_pk(), ctx, from_file).ok());
    auto pt = decrypt_message(*mk, ctx, from_file);
    REQUIRE(pt.ok());
    CHECK(to_hex(*pt) == str(v.at("plaintext")));
  }
}

TEST_CASE("v2 vectors: direct message", "[crypto][vectors]") {
  const auto& v = v2("direct");
  const auto sender = named(v.at("sender"));
  const auto recipient = named(v.at("recipient"));
  CHECK(to_hex(direct_info(sender.user_id(), recipient.user_id())) == str(v.at("info")));
  auto d = seal_direct_with_ephemeral(sender, recipient.user_id(), recipient.kx_pk(), hex(v.at("ephemeral_sk")),
                                      hex(v.at("plaintext")));
  REQUIRE(d.ok());
  CHECK(to_hex(d->sealed) == str(v.at("sealed")));
  CHECK(to_hex(direct_sig_input(recipient.user_id(), d->sealed)) == str(v.at("sig_input")));
  CHECK(to_hex(d->sig) == str(v.at("sig")));
  const sealed_direct from_file{hex(v.at("sealed")), hex(v.at("sig"))};
  auto pt = open_direct(recipient, sender.user_id(), sender.sign_pk(), from_file);
  REQUIRE(pt.ok());
  CHECK(to_hex(*pt) == str(v.at("plaintext")));
}
