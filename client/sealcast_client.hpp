#pragma once

// sealcast::client: an embeddable C++20 client for a Sealcast broker (docs/protocol.md, version 2).
//
// One `client` is one user (a crypto::identity) talking to one broker over ws:// or wss://. It
// does everything the protocol gives a client: the challenge/hello/welcome handshake, requests
// matched to replies by rid with per-request timeouts, the group's signed chain (every epoch's
// manifest rebuilt from its changes and checked against the pinned custody and policy, the
// issuer's entitlement and the proposals, replaying missed epochs from `manifests`; section 6.6),
// signed proposals for membership changes in client custody, answering rekey_request for
// client-custody groups it administers, a per-sender ratchet per epoch (single-use message keys,
// replays refused; section 7), cumulative acks, gap detection with fetch, direct messages (HPKE
// replays refused), reconnect with exponential backoff and jitter, and an optional state file
// (identity, verified chains, ratchets, last seen seq per group; never a group key) sealed under
// a passphrase so that a restarted client continues where it stopped.
//
// Threading: a client lives on the executor given at construction (use a strand if the
// io_context runs several threads). Call its member functions, and co_await its coroutines,
// only from that executor. Event handlers are invoked on it too, one at a time, in the order the
// broker delivered the frames; a handler must not block (it may co_spawn work).
//
// Errors are values: every request returns sealcast::result / sealcast::status. Broker errors
// keep their wire code (errc::forbidden, ...); a request that got no reply in time is
// errc::internal with "timeout" in the message; a request made while disconnected fails with
// errc::internal "not connected". Nothing here throws across the interface (except
// std::bad_alloc).
//
// This header depends only on the standard library, Asio's awaitable/executor types, and the
// project's std-only common/ and crypto/ identity headers; Beast, Botan and Boost.JSON stay in
// the implementation.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "common/bytes.hpp"
#include "common/error.hpp"
#include "common/types.hpp"
#include "crypto/identity.hpp"
#include "crypto/keystore.hpp"

namespace sealcast::client {

// ---- value types ---------------------------------------------------------------------------

using sealcast::aead_alg;
using sealcast::change_action;
using sealcast::group_policy;
using sealcast::key_custody;
using sealcast::member_role;

/// The state of the client's connection to the broker.
enum class connection_state : std::uint8_t {
  disconnected,  ///< not connected yet
  connecting,    ///< first connect() in progress
  connected,     ///< authenticated (welcome received)
  reconnecting,  ///< the connection dropped; waiting to retry or retrying
  closed,        ///< close() was called, or reconnecting gave up; terminal
};

/// The spelling of a connection state ("connected", ...).
[[nodiscard]] std::string_view to_string(connection_state s) noexcept;
/// The wire spelling of a change action ("add", "remove", "role", "join", "leave").
[[nodiscard]] std::string_view to_string(change_action a) noexcept;

/// Client configuration. The defaults suit an interactive client on a local broker.
struct options {
  /// ws://HOST[:PORT][/PATH] or wss://HOST[:PORT][/PATH]; the path defaults to /ws, the port to
  /// 80 / 443.
  std::string url = "ws://127.0.0.1:7800/ws";
  /// Display name sent in hello; empty sends none.
  std::string name;

  /// TCP connect + TLS + WebSocket upgrade + handshake (challenge to welcome).
  std::chrono::milliseconds connect_timeout{10000};
  /// How long a request waits for its reply.
  std::chrono::milliseconds request_timeout{10000};

  /// Reconnect after the connection drops (not after close()).
  bool reconnect = true;
  /// Backoff before the first retry; doubles per failed attempt up to reconnect_max, with
  /// random jitter of up to half the delay.
  std::chrono::milliseconds reconnect_min{200};
  std::chrono::milliseconds reconnect_max{10000};
  /// Failed reconnect attempts in a row before giving up (state `closed`); 0 means never.
  unsigned reconnect_attempts = 0;

  /// Acknowledge each group message (cumulatively) and direct message once handled.
  bool auto_ack = true;
  /// Answer rekey_request for client-custody groups this user owns or administers.
  bool auto_rekey = true;
  /// Fetch the missing range when a group's seq jumps.
  bool fetch_gaps = true;
  /// Look up display names (list_users) for senders not seen before.
  bool resolve_names = true;
  /// Algorithm of the epochs this client creates in client custody.
  aead_alg rekey_alg = aead_alg::aes_256_gcm;

  /// Local state file (identity, verified chains, message ratchets, last seen seq per group, the
  /// direct messages already handled), sealed with Argon2id + AES-256-GCM under `passphrase`.
  /// Empty: no state, nothing is remembered; a client without one that publishes in an epoch an
  /// earlier run of the same identity published in reuses its ratchet indexes, and receivers
  /// refuse those messages as replays (section 7.3): publish from one long-running client, or
  /// keep a state file.
  std::filesystem::path state_file;
  /// Passphrase of the state file.
  std::string passphrase;
  /// Argon2id cost of the state file (tests lower it).
  crypto::argon2_params kdf;
  /// Coalesce state writes: at most one write per this interval (and one on close()).
  std::chrono::milliseconds state_save_interval{500};

  /// wss:// only: verify the broker's certificate chain and host name.
  bool tls_verify = true;
  /// wss:// only: PEM file of trusted CA certificates; empty uses the system's default paths.
  std::string tls_ca_file;
};

/// A decrypted group message.
struct group_message {
  id16 group;
  std::string group_name;   ///< as known to this client; empty if unknown
  std::uint64_t seq = 0;
  id16 id;
  id16 sender;
  std::string sender_name;  ///< display name from list_users; empty if the user gave none
  std::uint64_t epoch = 0;
  aead_alg alg = aead_alg::aes_256_gcm;
  std::uint64_t ts = 0;     ///< broker time, ms since the Unix epoch
  std::uint32_t index = 0;  ///< the sender's ratchet index in the epoch
  bytes body;               ///< the plaintext
  /// The sender's signature checked out. Always true in protocol v2: a message whose signature
  /// does not verify is refused (a warning), since opening it would spend its ratchet index.
  bool verified = false;
  std::string warning;      ///< empty when verified
  bool fetched = false;     ///< recovered by a gap fetch rather than delivered

  /// The body as text.
  [[nodiscard]] std::string text() const { return {body.begin(), body.end()}; }
};

/// A decrypted direct message.
struct direct_message {
  id16 id;
  id16 from;
  std::string from_name;
  std::uint64_t ts = 0;
  bytes body;
  bool verified = false;  ///< signature checked out (a message that fails is not delivered)
  std::string warning;

  /// The body as text.
  [[nodiscard]] std::string text() const { return {body.begin(), body.end()}; }
};

/// A group epoch key that was accepted and installed.
struct key_event {
  id16 group;
  std::uint64_t epoch = 0;
  id16 key_id;
  aead_alg alg = aead_alg::aes_256_gcm;
  key_custody custody = key_custody::broker;
  id16 issuer;              ///< broker id (broker custody) or the rekeying admin (client custody)
  bool issued_by_me = false;  ///< this client answered the rekey_request
  // on_key fires exactly once per installed epoch, whichever arrives first: the broker's ok to
  // this client's rekey or the broker's key frame for that epoch. When it reports an epoch this
  // client object rekeyed (issued_by_me), client_stats::rekeys_answered already counts it.
};

/// A member of one of the user's groups came online or went offline.
struct presence_event {
  id16 group;
  id16 user;
  bool online = false;
};

/// A membership change in one of the user's groups, reported once the epoch that makes it is
/// verified (section 6.6; for an epoch installed with its key, after the key), in the order of
/// the epoch's changes. Changes of epochs this user was not a member of are not reported.
struct membership_event {
  id16 group;
  std::uint64_t epoch = 0;  ///< the epoch the change starts
  change_action action = change_action::add;
  id16 user;                       ///< the subject
  std::optional<id16> by;          ///< who asked for it; absent for the broker's own changes
  std::optional<member_role> role;  ///< add, join, role: the subject's (new) role
  /// False only for the broker's word that this user was removed or left: no key frame can prove
  /// it, since a removed member gets none of the epoch that removes it.
  bool verified = true;
};

/// Kinds of problems the client detected and handled (nothing is thrown).
enum class warning_kind : std::uint8_t {
  bad_signature,     ///< a message, direct or manifest signature did not verify (also a message
                     ///< from someone outside its epoch); nothing was installed or delivered
  bad_manifest,      ///< an epoch's issuer, custody, policy, membership or delta checks failed
                     ///< (e.g. a change without a valid proposal, an issuer that is not an admin,
                     ///< a broker-signed client-custody epoch, a set without this user); the key
                     ///< was not installed, a rekey_request was not answered
  chain_break,       ///< an epoch does not chain to the verified ones (an epoch seen before with
                     ///< other contents, missing epochs the broker would not replay, a
                     ///< rekey_request's prev_hash); nothing was installed
  bad_key,           ///< a wrapped key did not open or did not match its key_id
  replay,            ///< a repeated or too old (or too far ahead) ratchet index, or a repeated
                     ///< direct message; refused
  decrypt_failed,    ///< a message could not be decrypted (no key, or it did not authenticate)
  rekey_failed,      ///< the broker refused this client's commit, or it could not be sent
  gap,               ///< a seq gap was detected (informational; a fetch follows)
  protocol,          ///< a frame that did not parse, or a stray error from the broker
  state_file,        ///< the state file could not be written
  broker_changed,    ///< the broker's id differs from the one remembered in the state file;
                     ///< the connection is refused (section 3)
};

/// The spelling of a warning kind ("chain_break", ...).
[[nodiscard]] std::string_view to_string(warning_kind k) noexcept;

/// A problem the client detected and handled.
struct warning_event {
  warning_kind kind = warning_kind::protocol;
  std::optional<id16> group;
  std::uint64_t epoch = 0;  ///< 0 when not about an epoch
  std::string message;
};

/// A change of connection state; `reason` says why (an error text on drops).
struct connection_event {
  connection_state state = connection_state::disconnected;
  std::string reason;
  unsigned attempt = 0;  ///< reconnect attempt number while reconnecting
};

/// Callbacks for pushes; any may be left empty. Invoked on the client's executor.
struct handlers {
  std::function<void(const group_message&)> on_message;
  std::function<void(const direct_message&)> on_direct;
  std::function<void(const key_event&)> on_key;
  std::function<void(const presence_event&)> on_presence;
  std::function<void(const membership_event&)> on_membership;  ///< verified changes
  std::function<void(const warning_event&)> on_warning;
  std::function<void(const connection_event&)> on_connection;
};

/// What create_group asks for.
struct group_spec {
  std::string name;
  /// Initial members besides the creator (known users). In client custody the group is created
  /// alone and each is added afterwards with its own proposal (section 5).
  std::vector<id16> members;
  group_policy policy = group_policy::invite;
  key_custody custody = key_custody::broker;
  std::optional<id16> id;                   ///< client-chosen id; a random one otherwise (the client always names it)
  std::optional<std::uint64_t> max_members;  ///< absent: the broker's limit
};

/// create_group's answer.
struct group_created {
  id16 group;
  /// Broker custody: the broker's epoch. Client custody: the verified epoch this client holds
  /// when create_group returns (0 while the first commit is pending).
  std::uint64_t epoch = 0;
};

/// One of the user's groups (list_groups, welcome).
struct group_summary {
  id16 group;
  std::string name;
  std::uint64_t epoch = 0;
  member_role role = member_role::member;
  std::uint64_t member_count = 0;
};

/// One member in group_info.
struct member_info {
  id16 user;
  std::string name;  ///< display name when known
  member_role role = member_role::member;
  bool online = false;
};

/// group_info's answer.
struct group_details {
  id16 group;
  std::string name;
  group_policy policy = group_policy::invite;
  key_custody custody = key_custody::broker;
  std::uint64_t epoch = 0;
  std::optional<id16> key_id;
  std::vector<member_info> members;
  std::uint64_t next_seq = 1;
};

/// A user known to the broker (list_users).
struct user_info {
  id16 user;
  std::string name;
  bool online = false;
};

/// publish's answer.
struct publish_receipt {
  id16 id;
  std::uint64_t seq = 0;
  std::uint64_t ts = 0;
  std::uint64_t epoch = 0;  ///< the epoch the message was encrypted under
};

/// send_direct's answer.
struct direct_receipt {
  id16 id;
  std::uint64_t ts = 0;
};

/// Counters of what the client did, for tools and tests.
struct client_stats {
  std::uint64_t messages_received = 0;  ///< group messages delivered to on_message
  std::uint64_t duplicates_dropped = 0;  ///< group messages with an already seen seq
  std::uint64_t gaps_detected = 0;
  std::uint64_t fetched = 0;            ///< messages recovered by gap fetches
  std::uint64_t directs_received = 0;
  std::uint64_t keys_installed = 0;
  std::uint64_t keys_rejected = 0;
  /// rekey_requests this client answered and the broker accepted; incremented before on_key
  /// reports the new epoch, whether the broker's ok or its key frame for the epoch came first.
  std::uint64_t rekeys_answered = 0;
  std::uint64_t reconnects = 0;
  std::uint64_t warnings = 0;
};

// ---- identities ----------------------------------------------------------------------------

/// Creates a fresh identity and saves it as a keystore at `path` (0600, atomic). `exists` when
/// the file is already there (never overwrites), io_error when it cannot be written.
[[nodiscard]] result<crypto::identity> keygen(const std::filesystem::path& path, std::string_view passphrase,
                                              const crypto::argon2_params& kdf = {});
/// Loads a keystore: io_error when unreadable, bad_passphrase for a wrong passphrase (or a
/// modified file), bad_format for a file that is not a keystore.
[[nodiscard]] result<crypto::identity> load_identity(const std::filesystem::path& path,
                                                     std::string_view passphrase);
/// Saves an identity as a keystore (overwrites atomically).
[[nodiscard]] status save_identity(const std::filesystem::path& path, const crypto::identity& id,
                                   std::string_view passphrase, const crypto::argon2_params& kdf = {});
/// Loads the identity stored in a client state file (see options::state_file); errors as
/// load_identity, bad_format for a file that is not a state file.
[[nodiscard]] result<crypto::identity> load_state_identity(const std::filesystem::path& path,
                                                           std::string_view passphrase);

// ---- the client ----------------------------------------------------------------------------

/// A Sealcast client session for one identity. Not copyable; the session's coroutines keep its
/// internal state alive until they finish after close(), so destroying the client is safe at
/// any time.
class client {
 public:
  /// A client for `id` whose I/O and handlers run on `executor`. Nothing happens until connect().
  client(boost::asio::any_io_executor executor, crypto::identity id, options opts = {});
  /// Closes the session (as close()) if still open.
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// Installs the event handlers; call before connect() (later calls replace them).
  void set_handlers(handlers h);

  /// Loads the state file if one is configured (bad_passphrase / bad_format / a state file of
  /// another identity are errors, nothing is connected), connects, authenticates and returns
  /// once welcomed. Fails with a clear error for a bad url (bad_request), a refused connection
  /// or timeout (internal, text says which), a refused hello (auth_failed). After success the
  /// client keeps itself connected (reconnecting with backoff) until close().
  [[nodiscard]] boost::asio::awaitable<status> connect();
  /// Waits until the client is connected again (or is now), at most `timeout`; false if not.
  [[nodiscard]] boost::asio::awaitable<bool> wait_connected(std::chrono::milliseconds timeout);
  /// Ends the session: stops reconnecting, fails pending requests, writes the state file, and
  /// closes the WebSocket. Idempotent.
  void close();
  /// close(), then waits until the state file has been written (if one is configured).
  /// Cancels the state_save_interval wait: the latest state is written at once, and once.
  [[nodiscard]] boost::asio::awaitable<status> close_and_flush();

  // -- groups and users ------------------------------------------------------------------------
  /// create_group; the caller becomes owner. In client custody the group is created without
  /// members; with `members`, this client waits (up to request_timeout) for epoch 1, which it
  /// commits itself when the broker asks (auto_rekey), then proposes each member's add, and waits
  /// (up to request_timeout each) until the verified set lists them; a failed add is an error that
  /// names the created group.
  [[nodiscard]] boost::asio::awaitable<result<group_created>> create_group(group_spec spec);
  // The membership requests below sign a proposal in client custody (section 6.3) against the
  // group's latest verified epoch (after catching up with the broker's when none is verified),
  // and on stale_epoch catch up once and propose again. They return the broker's `epoch`.
  /// add_member (owner or admin). In client custody the subject's keys are looked up and checked
  /// first (user_keys: user id = hash of sign_pk, kx_sig over kx_pk).
  [[nodiscard]] boost::asio::awaitable<result<std::uint64_t>> add_member(id16 group, id16 user,
                                                                         member_role role = member_role::member);
  /// remove_member (owner or admin).
  [[nodiscard]] boost::asio::awaitable<result<std::uint64_t>> remove_member(id16 group, id16 user);
  /// set_role of a member to member or admin (owner or admin; not of the owner).
  [[nodiscard]] boost::asio::awaitable<result<std::uint64_t>> set_role(id16 group, id16 user, member_role role);
  /// join an open group (in client custody the proposal is made against group_info's epoch).
  [[nodiscard]] boost::asio::awaitable<result<std::uint64_t>> join(id16 group);
  /// leave a group.
  [[nodiscard]] boost::asio::awaitable<status> leave(id16 group);
  /// The user's groups.
  [[nodiscard]] boost::asio::awaitable<result<std::vector<group_summary>>> list_groups();
  /// The users the broker knows (also refreshes the name cache used for sender names).
  [[nodiscard]] boost::asio::awaitable<result<std::vector<user_info>>> list_users();
  /// A user's public keys, checked: user id = hash of sign_pk and kx_sig valid (bad_key if not).
  [[nodiscard]] boost::asio::awaitable<result<crypto::public_identity>> user_keys(id16 user);
  /// A group's details (members, epoch, next seq).
  [[nodiscard]] boost::asio::awaitable<result<group_details>> group_info(id16 group);
  /// The group's members that are online.
  [[nodiscard]] boost::asio::awaitable<result<std::vector<id16>>> presence(id16 group);
  /// Retained messages of the group from `from_seq` on of which this user is a recipient,
  /// verified and decrypted (history; not passed to on_message, not acknowledged). A message
  /// this client already read does not open again (its single-use key is gone, section 7.1): it
  /// is left out, with a replay warning.
  [[nodiscard]] boost::asio::awaitable<result<std::vector<group_message>>> fetch(
      id16 group, std::uint64_t from_seq, std::optional<std::uint64_t> limit = {});
  /// Catches up on epoch keys from `from_epoch` on (each verified, missing epochs replayed from
  /// `manifests`); returns how many were newly installed.
  [[nodiscard]] boost::asio::awaitable<result<std::size_t>> keys(id16 group, std::uint64_t from_epoch);

  // -- messages --------------------------------------------------------------------------------
  /// Encrypts `body` under the next index of this client's ratchet in the group's newest
  /// installed epoch, signs and publishes it. Waits (up to
  /// request_timeout) for a key when none is installed yet or a rekey is pending, and retries
  /// once on stale_epoch after catching up on keys.
  [[nodiscard]] boost::asio::awaitable<result<publish_receipt>> publish(id16 group, bytes body);
  /// publish() of UTF-8 text.
  [[nodiscard]] boost::asio::awaitable<result<publish_receipt>> publish(id16 group, std::string_view text);
  /// Looks up the recipient's keys (checked as user_keys()), seals `body` to them, signs and
  /// sends it as a direct message.
  [[nodiscard]] boost::asio::awaitable<result<direct_receipt>> send_direct(id16 user, bytes body);
  /// send_direct() of UTF-8 text.
  [[nodiscard]] boost::asio::awaitable<result<direct_receipt>> send_direct(id16 user, std::string_view text);
  /// Cumulative ack of a group up to seq (only needed when auto_ack is off).
  void ack(id16 group, std::uint64_t seq);
  /// Ack of a direct message (only needed when auto_ack is off).
  void ack_direct(id16 id);

  // -- inspection ------------------------------------------------------------------------------
  /// The identity this client speaks for.
  [[nodiscard]] const crypto::identity& identity() const noexcept;
  /// Its user id.
  [[nodiscard]] const id16& user_id() const noexcept;
  /// The connection state.
  [[nodiscard]] connection_state state() const noexcept;
  /// The broker's id (from the challenge); zero before the first connect.
  [[nodiscard]] id16 broker_id() const;
  /// The groups known from welcome, list_groups and membership events.
  [[nodiscard]] std::vector<group_summary> groups() const;
  /// The highest installed epoch (0 if none).
  [[nodiscard]] std::uint64_t current_epoch(const id16& group) const;
  /// Whether (group, epoch) is installed: verified, its ratchets derived (the key itself is not
  /// kept). Only the newest max 32 epochs of a group are kept.
  [[nodiscard]] bool has_key(const id16& group, std::uint64_t epoch) const;
  /// The latest verified epoch of a group (from key frames or `manifests`; 0 if none).
  [[nodiscard]] std::uint64_t verified_epoch(const id16& group) const;
  /// The member set of the latest verified epoch (empty if none), sorted by user id.
  [[nodiscard]] std::vector<member_info> verified_members(const id16& group) const;
  /// The highest seq seen (delivered, fetched or published) in a group; 0 if none.
  [[nodiscard]] std::uint64_t last_seq(const id16& group) const;
  /// A display name from the cache ("" if unknown).
  [[nodiscard]] std::string name_of(const id16& user) const;
  /// Counters.
  [[nodiscard]] client_stats stats() const;
  /// The executor the client runs on.
  [[nodiscard]] const boost::asio::any_io_executor& executor() const noexcept;

  /// @cond implementation
  struct impl;
  /// @endcond

 private:
  std::shared_ptr<impl> impl_;
};

}  // namespace sealcast::client
