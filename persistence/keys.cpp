#include "persistence/keys.hpp"

#include <cstring>

namespace sealcast::persistence::keys {

namespace {

constexpr std::size_t id_size = 16;
constexpr std::size_t u64_size = 8;

id16 id_at(byte_view key, std::size_t offset) {
  id16 id;
  std::memcpy(id.b.data(), key.data() + offset, id_size);
  return id;
}

error wrong_length(std::string_view family, std::size_t got, std::size_t want) {
  return error{errc::bad_format, std::string(family) + " key has " + std::to_string(got) +
                                     " bytes, expected " + std::to_string(want)};
}

// An id followed by a big-endian integer: the shape of epoch, message and direct keys.
bytes id_u64(const id16& id, std::uint64_t n) {
  bytes out;
  out.reserve(id_size + u64_size);
  append(out, id.view());
  put_u64be(out, n);
  return out;
}

bytes id_id(const id16& a, const id16& b) {
  bytes out;
  out.reserve(2 * id_size);
  append(out, a.view());
  append(out, b.view());
  return out;
}

}  // namespace

bytes id_key(const id16& id) { return bytes(id.b.begin(), id.b.end()); }

bytes event_key(std::uint64_t seq) {
  bytes out;
  put_u64be(out, seq);
  return out;
}

bytes meta_key(std::string_view name) {
  bytes out;
  append(out, name);
  return out;
}

bytes encode(const outcome_key& k) {
  bytes out;
  out.reserve(u64_size + id_size);
  put_u64be(out, k.settled_ms);
  append(out, k.id.view());
  return out;
}

result<outcome_key> decode_outcome_key(byte_view key) {
  if (key.size() != u64_size + id_size) return wrong_length("message_outcome", key.size(), u64_size + id_size);
  return outcome_key{get_u64be(key.data()), id_at(key, u64_size)};
}

bytes encode(const member_key& k) { return id_id(k.group, k.user); }
bytes encode(const user_group_key& k) { return id_id(k.user, k.group); }
bytes encode(const epoch_key& k) { return id_u64(k.group, k.epoch); }
bytes encode(const message_key& k) { return id_u64(k.group, k.seq); }
bytes encode(const direct_key& k) { return id_u64(k.user, k.seq); }

bytes encode(const wrapped_key_key& k) {
  bytes out = id_u64(k.group, k.epoch);
  append(out, k.user.view());
  return out;
}

bytes encode(const failure_key& k) {
  bytes out = id_u64(k.group, k.seq);
  append(out, k.user.view());
  return out;
}

bytes prefix(const id16& owner) { return id_key(owner); }
bytes prefix(const id16& owner, std::uint64_t n) { return id_u64(owner, n); }

result<id16> decode_id_key(byte_view key) {
  if (key.size() != id_size) return wrong_length("id", key.size(), id_size);
  return id_at(key, 0);
}

result<std::uint64_t> decode_event_key(byte_view key) {
  if (key.size() != u64_size) return wrong_length("event", key.size(), u64_size);
  return get_u64be(key.data());
}

result<member_key> decode_member_key(byte_view key) {
  if (key.size() != 2 * id_size) return wrong_length("member", key.size(), 2 * id_size);
  return member_key{id_at(key, 0), id_at(key, id_size)};
}

result<user_group_key> decode_user_group_key(byte_view key) {
  if (key.size() != 2 * id_size) return wrong_length("user_group", key.size(), 2 * id_size);
  return user_group_key{id_at(key, 0), id_at(key, id_size)};
}

result<epoch_key> decode_epoch_key(byte_view key) {
  if (key.size() != id_size + u64_size) return wrong_length("epoch", key.size(), id_size + u64_size);
  return epoch_key{id_at(key, 0), get_u64be(key.data() + id_size)};
}

result<wrapped_key_key> decode_wrapped_key_key(byte_view key) {
  constexpr std::size_t want = 2 * id_size + u64_size;
  if (key.size() != want) return wrong_length("wrapped_key", key.size(), want);
  return wrapped_key_key{id_at(key, 0), get_u64be(key.data() + id_size), id_at(key, id_size + u64_size)};
}

result<message_key> decode_message_key(byte_view key) {
  if (key.size() != id_size + u64_size) return wrong_length("message", key.size(), id_size + u64_size);
  return message_key{id_at(key, 0), get_u64be(key.data() + id_size)};
}

result<direct_key> decode_direct_key(byte_view key) {
  if (key.size() != id_size + u64_size) return wrong_length("direct", key.size(), id_size + u64_size);
  return direct_key{id_at(key, 0), get_u64be(key.data() + id_size)};
}

result<failure_key> decode_failure_key(byte_view key) {
  constexpr std::size_t want = 2 * id_size + u64_size;
  if (key.size() != want) return wrong_length("delivery_failure", key.size(), want);
  return failure_key{id_at(key, 0), get_u64be(key.data() + id_size), id_at(key, id_size + u64_size)};
}

}  // namespace sealcast::persistence::keys
