// Writes tests/vectors/sealcast-v2.json. Hidden (`crypto_tests "[.generate]"`): the file is
// committed, and vectors_v2_test.cpp checks every value of it against the implementation. Every
// input is fixed (Ed25519 and the rest are deterministic), so a run reproduces the file byte for
// byte unless a construction changed.

#include <catch2/catch_test_macros.hpp>

#include <boost/json.hpp>

#include <fstream>
#include <string>
#include <vector>

#include "crypto/auth.hpp"
#include "crypto/direct.hpp"
#include "crypto/group_context.hpp"
#include "crypto/group_key.hpp"
#include "crypto/hash.hpp"
#include "crypto/identity.hpp"
#include "crypto/message.hpp"
#include "crypto/ratchet.hpp"
#include "vectors.hpp"

using namespace sealcast;
using namespace sealcast::crypto;
namespace json = boost::json;

namespace {

constexpr const char* description =
    "Sealcast v2 constructions (docs/protocol.md sections 2, 3, 6, 7 and 8). All byte strings are "
    "lowercase hex; ids are 16 bytes (32 hex characters); epoch and index are JSON numbers. "
    "Private keys are raw 32-byte seeds (Ed25519) or scalars (X25519); X25519 private keys are "
    "given unclamped, and libraries that clamp on import store different bytes, so compare public "
    "keys and outputs, not raw private-key bytes. Identities are those of sealcast-v1.json (their "
    "kx_sig changes with the label). Other fixed inputs (nonces, group keys, ephemeral keys, ids) "
    "are the first bytes of SHA-256(\"sealcast-v2-vectors/\" || name) and are given in the file. "
    "Enum bytes: role owner=1 admin=2 member=3 (0 none), alg aes-256-gcm=1 chacha20-poly1305=2 "
    "xchacha20-poly1305=3, custody broker=1 client=2, policy invite=1 open=2, action add=1 "
    "remove=2 role=3 join=4 leave=5. 'line' is the 50-byte change line, 'tbs' the signed proposal "
    "bytes, 'manifest' the canonical manifest bytes (175 bytes), 'input' or 'sig_input' the exact "
    "bytes an Ed25519 signature covers. 'epochs' is one client-custody group (invite policy) from "
    "its genesis: 'prev_hash' is the previous entry's 'manifest_hash' (zeros for epoch 1), and "
    "each proposal 'sig' signs proposal_tbs against epoch - 1. 'wrap', 'ratchet' and 'messages' "
    "use epoch 2's group key; 'ratchet.steps[i]' holds chain_i and msg_key_i, and the messages "
    "are bob's at index 2.";

const char* const names[] = {"alice", "bob", "carol", "broker"};

// The identities of sealcast-v1.json: test keys, published with the vectors, used nowhere else.
struct identity_secrets {
  const char* sign_sk;
  const char* kx_sk;
};
const identity_secrets secrets[] = {
    {"ce350a4e4482813fd05b275cde1fe5c5c0319116bab1a09fef1d289995ce4861",
     "e064ebb13575ee602bda51b39efc5af23b175962dcea3cf487aaa7ff6abd21ed"},
    {"318c81075f31147efb1d4cd0c1e61c857684d22c862619f47e91fc7a894fc28b",
     "e55f40454eab56aec0332750c3ded46f069b93a208a04ae5307aea4c2e0132f5"},
    {"270c42e34a7e5146d1305ce156ee8ad22ee9dd1295390a3fca9ef5798e6343d2",
     "d7fe5eb3faefe3946ab216a1ae1e8009d223d8b683910c8e14315260898b3ff1"},
    {"adbd7b4727d60bc2c49093b40b1026a0c11611efbc01d9fe23c2c41bca8cfccb",
     "62263f86cf0ec29e6e03f6ddf873356dc57bbf7f05831784f85ade3a32263775"},
};

bytes fixed(const std::string& name, std::size_t n) {
  const digest32 h = sha256(as_bytes("sealcast-v2-vectors/" + name));
  return bytes(h.begin(), h.begin() + static_cast<std::ptrdiff_t>(n));
}

id16 fixed_id(const std::string& name) { return *id16::from_bytes(fixed(name, 16)); }

std::string hx(byte_view v) { return to_hex(v); }

identity make_identity(std::size_t i) {
  return *identity::from_secrets(*from_hex(secrets[i].sign_sk), *from_hex(secrets[i].kx_sk));
}

json::object change_json(const change& c) {
  json::object o;
  o["action"] = to_string(c.action);
  o["user"] = c.user.hex();
  o["kx_pk"] = hx(c.kx_pk);
  o["role"] = c.role ? to_string(*c.role) : "none";
  if (c.by) {
    o["by"] = c.by->hex();
  }
  if (c.by_pk) {
    o["by_pk"] = hx(*c.by_pk);
  }
  if (c.sig) {
    o["sig"] = hx(*c.sig);
  }
  o["line"] = hx(c.line());
  return o;
}

json::array members_json(const member_set& set) {
  json::array a;
  for (const auto& [user, e] : set) {
    a.push_back(json::object{{"user", user.hex()}, {"kx_pk", hx(e.kx_pk)}, {"role", to_string(e.role)}});
  }
  return a;
}

change add_of(const identity& who, member_role role) {
  change c;
  c.action = change_action::add;
  c.user = who.user_id();
  c.kx_pk = to_array<32>(who.kx_pk());
  c.role = role;
  return c;
}

change proposed(change c, const identity& by, const id16& group, std::uint64_t against) {
  c.by = by.user_id();
  c.by_pk = to_array<32>(by.sign_pk());
  c.sig = sign_proposal(by.signer(), group, against, c);
  return c;
}

// An indented rendering, so that a change of the file reads as a diff of values.
void pretty(std::string& out, const json::value& v, int depth) {
  const std::string pad(static_cast<std::size_t>(depth) + 1, ' ');
  const std::string close_pad(static_cast<std::size_t>(depth), ' ');
  if (v.is_object()) {
    const auto& o = v.get_object();
    out += "{\n";
    std::size_t i = 0;
    for (const auto& kv : o) {
      out += pad + json::serialize(json::value(kv.key())) + ": ";
      pretty(out, kv.value(), depth + 1);
      out += ++i < o.size() ? ",\n" : "\n";
    }
    out += close_pad + "}";
  } else if (v.is_array()) {
    const auto& a = v.get_array();
    out += "[\n";
    for (std::size_t i = 0; i < a.size(); ++i) {
      out += pad;
      pretty(out, a[i], depth + 1);
      out += i + 1 < a.size() ? ",\n" : "\n";
    }
    out += close_pad + "]";
  } else {
    out += json::serialize(v);
  }
}

}  // namespace

TEST_CASE("generate tests/vectors/sealcast-v2.json", "[.generate]") {
  std::vector<identity> ids;
  json::object identities;
  for (std::size_t i = 0; i < 4; ++i) {
    ids.push_back(make_identity(i));
    const identity& id = ids.back();
    identities[names[i]] = json::object{
        {"sign_sk", secrets[i].sign_sk}, {"sign_pk", hx(id.sign_pk())}, {"user_id", id.user_id().hex()},
        {"kx_sk", secrets[i].kx_sk},     {"kx_pk", hx(id.kx_pk())},     {"kx_sig_input", hx(kx_sig_input(id.kx_pk()))},
        {"kx_sig", hx(id.kx_sig())},
    };
  }
  const identity& alice = ids[0];
  const identity& bob = ids[1];
  const identity& carol = ids[2];
  const identity& broker = ids[3];

  json::object root;
  root["description"] = description;
  root["identities"] = std::move(identities);

  const bytes nonce = fixed("auth/nonce", auth_nonce_size);
  root["auth"] = json::object{{"user", "alice"},
                              {"nonce", hx(nonce)},
                              {"broker_id", broker.user_id().hex()},
                              {"input", hx(auth_message(nonce, broker.user_id()))},
                              {"sig", hx(sign_auth(alice.signer(), nonce, broker.user_id()))}};

  // One client-custody, invite-only group: alice creates it (epoch 1), adds bob as member and
  // carol as admin (epoch 2), then carol, as admin, promotes bob (epoch 3).
  const id16 group = fixed_id("group");
  const aead_alg alg = aead_alg::aes_256_gcm;
  root["group"] =
      json::object{{"group_id", group.hex()}, {"alg", to_string(alg)}, {"custody", "client"}, {"policy", "invite"}};

  change remove_bob{change_action::remove, bob.user_id(), {}, std::nullopt, {}, {}, {}};
  change promote_bob{change_action::role, bob.user_id(), {}, member_role::admin, {}, {}, {}};
  change join_carol = add_of(carol, member_role::member);
  join_carol.action = change_action::join;
  change leave_carol{change_action::leave, carol.user_id(), {}, std::nullopt, {}, {}, {}};
  json::array lines;
  for (const change& c : {add_of(bob, member_role::member), remove_bob, promote_bob, join_carol, leave_carol}) {
    lines.push_back(change_json(c));
  }
  root["change_lines"] = std::move(lines);

  const change add_bob = proposed(add_of(bob, member_role::member), alice, group, 1);
  root["proposal"] = json::object{{"group_id", group.hex()},
                                  {"epoch", 1},
                                  {"proposer", "alice"},
                                  {"change", change_json(add_bob)},
                                  {"tbs", hx(proposal_tbs(group, 1, add_bob, alice.user_id()))},
                                  {"sig", hx(*add_bob.sig)}};

  struct epoch_plan {
    const identity* issuer;
    std::vector<change> changes;
  };
  const std::vector<epoch_plan> plans = {
      {&alice, {add_of(alice, member_role::owner)}},
      {&alice, {add_bob, proposed(add_of(carol, member_role::admin), alice, group, 1)}},
      {&carol, {proposed(promote_bob, carol, group, 2)}},
  };
  json::array epochs;
  member_set set;
  digest32 prev_hash{};
  group_key epoch2_key;
  for (std::size_t i = 0; i < plans.size(); ++i) {
    const std::uint64_t e = i + 1;
    const auto& plan = plans[i];
    const commit_input in{group, e,           key_custody::client, group_policy::invite, plan.issuer->user_id(),
                          &set,  plan.changes};
    auto next = apply_commit(in);
    INFO((next.ok() ? std::string() : next.err().message));
    REQUIRE(next.ok());
    set = std::move(*next);

    const auto k = *group_key::from_bytes(fixed("epoch" + std::to_string(e) + "/group_key", 32));
    if (e == 2) {
      epoch2_key = k;
    }
    manifest m;
    m.group = group;
    m.epoch = e;
    m.key_id = key_id(group, e, k);
    m.alg = alg;
    m.custody = key_custody::client;
    m.policy = group_policy::invite;
    m.issuer = plan.issuer->user_id();
    m.prev_hash = prev_hash;
    m.changes_hash = changes_hash(plan.changes);
    m.members_hash = members_hash(set);

    json::array changes;
    for (const auto& c : plan.changes) {
      changes.push_back(change_json(c));
    }
    epochs.push_back(json::object{{"epoch", e},
                                  {"group_key", hx(k.view())},
                                  {"key_id", m.key_id.hex()},
                                  {"issuer", m.issuer.hex()},
                                  {"issuer_pk", hx(plan.issuer->sign_pk())},
                                  {"prev_hash", hx(prev_hash)},
                                  {"changes", std::move(changes)},
                                  {"changes_hash", hx(m.changes_hash)},
                                  {"members", members_json(set)},
                                  {"members_hash", hx(m.members_hash)},
                                  {"manifest", hx(m.canonical_bytes())},
                                  {"manifest_hash", hx(m.hash())},
                                  {"sig", hx(m.sign(plan.issuer->signer()))}});
    prev_hash = m.hash();
  }
  root["epochs"] = std::move(epochs);

  const id16 kid2 = key_id(group, 2, epoch2_key);
  const bytes wrap_sk = fixed("wrap/ephemeral_sk", 32);
  root["wrap"] =
      json::object{{"recipient", "bob"},
                   {"epoch", 2},
                   {"key_id", kid2.hex()},
                   {"ephemeral_sk", hx(wrap_sk)},
                   {"info", hx(wrap_info(group, 2))},
                   {"aad", hx(kid2.view())},
                   {"wrapped", hx(*wrap_group_key_with_ephemeral(wrap_sk, bob.kx_pk(), group, 2, epoch2_key))}};

  bytes info;
  append(info, chain_label);
  append(info, bob.user_id().view());
  chain_key chain = initial_chain(epoch2_key, bob.user_id());
  json::array steps;
  std::vector<aead_key> msg_keys;
  for (std::uint32_t i = 0; i < 4; ++i) {
    msg_keys.push_back(chain_message_key(chain));
    steps.push_back(json::object{{"index", i}, {"chain", hx(chain.view())}, {"msg_key", hx(msg_keys.back().view())}});
    chain = chain_advance(chain);
  }
  root["ratchet"] = json::object{{"epoch", 2}, {"sender", "bob"}, {"info", hx(info)}, {"steps", std::move(steps)}};

  json::array messages;
  for (const auto a : {aead_alg::aes_256_gcm, aead_alg::chacha20_poly1305, aead_alg::xchacha20_poly1305}) {
    const message_context ctx{group, 2, bob.user_id(), 2, a};
    const bytes n = fixed("message/nonce/" + std::string(to_string(a)), nonce_size(a));
    const auto pt = as_bytes("Hello, group members!");
    auto sealed = encrypt_message_with_nonce(bob.signer(), msg_keys[2], ctx, n, pt);
    REQUIRE(sealed.ok());
    messages.push_back(json::object{{"sender", "bob"},
                                    {"epoch", 2},
                                    {"index", 2},
                                    {"alg", to_string(a)},
                                    {"plaintext", hx(pt)},
                                    {"msg_key", hx(msg_keys[2].view())},
                                    {"nonce", hx(sealed->nonce)},
                                    {"aad", hx(message_aad(ctx))},
                                    {"ct", hx(sealed->ct)},
                                    {"sig_input", hx(message_sig_input(ctx, sealed->nonce, sealed->ct))},
                                    {"sig", hx(sealed->sig)}});
  }
  root["messages"] = std::move(messages);

  const bytes direct_sk = fixed("direct/ephemeral_sk", 32);
  const auto pt = as_bytes("psst, bob");
  auto d = seal_direct_with_ephemeral(alice, bob.user_id(), bob.kx_pk(), direct_sk, pt);
  REQUIRE(d.ok());
  root["direct"] = json::object{{"sender", "alice"},
                                {"recipient", "bob"},
                                {"ephemeral_sk", hx(direct_sk)},
                                {"plaintext", hx(pt)},
                                {"info", hx(direct_info(alice.user_id(), bob.user_id()))},
                                {"sealed", hx(d->sealed)},
                                {"sig_input", hx(direct_sig_input(bob.user_id(), d->sealed))},
                                {"sig", hx(d->sig)}};

  std::string text;
  pretty(text, root, 0);
  text += "\n";
  const std::string path = std::string(SEALCAST_TEST_VECTORS) + "/sealcast-v2.json";
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  REQUIRE(out.good());
  out << text;
  REQUIRE(out.good());
}
