#pragma once
// Sample records shared by the persistence tests and the crash-test child (no Catch2 here).

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "persistence/records.hpp"
#include "persistence/write_batch.hpp"

namespace sealcast::persistence::test {

/// An id whose bytes encode `n` big-endian at the end and `tag` at the front, so ids of
/// different kinds differ and ids of one kind sort by n.
inline id16 make_id(std::uint64_t n, std::uint8_t tag = 0) {
  id16 id;
  id.b[0] = tag;
  for (int i = 0; i < 8; ++i) id.b[15 - i] = static_cast<std::uint8_t>(n >> (8 * i));
  return id;
}

template <std::size_t N>
std::array<std::uint8_t, N> filled(std::uint8_t seed) {
  std::array<std::uint8_t, N> a{};
  for (std::size_t i = 0; i < N; ++i) a[i] = static_cast<std::uint8_t>(seed + i);
  return a;
}

inline user_record sample_user(std::uint64_t n) {
  return user_record{make_id(n, 1), filled<32>(1), filled<32>(2), filled<64>(3), "user " + std::to_string(n),
                     1000 + n, 2000 + n};
}

/// A change as the broker applies it in broker custody: no proposal; `by` only when given.
inline change_record broker_change(change_action action, const id16& user, std::uint8_t role,
                                   std::optional<id16> by = std::nullopt) {
  change_record c;
  c.action = static_cast<std::uint8_t>(action);
  c.user = user;
  if (action == change_action::add || action == change_action::join) c.kx_pk = filled<32>(user.b[15]);
  c.role = role;
  c.has_by = by.has_value();
  if (by) c.by = *by;
  return c;
}

/// A client-custody change carrying its proposal by `by`.
inline change_record proposed_change(change_action action, const id16& user, std::uint8_t role, const id16& by) {
  change_record c = broker_change(action, user, role, by);
  c.has_proposal = true;
  c.by_pk = filled<32>(static_cast<std::uint8_t>(0x40 + by.b[15]));
  c.sig = filled<64>(static_cast<std::uint8_t>(0x80 + user.b[15]));
  return c;
}

inline group_record sample_group(std::uint64_t n) {
  group_record g;
  g.id = make_id(n, 2);
  g.name = "group " + std::to_string(n);
  g.policy = group_policy::open;
  g.custody = key_custody::client;
  g.max_members = 1000;
  g.owner = make_id(1, 1);
  g.epoch = 3;
  g.next_seq = 42;
  g.created_ms = 1'700'000'000'000;
  g.epoch_created_ms = 1'700'000'100'000;
  g.epoch_message_count = 7;
  g.pending_epoch = 4;
  g.rekey_reason = "member_removed";
  g.rekey_after_removal = true;
  g.rekey_requested_ms = 1'700'000'200'000;
  g.pending_changes = {
      proposed_change(change_action::add, make_id(3, 1), static_cast<std::uint8_t>(member_role::admin), make_id(1, 1)),
      proposed_change(change_action::leave, make_id(2, 1), 0, make_id(2, 1))};
  return g;
}

inline member_record sample_member(const id16& group, const id16& user, member_role role = member_role::member) {
  return member_record{group, user, role, 5000, 10, 3};
}

inline epoch_record sample_epoch(const id16& group, std::uint64_t epoch) {
  epoch_record e;
  e.group = group;
  e.epoch = epoch;
  e.key_id = make_id(epoch, 9);
  e.alg = 1;
  e.prev_hash = filled<32>(static_cast<std::uint8_t>(epoch));
  e.manifest_hash = filled<32>(static_cast<std::uint8_t>(epoch + 1));
  e.members = {{make_id(1, 1), filled<32>(7), member_role::owner}, {make_id(2, 1), filled<32>(8), member_role::member}};
  e.issuer = make_id(1, 1);
  e.signature = filled<64>(9);
  // A client-custody commit by the owner: one proposed add, then a role change.
  e.custody = key_custody::client;
  e.policy = group_policy::open;
  e.has_issuer_pk = true;
  e.issuer_pk = filled<32>(11);
  e.changes = {
      proposed_change(change_action::add, make_id(2, 1), static_cast<std::uint8_t>(member_role::admin), make_id(1, 1)),
      proposed_change(change_action::role, make_id(2, 1), static_cast<std::uint8_t>(member_role::member),
                      make_id(1, 1))};
  e.created_ms = 100 * epoch;
  e.expires_ms = 100 * epoch + 86'400'000;
  e.message_count = epoch;
  e.removal = epoch % 2 == 0;
  return e;
}

inline message_record sample_message(const id16& group, std::uint64_t seq) {
  message_record m;
  m.group = group;
  m.seq = seq;
  m.id = make_id(seq, 3);
  // Message ids are random in the broker; tie them to the group too so groups do not collide.
  m.id.b[1] = group.b[15];
  m.sender = make_id(1, 1);
  m.epoch = 1;
  m.index = static_cast<std::uint32_t>(seq - 1);
  m.alg = 2;
  m.nonce = bytes(12, 0xaa);
  m.ct = bytes(40, static_cast<std::uint8_t>(seq));
  m.sig = filled<64>(4);
  m.ts_ms = 1'700'000'000'000 + seq;
  m.recipient_count = 2;
  m.delivery_attempts = 1;
  return m;
}

inline direct_record sample_direct(const id16& recipient, std::uint64_t seq) {
  direct_record d;
  d.recipient = recipient;
  d.seq = seq;
  d.id = make_id(seq, 4);
  d.sender = make_id(2, 1);
  d.sealed = bytes(60, 0x5c);
  d.sig = filled<64>(5);
  d.ts_ms = 1'700'000'000'000 + seq;
  d.attempts = 0;
  return d;
}

inline event_record sample_event(std::uint64_t seq) {
  event_record e;
  e.seq = seq;
  e.type = "message_published";
  e.ts_ms = 1'700'000'000'000 + seq;
  e.group = make_id(1, 2);
  if (seq % 2 == 0) e.user = make_id(1, 1);
  e.message = make_id(seq, 3);
  e.data = R"({"size":40})";
  return e;
}

/// What a group actor hands the storage writer for one publish: the message (with its id entry)
/// and the group advanced past it.
inline write_batch publish_batch(group_record& g, std::uint64_t seq) {
  write_batch b;
  b.put_message(sample_message(g.id, seq));
  g.next_seq = seq + 1;
  ++g.epoch_message_count;
  b.put_group(g);
  return b;
}

}  // namespace sealcast::persistence::test
