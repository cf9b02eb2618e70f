#pragma once

// A hostile broker for the client library's tests: a WebSocket server on a loopback port that
// speaks protocol v2 with a broker key of its own, runs a test's script on its own thread, and
// can forge anything a compromised broker could (it holds no member's private keys unless the
// test hands it some, which is how a test plays an honest admin whose frames it then tampers
// with). group_sim builds the legitimate frames an attack starts from.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/bytes.hpp"
#include "crypto/group_context.hpp"
#include "crypto/identity.hpp"
#include "crypto/secret.hpp"
#include "protocol/frames.hpp"

namespace sealcast::test {

using namespace std::chrono_literals;

/// One epoch as an honest group would have it, with the key that a hostile broker in client
/// custody would not know (the sim plays the admins too).
struct sim_epoch {
  std::uint64_t epoch = 0;
  crypto::group_key key;
  crypto::manifest man;
  sig64 sig{};
  std::vector<crypto::change> changes;
  crypto::member_set members;
  std::optional<key32> issuer_pk;
};

/// Builds a group's history: genesis, commits, key frames, manifests entries and messages.
class group_sim {
 public:
  group_sim(id16 group, key_custody custody, group_policy policy, const crypto::identity& broker);

  /// A change signed as a proposal by `proposer` against epoch `epoch`.
  [[nodiscard]] crypto::change proposed(const crypto::identity& proposer, std::uint64_t epoch, crypto::change c) const;
  /// An add of `who` (its own kx_pk) with `role`.
  [[nodiscard]] static crypto::change add_of(const crypto::identity& who, member_role role = member_role::member);
  [[nodiscard]] static crypto::change remove_of(const id16& who);

  /// Epoch 1: the owner alone in client custody (issuer = owner), or the owner and `others` in
  /// broker custody (issuer = broker).
  const sim_epoch& genesis(const crypto::identity& owner, const std::vector<const crypto::identity*>& others = {});
  /// The next epoch with `changes` applied (best effort: a hostile commit may contain changes
  /// that do not apply; they are skipped for the member set but still hashed), signed by
  /// `signer` as issuer `issuer` (broker custody: the broker). `custody` overrides the group's.
  const sim_epoch& commit(const crypto::identity& signer, std::vector<crypto::change> changes,
                          std::optional<key_custody> custody = {}, std::optional<id16> issuer = {});

  [[nodiscard]] const sim_epoch& at(std::uint64_t e) const { return epochs_.at(e); }
  [[nodiscard]] std::uint64_t current() const { return epochs_.empty() ? 0 : epochs_.rbegin()->first; }
  [[nodiscard]] const id16& id() const { return group_; }

  /// The key frame of epoch `e` wrapped to `member_kx`.
  [[nodiscard]] protocol::server::key key_frame(std::uint64_t e, byte_view member_kx) const;
  /// The `manifests` entry of epoch `e`.
  [[nodiscard]] protocol::manifest_entry entry(std::uint64_t e) const;
  /// A message by `sender` in epoch `e` at ratchet index `index`, delivered as `seq`.
  [[nodiscard]] protocol::server::message message(const crypto::identity& sender, std::uint64_t e, std::uint32_t index,
                                                  std::string_view text, std::uint64_t seq) const;

 private:
  id16 group_;
  key_custody custody_;
  group_policy policy_;
  const crypto::identity& broker_;
  std::map<std::uint64_t, sim_epoch> epochs_;
};

/// The broker side of one client connection, used by a script on the broker's thread.
class hostile_conn {
 public:
  virtual ~hostile_conn() = default;
  /// Sends one text frame.
  virtual void send(const std::string& json) = 0;
  /// The next frame from the client, or nullopt on timeout or close.
  virtual std::optional<protocol::client_frame> recv(std::chrono::milliseconds timeout = 2s) = 0;
  /// The client's identity from its hello.
  [[nodiscard]] virtual const crypto::public_identity& client() const = 0;
  /// Answers requests like a bland broker for `d` (user_keys of known identities, manifests and
  /// keys of the registered sims, empty lists, group_info from the sims; acks are recorded).
  virtual void serve(std::chrono::milliseconds d) = 0;
  /// Everything the client sent that serve() did not answer (publishes, rekeys...), in order;
  /// recv() also returns them, before newer frames.
  [[nodiscard]] virtual std::vector<protocol::client_frame> unanswered() = 0;
};

/// The server: listens on 127.0.0.1, accepts one connection per run().
class hostile_broker {
 public:
  hostile_broker();
  ~hostile_broker();
  hostile_broker(const hostile_broker&) = delete;
  hostile_broker& operator=(const hostile_broker&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] std::string url() const { return "ws://127.0.0.1:" + std::to_string(port_) + "/ws"; }
  [[nodiscard]] const crypto::identity& identity() const noexcept { return broker_; }

  /// Identities whose user_keys the broker answers with (honest ones).
  void know(const crypto::identity& id);
  /// Groups whose `manifests`, `keys` and `group_info` serve() answers from, and that the welcome lists.
  void add_group(const group_sim* sim, std::string name = "g");

  /// Accepts the next connection on a thread, sends challenge, checks hello, sends welcome,
  /// then runs `script`. done() tells when the script returned; failures are collected.
  void run(std::function<void(hostile_conn&)> script);
  /// Waits for the script to return (true) or the time to run out.
  bool wait(std::chrono::milliseconds timeout = 20s);
  /// What went wrong on the broker's side (empty when nothing).
  [[nodiscard]] std::vector<std::string> failures() const;

  struct impl;

 private:
  crypto::identity broker_;
  std::uint16_t port_ = 0;
  std::unique_ptr<impl> impl_;
};

}  // namespace sealcast::test
