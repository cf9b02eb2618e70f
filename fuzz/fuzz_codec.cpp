// libFuzzer target: the persistence codec, i.e. what the store decodes from every RocksDB value
// and key it reads (persistence/codec.cpp, persistence/keys.cpp).
//
// Input: one selector byte (which decoder, modulo the number of decoders; see `kinds` below and
// fuzz/README.md), then the value or key bytes.
//
// Beyond "no crash, no leak, no UB, no oversized allocation", it checks that the format is
// canonical, which the store relies on when it rewrites records: a value that decodes encodes back
// to exactly the same bytes; decoding into a record that already holds other values gives the same
// record (decoders reset every value field).

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/bytes.hpp"
#include "fuzz/fuzz_check.hpp"
#include "persistence/codec.hpp"
#include "persistence/keys.hpp"

using namespace sealcast;
using namespace sealcast::persistence;

namespace {

std::string hex_of(byte_view v) { return to_hex(v.size() > 512 ? v.first(512) : v); }

/// A record whose every field differs from the zero default, to catch decoders that keep stale
/// values in fields they should fill.
template <class R>
R dirty();

template <>
user_record dirty<user_record>() {
  user_record r;
  r.sign_pk.fill(0x11);
  r.kx_pk.fill(0x12);
  r.kx_sig.fill(0x13);
  r.name = "stale";
  r.first_seen_ms = r.last_seen_ms = 99;
  return r;
}

change_record dirty_change() {
  change_record c;
  c.action = 1;
  c.user.b.fill(0x21);
  c.kx_pk.fill(0x22);
  c.role = 2;
  c.has_by = true;
  c.by.b.fill(0x23);
  c.has_proposal = true;
  c.by_pk.fill(0x24);
  c.sig.fill(0x25);
  return c;
}

template <>
group_record dirty<group_record>() {
  group_record r;
  r.name = "stale";
  r.policy = group_policy::open;
  r.custody = key_custody::client;
  r.max_members = 7;
  r.owner.b.fill(0x31);
  r.epoch = r.next_seq = r.created_ms = r.epoch_created_ms = r.epoch_message_count = r.pending_epoch = 99;
  r.rekey_reason = "stale";
  r.rekey_after_removal = true;
  r.rekey_requested_ms = 99;
  r.pending_changes = {dirty_change(), dirty_change()};
  return r;
}

template <>
member_record dirty<member_record>() {
  member_record r;
  r.role = member_role::owner;
  r.joined_ms = r.acked_seq = r.joined_seq = 99;
  return r;
}

template <>
epoch_record dirty<epoch_record>() {
  epoch_record r;
  r.key_id.b.fill(0x41);
  r.alg = 9;
  r.prev_hash.fill(0x42);
  r.manifest_hash.fill(0x43);
  manifest_member m;
  m.user.b.fill(0x44);
  m.kx_pk.fill(0x45);
  m.role = member_role::admin;
  r.members = {m, m};
  r.issuer.b.fill(0x46);
  r.signature.fill(0x47);
  r.custody = key_custody::client;
  r.policy = group_policy::open;
  r.has_issuer_pk = true;
  r.issuer_pk.fill(0x48);
  r.changes = {dirty_change()};
  r.created_ms = r.expires_ms = r.message_count = 99;
  r.removal = true;
  return r;
}

template <>
message_record dirty<message_record>() {
  message_record r;
  r.id.b.fill(0x51);
  r.sender.b.fill(0x52);
  r.epoch = 99;
  r.index = 99;
  r.alg = 9;
  r.nonce = bytes(5, 0x53);
  r.ct = bytes(7, 0x54);
  r.sig.fill(0x55);
  r.ts_ms = 99;
  r.recipient_count = r.delivery_attempts = 99;
  return r;
}

template <>
message_locator dirty<message_locator>() {
  message_locator r;
  r.kind = message_kind::settled;
  r.owner.b.fill(0x61);
  r.seq = r.settled_ms = 99;
  return r;
}

template <>
direct_record dirty<direct_record>() {
  direct_record r;
  r.id.b.fill(0x71);
  r.sender.b.fill(0x72);
  r.sealed = bytes(9, 0x73);
  r.sig.fill(0x74);
  r.ts_ms = 99;
  r.attempts = 99;
  return r;
}

template <>
message_outcome dirty<message_outcome>() {
  message_outcome r;
  r.group.b.fill(0x81);
  r.seq = 99;
  r.sender.b.fill(0x82);
  r.epoch = r.ts_ms = 99;
  r.status = message_outcome_status::expired;
  r.recipient_count = r.delivery_attempts = r.remaining_recipients = 99;
  return r;
}

template <>
event_record dirty<event_record>() {
  event_record r;
  r.type = "stale";
  r.ts_ms = 99;
  r.group = r.user = r.message = id16{};
  r.data = "{\"stale\":1}";
  return r;
}

template <class R>
void value(byte_view in) {
  R fresh{};
  auto st = codec::decode(in, fresh);
  R reused = dirty<R>();
  auto st2 = codec::decode(in, reused);
  FUZZ_CHECK(st.ok() == st2.ok(), hex_of(in));
  if (!st) {
    FUZZ_CHECK(st.err().code == errc::bad_format, st.err().message);
    return;
  }
  const bytes out = codec::encode(fresh);
  FUZZ_CHECK(out == bytes(in.begin(), in.end()), hex_of(in) + " re-encoded as " + hex_of(out));
  FUZZ_CHECK(codec::encode(reused) == out, hex_of(in));
}

template <class K, class D>
void key(byte_view in, D decode) {
  auto k = decode(in);
  if (!k) {
    FUZZ_CHECK(k.err().code == errc::bad_format, k.err().message);
    return;
  }
  if constexpr (std::is_same_v<K, id16>) {
    FUZZ_CHECK(keys::id_key(*k) == bytes(in.begin(), in.end()), hex_of(in));
  } else if constexpr (std::is_same_v<K, std::uint64_t>) {
    FUZZ_CHECK(keys::event_key(*k) == bytes(in.begin(), in.end()), hex_of(in));
  } else {
    FUZZ_CHECK(keys::encode(*k) == bytes(in.begin(), in.end()), hex_of(in));
  }
}

using decoder = void (*)(byte_view);

// The selector byte picks one of these (modulo their number). Keep the order: the seed corpus
// (fuzz/make_corpus.cpp) writes the selector of each record.
constexpr decoder kinds[] = {
    value<user_record>,
    value<group_record>,
    value<member_record>,
    value<epoch_record>,
    value<message_record>,
    value<message_locator>,
    value<direct_record>,
    value<message_outcome>,
    value<event_record>,
    [](byte_view in) {
      auto r = codec::decode_user_group(in);
      if (!r) {
        FUZZ_CHECK(r.err().code == errc::bad_format, r.err().message);
        return;
      }
      FUZZ_CHECK(codec::encode_user_group(*r) == bytes(in.begin(), in.end()), hex_of(in));
    },
    [](byte_view in) {
      auto r = codec::decode_wrapped_key(in);
      if (!r) {
        FUZZ_CHECK(r.err().code == errc::bad_format, r.err().message);
        return;
      }
      FUZZ_CHECK(codec::encode_wrapped_key(*r) == bytes(in.begin(), in.end()), hex_of(in));
    },
    [](byte_view in) { key<keys::outcome_key>(in, keys::decode_outcome_key); },
    [](byte_view in) { key<id16>(in, keys::decode_id_key); },
    [](byte_view in) { key<std::uint64_t>(in, keys::decode_event_key); },
    [](byte_view in) { key<keys::member_key>(in, keys::decode_member_key); },
    [](byte_view in) { key<keys::user_group_key>(in, keys::decode_user_group_key); },
    [](byte_view in) { key<keys::epoch_key>(in, keys::decode_epoch_key); },
    [](byte_view in) { key<keys::wrapped_key_key>(in, keys::decode_wrapped_key_key); },
    [](byte_view in) { key<keys::message_key>(in, keys::decode_message_key); },
    [](byte_view in) { key<keys::direct_key>(in, keys::decode_direct_key); },
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t which = data[0] % std::size(kinds);
  kinds[which](byte_view(data + 1, size - 1));
  return 0;
}
