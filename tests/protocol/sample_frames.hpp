#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "protocol/frames.hpp"

// Sample values for the protocol tests: one of every frame, filled with recognisable bytes.

namespace sealcast::protocol::test {

/// An id whose 16 bytes are all `fill`.
inline id16 id_of(std::uint8_t fill) {
  id16 id;
  id.b.fill(fill);
  return id;
}

/// N bytes counting up from `start`.
template <std::size_t N>
std::array<std::uint8_t, N> array_of(std::uint8_t start) {
  std::array<std::uint8_t, N> out{};
  for (std::size_t i = 0; i < N; ++i) out[i] = static_cast<std::uint8_t>(start + i);
  return out;
}

/// n bytes counting up from `start`.
inline bytes bytes_of(std::size_t n, std::uint8_t start) {
  bytes out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(start + i);
  return out;
}

/// A hex id string of 32 characters repeating `c`.
inline std::string hex_id(char c) { return std::string(32, c); }

/// Base64 of n bytes counting up from 0.
inline std::string b64_of(std::size_t n) { return to_base64(bytes_of(n, 0)); }

inline client::publish sample_publish() {
  client::publish f;
  f.rid = request_id::from_number(42);
  f.group = id_of(0xa1);
  f.epoch = 7;
  f.index = 4000000000u;
  f.alg = aead_alg::chacha20_poly1305;
  f.nonce = bytes_of(12, 1);
  f.ct = bytes_of(100, 9);
  f.sig = array_of<64>(3);
  return f;
}

inline client::rekey sample_rekey() {
  client::rekey f;
  f.rid = request_id::from_string("rk-1");
  f.group = id_of(0xa1);
  f.epoch = 2;
  f.key_id = id_of(0x0c);
  f.alg = aead_alg::xchacha20_poly1305;
  f.changes = 2;
  f.sig = array_of<64>(5);
  f.wrapped[id_of(0x01)] = array_of<80>(1);
  f.wrapped[id_of(0x02)] = array_of<80>(2);
  return f;
}

/// A change as key frames and manifests carry it in client custody: with its proposal.
inline change proposed(change_action action, const id16& user, std::optional<member_role> role, const id16& by) {
  change c;
  c.action = action;
  c.user = user;
  if (action == change_action::add || action == change_action::join) c.kx_pk = array_of<32>(user.b[0]);
  c.role = role;
  c.by = by;
  c.by_pk = array_of<32>(static_cast<std::uint8_t>(0x40 + by.b[0]));
  c.sig = array_of<64>(static_cast<std::uint8_t>(0x80 + user.b[0]));
  return c;
}

/// One change of every action, each with a proposal (client custody).
inline std::vector<change> sample_changes() {
  return {proposed(change_action::add, id_of(0x03), member_role::admin, id_of(0x01)),
          proposed(change_action::join, id_of(0x04), member_role::member, id_of(0x04)),
          proposed(change_action::role, id_of(0x03), member_role::member, id_of(0x01)),
          proposed(change_action::remove, id_of(0x02), std::nullopt, id_of(0x01)),
          proposed(change_action::leave, id_of(0x05), std::nullopt, id_of(0x05))};
}

/// Broker-custody changes: no proposals, `by` only where someone asked.
inline std::vector<change> broker_changes() {
  change owner{change_action::add, id_of(0x01), array_of<32>(1), member_role::owner};
  change member{change_action::add, id_of(0x02), array_of<32>(2), member_role::member, id_of(0x01)};
  change left{change_action::leave, id_of(0x03), std::nullopt, std::nullopt, id_of(0x03)};
  return {owner, member, left};
}

/// The changes of a rekey_request: add and join also carry the subject's sign_pk and kx_sig.
inline std::vector<change> rekey_request_changes() {
  auto changes = sample_changes();
  for (change& c : changes) {
    if (c.action != change_action::add && c.action != change_action::join) continue;
    c.sign_pk = array_of<32>(static_cast<std::uint8_t>(0x20 + c.user.b[0]));
    c.kx_sig = array_of<64>(static_cast<std::uint8_t>(0x60 + c.user.b[0]));
  }
  return changes;
}

inline server::key sample_key() {
  server::key f;
  f.group = id_of(0xa1);
  f.epoch = 3;
  f.key_id = id_of(0x0c);
  f.alg = aead_alg::aes_256_gcm;
  f.custody = key_custody::client;
  f.policy = group_policy::open;
  f.issuer = id_of(0x01);
  f.issuer_pk = array_of<32>(60);
  f.sig = array_of<64>(50);
  f.changes = sample_changes();
  f.wrapped = array_of<80>(7);
  return f;
}

/// A broker-custody key frame: no issuer_pk, changes without proposals.
inline server::key sample_broker_key() {
  server::key f;
  f.group = id_of(0xa2);
  f.epoch = 1;
  f.key_id = id_of(0x0d);
  f.alg = aead_alg::chacha20_poly1305;
  f.custody = key_custody::broker;
  f.policy = group_policy::invite;
  f.issuer = id_of(0xb0);
  f.sig = array_of<64>(51);
  f.changes = broker_changes();
  f.wrapped = array_of<80>(8);
  return f;
}

/// The manifests entry of sample_key()'s epoch.
inline manifest_entry sample_manifest_entry() {
  const server::key k = sample_key();
  return {k.epoch, k.key_id, k.alg, k.custody, k.policy, k.issuer, k.issuer_pk, k.sig, k.changes};
}

inline server::rekey_request sample_rekey_request() {
  return {id_of(0xa1), 4, "member_added", array_of<32>(9), rekey_request_changes(), 1700000030000};
}

inline server::message sample_message() {
  server::message f;
  f.group = id_of(0xa1);
  f.seq = 12;
  f.id = id_of(0x5e);
  f.sender = id_of(0x01);
  f.epoch = 3;
  f.index = 17;
  f.alg = aead_alg::xchacha20_poly1305;
  f.nonce = bytes_of(24, 2);
  f.ct = bytes_of(33, 4);
  f.sig = array_of<64>(6);
  f.ts = 1700000000123;
  return f;
}

}  // namespace sealcast::protocol::test
