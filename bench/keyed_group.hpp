#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bench/options.hpp"
#include "common/bytes.hpp"
#include "common/error.hpp"
#include "crypto/group_key.hpp"
#include "crypto/identity.hpp"
#include "crypto/message.hpp"
#include "crypto/ratchet.hpp"

// The group of a fanout run against a broker that has no key distribution (nats-server,
// Mosquitto): the bench hands the group's key and its publishers' identities to every member in
// memory (not timed; Sealcast's key frames also arrive before the measured window). Publishers
// send, and members open, exactly the bytes a Sealcast publisher sends: the JSON publish frame,
// an AES-256-GCM envelope of S plaintext bytes under the message key of the publisher's next
// ratchet index, Ed25519-signed, the intended send time in the first 8 plaintext bytes.

namespace sealcast::bench {

/// One group: its topic, key and publisher identities, read-only once the run starts.
struct keyed_group {
  std::string topic;  ///< publisher k publishes on topic + separator + k
  id16 id;
  std::uint64_t epoch = 1;
  crypto::group_key key;
  std::vector<crypto::identity> senders;

  /// A fresh group named `topic` with `senders` new publisher identities.
  [[nodiscard]] static keyed_group make(std::string topic, std::size_t senders);
};

/// The sender index a subject or topic ends with ("base.3", "base/3"), or nullopt.
[[nodiscard]] std::optional<std::size_t> sender_index(std::string_view topic, char separator);

/// A publisher's side: its own ratchet in the group and the frame it seals.
class frame_sealer {
 public:
  /// Publisher `sender` of group `g` (which must outlive it), sealing `o.size` plaintext bytes.
  frame_sealer(const keyed_group& g, std::size_t sender, const bench_options& o);
  /// The JSON publish frame whose plaintext carries `intended` (steady ns) in its first 8 bytes.
  [[nodiscard]] result<std::string> seal(std::uint64_t intended);

 private:
  const keyed_group& g_;
  const crypto::identity& me_;
  crypto::sender_chain chain_;
  crypto::message_context ctx_;
  bytes plaintext_;
  std::uint64_t rid_ = 0;
};

/// A member's side: parses the frame, verifies it (unless --no-verify) and decrypts it with its
/// own receiver chain per sender, as a Sealcast member does (docs/protocol.md 7.1, 7.3).
class frame_opener {
 public:
  /// A member of `g` (which must outlive it).
  frame_opener(const keyed_group& g, bool verify) : g_(g), verify_(verify) {}
  /// The send time in the plaintext of `payload` from sender `k`, or nullopt when it does not
  /// parse, verify or decrypt (or repeats a ratchet index).
  [[nodiscard]] std::optional<std::uint64_t> open(std::optional<std::size_t> k, std::string_view payload);

 private:
  const keyed_group& g_;
  bool verify_;
  std::vector<std::optional<crypto::receiver_chain>> chains_;  ///< per sender, derived on first use
};

}  // namespace sealcast::bench
