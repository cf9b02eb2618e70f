#pragma once

// The per-sender hash ratchet of protocol v2 (docs/protocol.md section 7.1), in the manner of
// Megolm: every member of an epoch has a chain seeded from K_e; a message key is used once and
// deleted, so a stolen state opens nothing read before the theft.

#include <cstdint>
#include <map>
#include <string_view>
#include <utility>

#include "common/bytes.hpp"
#include "common/error.hpp"
#include "crypto/secret.hpp"

namespace sealcast::crypto {

inline constexpr std::string_view chain_label = "sealcast/v2/chain";
/// How far ahead of the next unread index a message may be (section 7.3).
inline constexpr std::uint32_t max_skip = 2000;
/// How many skipped message keys a chain keeps (the reorder window).
inline constexpr std::size_t reorder_window = 256;

using chain_key = fixed_secret<32, struct chain_key_tag>;

/// chain_0 = HKDF-SHA256(ikm=K_e, salt=empty, info="sealcast/v2/chain" || sender_id, L=32).
[[nodiscard]] chain_key initial_chain(const group_key& key, const id16& sender);
/// msg_key_i = HMAC-SHA256(chain_i, 0x01).
[[nodiscard]] aead_key chain_message_key(const chain_key& chain);
/// chain_{i+1} = HMAC-SHA256(chain_i, 0x02).
[[nodiscard]] chain_key chain_advance(const chain_key& chain);

/// The sending side of one chain: hands out (index, key) pairs in order, each once.
class sender_chain {
 public:
  sender_chain() = default;
  sender_chain(chain_key chain, std::uint32_t next) : chain_(std::move(chain)), next_(next) {}
  /// The next index and its message key; advances. bad_request when the index space is used up
  /// (index 2^32 - 1 is never handed out, so next_index() always fits).
  [[nodiscard]] result<std::pair<std::uint32_t, aead_key>> next();
  /// Moves `n` indexes forward without using them (after a restart, section 7.3).
  void skip(std::uint32_t n);
  [[nodiscard]] std::uint32_t next_index() const noexcept { return next_; }
  [[nodiscard]] const chain_key& key() const noexcept { return chain_; }

 private:
  chain_key chain_;
  std::uint32_t next_ = 0;
};

/// The receiving side of one sender's chain in one epoch.
class receiver_chain {
 public:
  receiver_chain() = default;
  receiver_chain(chain_key chain, std::uint32_t next) : chain_(std::move(chain)), next_(next) {}
  /// The message key of index i, consumed: errc::replay when i was already used or its skipped
  /// key was dropped (older than the reorder window), errc::too_large when i >= next + max_skip
  /// (or i = 2^32 - 1, which no sender uses). Nothing changes when it fails.
  [[nodiscard]] result<aead_key> take(std::uint32_t i);
  [[nodiscard]] std::uint32_t next_index() const noexcept { return next_; }
  [[nodiscard]] const chain_key& key() const noexcept { return chain_; }
  [[nodiscard]] const std::map<std::uint32_t, aead_key>& skipped() const noexcept { return skipped_; }
  /// For the state file: restores a skipped key.
  void restore_skipped(std::uint32_t i, aead_key k) { skipped_.insert_or_assign(i, std::move(k)); }

 private:
  chain_key chain_;
  std::uint32_t next_ = 0;
  std::map<std::uint32_t, aead_key> skipped_;
};

}  // namespace sealcast::crypto
