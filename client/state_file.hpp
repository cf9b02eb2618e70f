#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "client/epoch_keys.hpp"
#include "client/sealcast_client.hpp"
#include "client/verify.hpp"
#include "crypto/hash.hpp"
#include "crypto/identity.hpp"
#include "crypto/keystore.hpp"
#include "crypto/secret.hpp"

// What a client remembers between runs, and its file: the identity's secrets, the broker it
// talked to, per group its verified chain (section 6.6) and the ratchets of its newest epochs
// (section 7; never a group key), and the direct messages already handled. The payload is a
// binary record in a wiped buffer, sealed with crypto::save_with_passphrase (Argon2id +
// AES-256-GCM, temporary file + fsync + rename, mode 0600). Integers are big-endian.
//
//   file    = "SCST" || version(1) = 2 || sign_seed(32) || kx_sk(32) || broker_id(16)
//             || broker_pk_len(1) || broker_pk || u32 n_groups || group*
//             || u32 n_directs || direct_id(16)* || u32 n_encs || enc_prefix(16)*
//   group   = id(16) || u16 name_len || name || role(1) || flags(1: bit 0 seq_known, bit 1 member)
//             || u64 last_seq || u64 epoch (the broker's, as last heard) || u64 member_count
//             || chain || u32 n_epochs || epoch*
//   chain   = flags(1: bit 0 pinned) || custody(1) || policy(1) || u64 v
//             || u32 n_members || (user(16) || kx_pk(32) || role(1))*
//             || u32 n_history || history*
//   history = u64 epoch || manifest_hash(32) || members_hash(32) || flags(1: bit 0 member)
//             || u32 n_roster || user(16)*
//   epoch   = u64 epoch || key_id(16) || alg(1) || issuer(16) || own_chain(32) || u32 own_next
//             || u32 n_peers || peer*
//   peer    = user(16) || chain(32) || u32 next || u16 n_skipped || (u32 index || msg_key(32))*
//
// The own chain is saved at its next unused index; a client that loads the file moves it
// restart_skip indexes ahead (section 7.3), so that what it sent after the last save is never
// sent again under the same index.

namespace sealcast::client::detail {

/// What the client knows about one group.
struct group_entry {
  std::string name;
  member_role role = member_role::member;
  bool member = true;          ///< false after leaving or being removed (old epochs are kept)
  bool seq_known = false;      ///< last_seq is a baseline gaps can be measured from
  std::uint64_t last_seq = 0;  ///< highest seq handled
  std::uint64_t epoch = 0;     ///< the broker's current epoch as last heard
  std::uint64_t member_count = 0;
  chain_state chain;                           ///< the verified chain (section 6.6)
  std::map<std::uint64_t, epoch_keys> epochs;  ///< installed epochs, the newest max_epochs_kept
};

/// The first 16 bytes of a direct message's HPKE enc (section 8): enough to tell a replay.
using enc_prefix = std::array<std::uint8_t, 16>;

/// Everything persisted.
struct client_state {
  id16 broker;
  bytes broker_pk;
  std::map<id16, group_entry> groups;
  std::deque<id16> recent_directs;     ///< direct message ids already handled (bounded)
  std::deque<enc_prefix> recent_encs;  ///< HPKE encs of directs already opened (bounded)
};

/// Most epochs whose ratchets a group keeps: a message of an older epoch no longer opens.
inline constexpr std::size_t max_epochs_kept = 32;
/// Direct ids remembered (redeliveries are acknowledged quietly), and HPKE encs remembered
/// (a direct that reuses one is a replay, section 8).
inline constexpr std::size_t max_recent_directs = 512;
inline constexpr std::size_t max_recent_encs = 4096;
/// How far a loaded state moves its own sending chains ahead (section 7.3).
inline constexpr std::uint32_t restart_skip = 256;

/// The binary payload.
[[nodiscard]] crypto::secure_bytes encode_state(const crypto::identity& id, const client_state& s);
/// Parses a payload as it was written (no restart skip); bad_format naming what is wrong.
[[nodiscard]] result<std::pair<crypto::identity, client_state>> decode_state(byte_view payload);
/// Moves every own sending chain restart_skip indexes ahead (call once after loading).
void skip_own_chains(client_state& s);

/// Seals and writes (blocking: Argon2id and fsync; run off the I/O thread).
[[nodiscard]] status write_state(const std::filesystem::path& path, byte_view payload, std::string_view passphrase,
                                 const crypto::argon2_params& kdf);
/// Reads and opens (blocking). io_error when missing or unreadable, bad_passphrase, bad_format.
[[nodiscard]] result<std::pair<crypto::identity, client_state>> read_state(const std::filesystem::path& path,
                                                                           std::string_view passphrase);

}  // namespace sealcast::client::detail
