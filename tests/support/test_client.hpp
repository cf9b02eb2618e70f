#pragma once

// A synchronous Sealcast client for integration tests: one identity, one WebSocket, every call
// bounded by a timeout. It speaks docs/protocol.md (v2) with the project's own crypto/ and
// protocol/ modules, so it also shows how a client uses the protocol: answer the challenge,
// rebuild each epoch's member set from the signed changes and check the manifest (section 6.6),
// derive the sender ratchets, encrypt and sign what it publishes, verify and decrypt what it gets,
// and in client custody sign proposals and answer rekey requests (sections 6.3, 6.4).
//
// Frames that arrive while the client waits for something else (pushes during a request, a
// reply nobody asked for yet) are buffered in arrival order, batches unpacked; next_push() and
// wait_for() take from that buffer first. Key frames are also verified and installed as they
// arrive, so a message is always decryptable once the key frame before it has been read. A key
// frame whose checks fail is still installed when it unwraps (tests look at what went wrong in
// key_errors() and manifest_verified); a real client would refuse it.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "common/bytes.hpp"
#include "client/verify.hpp"
#include "common/error.hpp"
#include "crypto/group_context.hpp"
#include "crypto/identity.hpp"
#include "crypto/ratchet.hpp"
#include "crypto/secret.hpp"
#include "protocol/frames.hpp"
#include "tests/support/ws_client.hpp"

namespace sealcast::test {

/// Thrown when the broker does not behave as a helper that "expects" something requires.
struct protocol_failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The answer to one request: an ok, an error, or neither when the time ran out.
struct reply {
  std::optional<protocol::server::ok> ok;
  std::optional<protocol::server::error> error;

  [[nodiscard]] bool is_ok() const { return ok.has_value(); }
  [[nodiscard]] bool timed_out() const { return !ok && !error; }
  /// The error code; errc::internal for an ok or a timeout (check is_ok() first).
  [[nodiscard]] errc code() const { return error ? error->code : errc::internal; }
  /// "ok", the error code and message, or "timeout": for test failure messages.
  [[nodiscard]] std::string describe() const;
  /// The ok's result fields as T; throws protocol_failure on an error, timeout or bad fields.
  template <class T>
  [[nodiscard]] T as() const;
};

/// A wire change in crypto's terms: the change line and, when present, its proposal (the client
/// library's conversion).
using client::detail::to_crypto;
[[nodiscard]] std::vector<crypto::change> to_crypto(const std::vector<protocol::change>& changes);

/// What this client verified of one epoch of a group, from a key frame or a `manifests` entry.
struct verified_epoch {
  crypto::member_set members;        ///< the epoch's member set, rebuilt from epoch-1's and the changes
  crypto::digest32 manifest_hash{};  ///< the next epoch's prev_hash
  std::vector<protocol::change> changes;
  id16 issuer;
  bool from_manifests = false;  ///< replayed from `manifests` before this client held its key
};

/// One installed epoch key, with the frame it came in and the ratchets derived from it.
struct epoch_key {
  crypto::group_key key;  ///< kept (a real client wipes it) so that tests can forge messages
  protocol::server::key frame;
  crypto::member_set members;  ///< the epoch's member set as this client rebuilt it (empty if it could not)
  crypto::digest32 manifest_hash{};
  bool manifest_verified = false;  ///< every check of section 6.6 passed
  std::size_t frame_bytes = 0;     ///< the key frame's size as the codec writes it (no batch around it)
  crypto::sender_chain own;        ///< this client's chain: the next index it publishes with
  std::map<id16, crypto::receiver_chain> receivers;  ///< every member's chain, own included
};

/// A test client for one identity.
class test_client {
 public:
  explicit test_client(crypto::identity id = crypto::identity::generate());

  /// Opens the WebSocket (wss:// when `tls`, certificate not verified) and reads the challenge;
  /// throws protocol_failure when either fails.
  void connect(std::uint16_t port, std::vector<std::string> subprotocols = {}, bool tls = false);
  /// Sends a valid hello and waits for the welcome; throws protocol_failure otherwise.
  protocol::server::welcome hello(const std::string& name = "");
  /// connect() then hello().
  protocol::server::welcome login(std::uint16_t port, const std::string& name = "");
  /// Closes the WebSocket (the identity, keys, chains and known users stay).
  void disconnect();

  /// Sends a request with the next rid, waits for the reply with that rid and buffers every
  /// other frame that arrives meanwhile.
  reply request(protocol::client_frame frame, std::chrono::milliseconds timeout = 5s);
  /// Same for hand-written JSON: `{"rid":N,` is spliced in after the opening brace.
  reply request_json(const std::string& json_object, std::chrono::milliseconds timeout = 5s);
  /// Sends text as is.
  bool send_raw(const std::string& text);

  /// The first buffered or newly arriving frame that satisfies pred, removed from the buffer.
  std::optional<protocol::server_frame> wait_for(const std::function<bool(const protocol::server_frame&)>& pred,
                                                 std::chrono::milliseconds timeout = 5s);
  /// The next push of type T (server::message, server::key, ...).
  template <class T>
  std::optional<T> next_push(std::chrono::milliseconds timeout = 5s) {
    auto f = wait_for([](const protocol::server_frame& x) { return std::holds_alternative<T>(x); }, timeout);
    if (!f) return std::nullopt;
    return std::get<T>(std::move(*f));
  }
  /// Reads whatever arrives within `window` into the buffer; returns the frames read.
  std::vector<protocol::server_frame> drain(std::chrono::milliseconds window);
  /// Everything buffered and not taken yet, in arrival order.
  [[nodiscard]] const std::deque<protocol::server_frame>& buffered() const { return buffer_; }
  void clear_buffer() { buffer_.clear(); }

  // -- groups -------------------------------------------------------------------------------------
  /// Creates a group with these members and returns its id (throws on error). Broker custody: one
  /// create_group naming them. Client custody: create_group alone, the genesis commit, then one
  /// signed add_member proposal per member and the commit of them all; this client holds the
  /// last epoch's key when it returns.
  id16 create_group(const std::string& name, const std::vector<id16>& members,
                    protocol::key_custody custody = protocol::key_custody::broker,
                    protocol::group_policy policy = protocol::group_policy::invite);
  /// Waits until the key of (group, epoch) has been received and installed.
  bool wait_key(const id16& group, std::uint64_t epoch, std::chrono::milliseconds timeout = 5s);
  /// The installed key of (group, epoch), or nullptr.
  [[nodiscard]] const epoch_key* key(const id16& group, std::uint64_t epoch) const;
  /// The highest epoch this client holds a key of (0 when none).
  [[nodiscard]] std::uint64_t current_epoch(const id16& group) const;
  /// What this client verified of (group, epoch) (from a key frame or `manifests`), or nullptr.
  [[nodiscard]] const verified_epoch* verified(const id16& group, std::uint64_t epoch) const;
  /// The custody and policy pinned from the first manifest this client verified, if any.
  [[nodiscard]] std::optional<std::pair<protocol::key_custody, protocol::group_policy>> pinned(const id16& group) const;
  /// Problems met while processing key frames (unwrap, key_id, issuer, changes, manifest, chain);
  /// empty if none.
  [[nodiscard]] const std::vector<std::string>& key_errors() const { return key_errors_; }
  /// Replays epochs from `manifests` (paging with limit and next) until this client has verified
  /// every epoch up to `upto`; what failed otherwise.
  status sync_chain(const id16& group, std::uint64_t upto);

  /// Encrypts and signs plaintext with the next index of this client's chain in `epoch` (default:
  /// the current one) and publishes it. alg defaults to the epoch's algorithm.
  reply publish(const id16& group, const std::string& plaintext, std::optional<std::uint64_t> epoch = {},
                std::optional<protocol::aead_alg> alg = {});
  /// The publish frame publish() would send (for tests that tamper with it); uses up the index.
  protocol::client::publish make_publish(const id16& group, const std::string& plaintext,
                                         std::optional<std::uint64_t> epoch = {},
                                         std::optional<protocol::aead_alg> alg = {});
  /// A publish at a chosen index of this client's chain (a replayed or skipped index), encrypted
  /// with that index's message key; does not move the chain.
  protocol::client::publish make_publish_at(const id16& group, std::uint64_t epoch, std::uint32_t index,
                                            const std::string& plaintext);
  /// Verifies the sender's signature (user_keys on first sight of a sender), that the sender is in
  /// the epoch's set, takes the index's message key from the sender's chain (errc::replay for an
  /// index already used) and decrypts.
  result<std::string> decrypt(const protocol::server::message& m);
  /// Cumulative ack (no reply).
  bool ack(const id16& group, std::uint64_t seq);

  // -- direct messages ----------------------------------------------------------------------------
  /// Seals plaintext to `to` (its keys fetched with user_keys) and sends it.
  reply send_direct(const id16& to, const std::string& plaintext);
  /// Verifies and opens a received direct message.
  result<std::string> open_direct(const protocol::server::direct& d);
  bool ack_direct(const id16& id);

  // -- membership (both custodies) ------------------------------------------------------------------
  // In client custody these sign a proposal against `epoch` (default: the group's current epoch
  // as this client holds it, or as group_info says when it holds none) and send it with the
  // request; in broker custody they send the plain request. The make_* forms return the frame
  // for tests that tamper with it (another epoch, a flipped bit, no proposal).
  reply add_member(const id16& group, const id16& user, protocol::member_role role = protocol::member_role::member,
                   std::optional<std::uint64_t> epoch = {});
  reply remove_member(const id16& group, const id16& user, std::optional<std::uint64_t> epoch = {});
  reply set_role(const id16& group, const id16& user, protocol::member_role role,
                 std::optional<std::uint64_t> epoch = {});
  reply join(const id16& group, std::optional<std::uint64_t> epoch = {});
  reply leave(const id16& group, std::optional<std::uint64_t> epoch = {});
  protocol::client::add_member make_add_member(const id16& group, const id16& user,
                                               protocol::member_role role = protocol::member_role::member,
                                               std::optional<std::uint64_t> epoch = {});
  protocol::client::remove_member make_remove_member(const id16& group, const id16& user,
                                                     std::optional<std::uint64_t> epoch = {});
  protocol::client::set_role make_set_role(const id16& group, const id16& user, protocol::member_role role,
                                           std::optional<std::uint64_t> epoch = {});
  protocol::client::join make_join(const id16& group, std::optional<std::uint64_t> epoch = {});
  protocol::client::leave make_leave(const id16& group, std::optional<std::uint64_t> epoch = {});

  // -- client custody -----------------------------------------------------------------------------
  /// The change line of a proposal (kx_pk looked up with user_keys for add and join).
  crypto::change change_for(protocol::change_action action, const id16& user,
                            std::optional<protocol::member_role> role = {});
  /// This client's proposal signature of `c` in (group, epoch).
  [[nodiscard]] sig64 propose(const id16& group, std::uint64_t epoch, const crypto::change& c) const;
  /// What an honest committer checks of a rekey_request (section 6.4 steps 1 and 2); the new
  /// member set when every check passes.
  result<crypto::member_set> check_rekey_request(const protocol::server::rekey_request& rq);
  /// The rekey answering `rq`: checks it (throws protocol_failure when an honest client would
  /// refuse), applies the changes to the epoch's verified set, wraps a fresh K to the new set,
  /// signs the v2 manifest and counts the changes.
  protocol::client::rekey make_rekey(const protocol::server::rekey_request& rq,
                                     protocol::aead_alg alg = protocol::aead_alg::aes_256_gcm);
  /// The newest rekey_request of `group` that arrives within `timeout`; older ones, and those for
  /// an epoch this client already holds a key of, are dropped.
  std::optional<protocol::server::rekey_request> rekey_request(const id16& group,
                                                               std::chrono::milliseconds timeout = 3s);
  /// Sends make_rekey(rq) and returns the broker's reply (a timeout-free error reply when this
  /// client refuses the request: code bad_rekey, nothing sent).
  reply answer(const protocol::server::rekey_request& rq);
  /// Answers the group's rekey_request; on bad_rekey (proposals arrived meanwhile) answers the
  /// fresh request the broker sends. The committed epoch once this client holds its key, or the
  /// error. With other admins online
  /// the broker may ask one of them instead: see commit_any() in tests/integration/fixtures.hpp.
  result<std::uint64_t> commit(const id16& group, std::chrono::milliseconds timeout = 5s);

  // -- identities ---------------------------------------------------------------------------------
  [[nodiscard]] const crypto::identity& identity() const { return id_; }
  [[nodiscard]] const id16& user_id() const { return id_.user_id(); }
  /// Records another user's public keys (skips the user_keys lookup).
  void know(const id16& user, const bytes& sign_pk, const bytes& kx_pk = {});
  void know(const test_client& other) { know(other.user_id(), other.identity().sign_pk(), other.identity().kx_pk()); }
  [[nodiscard]] const protocol::server::challenge& challenge() const { return challenge_; }
  [[nodiscard]] ws_client* socket() { return ws_.get(); }

 private:
  struct user_keys {
    bytes sign_pk;
    bytes kx_pk;  ///< empty until user_keys told it
  };
  /// What this client knows of one group: the pinned context and the verified epochs.
  struct group_view {
    std::optional<protocol::key_custody> custody;
    std::optional<protocol::group_policy> policy;
    std::map<std::uint64_t, verified_epoch> epochs;
  };
  /// A key frame or a manifests entry: what section 6.6 checks.
  struct epoch_claim;

  /// Reads one WebSocket message into the buffer; false on timeout or close.
  bool read_one(std::chrono::milliseconds timeout);
  /// Installs the queued key frames; requests made meanwhile (manifests) queue theirs behind.
  void process_keys();
  void on_key(const protocol::server::key& k);
  /// Section 6.6 steps 2 to 5 for one epoch whose previous epoch is verified (or e = 1).
  result<verified_epoch> verify_epoch(const epoch_claim& c);
  std::optional<bytes> sign_pk_of(const id16& user);
  std::optional<key32> kx_pk_of(const id16& user);
  /// The group's custody and policy: pinned, remembered from create_group, else group_info.
  std::pair<protocol::key_custody, protocol::group_policy> context_of(const id16& group);
  /// The epoch a proposal is made against: the current key's, else group_info's.
  std::uint64_t proposal_epoch(const id16& group);
  protocol::request_id next_rid() { return protocol::request_id::from_number(++rid_); }
  /// Waits for the ok or error that answers `rid`, keeping every other frame for later.
  reply await_reply(const protocol::request_id& rid, std::chrono::milliseconds timeout);

  crypto::identity id_;
  std::unique_ptr<ws_client> ws_;
  protocol::server::challenge challenge_;
  std::deque<protocol::server_frame> buffer_;
  std::deque<std::pair<protocol::server::key, std::size_t>> pending_keys_;
  bool processing_keys_ = false;
  std::map<std::pair<id16, std::uint64_t>, epoch_key> keys_;
  std::map<id16, group_view> groups_;
  std::map<id16, user_keys> users_;
  std::vector<std::string> key_errors_;
  std::uint64_t rid_ = 0;
};

template <class T>
T reply::as() const {
  if (!ok) throw protocol_failure("expected ok, got " + describe());
  auto r = protocol::parse_ok_result<T>(*ok);
  if (!r) throw protocol_failure("ok fields do not parse: " + r.err().message + " in " + ok->fields.json());
  return std::move(*r);
}

}  // namespace sealcast::test
