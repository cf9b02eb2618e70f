#include "crypto/group_key.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "crypto/hash.hpp"
#include "crypto/random.hpp"

namespace sealcast::crypto {
namespace {

std::array<std::uint8_t, 8> u64be(std::uint64_t v) {
  std::array<std::uint8_t, 8> out{};
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[7 - i] = static_cast<std::uint8_t>(v >> (8 * i));
  }
  return out;
}

}  // namespace

group_key generate_group_key() { return random_fixed_secret<group_key>(); }

id16 key_id(const id16& group, std::uint64_t epoch, const group_key& key) {
  // Hashed in parts so K is never copied into an unwiped buffer.
  const auto e = u64be(epoch);
  const digest32 h = sha256({as_bytes(key_id_label), group.view(), e, key.view()});
  id16 id;
  std::copy_n(h.begin(), id.b.size(), id.b.begin());
  return id;
}

bytes wrap_info(const id16& group, std::uint64_t epoch) {
  bytes info;
  info.reserve(wrap_label.size() + 16 + 8);
  append(info, wrap_label);
  append(info, group.view());
  put_u64be(info, epoch);
  return info;
}

result<bytes> wrap_group_key_with_ephemeral(byte_view ephemeral_sk, byte_view member_kx_pk,
                                            const id16& group, std::uint64_t epoch,
                                            const group_key& key) {
  const id16 kid = key_id(group, epoch, key);
  return hpke_seal_with_ephemeral(ephemeral_sk, member_kx_pk, wrap_info(group, epoch), kid.view(),
                                  key.view());
}

result<bytes> wrap_group_key(byte_view member_kx_pk, const id16& group, std::uint64_t epoch,
                             const group_key& key) {
  const id16 kid = key_id(group, epoch, key);
  return hpke_seal(member_kx_pk, wrap_info(group, epoch), kid.view(), key.view());
}

result<bytes> wrap_group_key(hpke_ephemeral ephemeral, byte_view member_kx_pk, const id16& group,
                             std::uint64_t epoch, const group_key& key) {
  const id16 kid = key_id(group, epoch, key);
  return hpke_seal(std::move(ephemeral), member_kx_pk, wrap_info(group, epoch), kid.view(),
                   key.view());
}

result<group_key> unwrap_group_key(const kx_secret& kx_sk, const id16& group, std::uint64_t epoch,
                                   const id16& expected_key_id, byte_view wrapped) {
  if (wrapped.size() != wrapped_key_size) {
    return error{errc::bad_length, "wrapped key must be 80 bytes"};
  }
  auto pt = hpke_open(kx_sk.view(), wrap_info(group, epoch), expected_key_id.view(), wrapped);
  if (!pt) {
    return std::move(pt).err();
  }
  auto key = group_key::from_bytes(*pt);
  if (!key) {
    return error{errc::bad_length, "wrapped key is not 32 bytes"};
  }
  // The aad already binds key_id, but only the hash proves that K is the key it names: a wrapper
  // could encrypt any key under any aad.
  if (key_id(group, epoch, *key) != expected_key_id) {
    return error{errc::key_mismatch, "unwrapped key does not match its key_id"};
  }
  return key;
}

}  // namespace sealcast::crypto
