#pragma once

#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "client/sealcast_client.hpp"
#include "crypto/hash.hpp"
#include "crypto/identity.hpp"
#include "crypto/keystore.hpp"
#include "crypto/secret.hpp"

// What a client remembers between runs, and its file: the identity's secrets, the broker it
// talked to, and per group the name, the last seen seq and every epoch key it holds. The payload
// is a small binary record in a wiped buffer, sealed with crypto::save_with_passphrase (Argon2id
// + AES-256-GCM, temporary file + fsync + rename, mode 0600):
//   "SCST" || version(1) || sign_seed(32) || kx_sk(32) || broker_id(16) || broker_pk_len(1) ||
//   broker_pk || u32be n_groups || groups... || u32be n_directs || direct ids(16 each)
// group: id(16) || u16be name_len || name || role(1) || flags(1: bit 0 seq_known, bit 1 member) ||
//        u64be last_seq || u64be epoch || u32be n_epochs || epochs...
// epoch: u64be epoch || key(32) || key_id(16) || alg(1) || custody(1) || issuer(16) || hash(32)

namespace sealcast::client::detail {

/// One installed epoch key.
struct epoch_entry {
  crypto::group_key key;
  id16 key_id;
  aead_alg alg = aead_alg::aes_256_gcm;
  key_custody custody = key_custody::broker;
  id16 issuer;
  crypto::digest32 manifest_hash{};
};

/// What the client knows about one group.
struct group_entry {
  std::string name;
  member_role role = member_role::member;
  bool member = true;          ///< false after leaving or being removed (old keys are kept)
  bool seq_known = false;      ///< last_seq is a baseline gaps can be measured from
  std::uint64_t last_seq = 0;  ///< highest seq handled
  std::uint64_t epoch = 0;     ///< the broker's current epoch as last heard
  std::uint64_t member_count = 0;
  std::map<std::uint64_t, epoch_entry> epochs;
};

/// Everything persisted.
struct client_state {
  id16 broker;
  bytes broker_pk;
  std::map<id16, group_entry> groups;
  std::deque<id16> recent_directs;  ///< direct message ids already handled (bounded)
};

/// Most epochs kept per group, and direct ids remembered.
inline constexpr std::size_t max_epochs_kept = 1024;
inline constexpr std::size_t max_recent_directs = 512;

/// The binary payload.
[[nodiscard]] crypto::secure_bytes encode_state(const crypto::identity& id, const client_state& s);
/// Parses a payload; bad_format naming what is wrong.
[[nodiscard]] result<std::pair<crypto::identity, client_state>> decode_state(byte_view payload);

/// Seals and writes (blocking: Argon2id and fsync; run off the I/O thread).
[[nodiscard]] status write_state(const std::filesystem::path& path, byte_view payload, std::string_view passphrase,
                                 const crypto::argon2_params& kdf);
/// Reads and opens (blocking). io_error when missing or unreadable, bad_passphrase, bad_format.
[[nodiscard]] result<std::pair<crypto::identity, client_state>> read_state(const std::filesystem::path& path,
                                                                           std::string_view passphrase);

}  // namespace sealcast::client::detail
