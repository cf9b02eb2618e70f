#pragma once

// A synchronous Sealcast client for integration tests: one identity, one WebSocket, every call
// bounded by a timeout. It speaks PROTOCOL.md with the project's own crypto/ and protocol/
// modules, so it also shows how a client uses the protocol: answer the challenge, unwrap each
// epoch key and check it, encrypt and sign what it publishes, verify and decrypt what it gets.
//
// Frames that arrive while the client waits for something else (pushes during a request, a
// reply nobody asked for yet) are buffered in arrival order, batches unpacked; next_push() and
// wait_for() take from that buffer first. Key frames are also unwrapped as they arrive, so a
// message is always decryptable once the key frame before it has been read.

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
#include "common/error.hpp"
#include "crypto/identity.hpp"
#include "crypto/manifest.hpp"
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

/// One unwrapped epoch key, with the frame it came in.
struct epoch_key {
  crypto::group_key key;
  protocol::server::key frame;
  crypto::digest32 manifest_hash{};
  bool manifest_verified = false;  ///< the issuer's signature over the manifest checked out
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
  /// Closes the WebSocket (the identity, keys and known users stay).
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
  /// create_group in broker custody with these members; returns the group id (throws on error).
  id16 create_group(const std::string& name, const std::vector<id16>& members,
                    protocol::key_custody custody = protocol::key_custody::broker);
  /// Waits until the key of (group, epoch) has been received and unwrapped.
  bool wait_key(const id16& group, std::uint64_t epoch, std::chrono::milliseconds timeout = 5s);
  /// The unwrapped key of (group, epoch), or nullptr.
  [[nodiscard]] const epoch_key* key(const id16& group, std::uint64_t epoch) const;
  /// The highest epoch this client holds a key of (0 when none).
  [[nodiscard]] std::uint64_t current_epoch(const id16& group) const;
  /// Problems met while processing key frames (unwrap, key_id, manifest, chain); empty if none.
  [[nodiscard]] const std::vector<std::string>& key_errors() const { return key_errors_; }

  /// Encrypts and signs plaintext with the key of `epoch` (default: the current one) and
  /// publishes it. alg defaults to the epoch's algorithm.
  reply publish(const id16& group, const std::string& plaintext, std::optional<std::uint64_t> epoch = {},
                std::optional<protocol::aead_alg> alg = {});
  /// The publish frame publish() would send (for tests that tamper with it).
  protocol::client::publish make_publish(const id16& group, const std::string& plaintext,
                                         std::optional<std::uint64_t> epoch = {},
                                         std::optional<protocol::aead_alg> alg = {});
  /// Verifies the sender's signature (user_keys on first sight of a sender) and decrypts.
  result<std::string> decrypt(const protocol::server::message& m);
  /// Cumulative ack (no reply).
  bool ack(const id16& group, std::uint64_t seq);

  // -- direct messages ----------------------------------------------------------------------------
  /// Seals plaintext to `to` (its keys fetched with user_keys) and sends it.
  reply send_direct(const id16& to, const std::string& plaintext);
  /// Verifies and opens a received direct message.
  result<std::string> open_direct(const protocol::server::direct& d);
  bool ack_direct(const id16& id);

  // -- client custody -----------------------------------------------------------------------------
  /// The rekey answering `rq`: a fresh K wrapped to every member listed, manifest signed.
  protocol::client::rekey make_rekey(const protocol::server::rekey_request& rq,
                                     protocol::aead_alg alg = protocol::aead_alg::aes_256_gcm);

  // -- identities ---------------------------------------------------------------------------------
  [[nodiscard]] const crypto::identity& identity() const { return id_; }
  [[nodiscard]] const id16& user_id() const { return id_.user_id(); }
  /// Records another user's signing key (skips the user_keys lookup and verifies manifests).
  void know(const id16& user, const bytes& sign_pk) { sign_pks_[user] = sign_pk; }
  void know(const test_client& other) { know(other.user_id(), other.identity().sign_pk()); }
  [[nodiscard]] const protocol::server::challenge& challenge() const { return challenge_; }
  [[nodiscard]] ws_client* socket() { return ws_.get(); }

 private:
  /// Reads one WebSocket message into the buffer; false on timeout or close.
  bool read_one(std::chrono::milliseconds timeout);
  void on_key(const protocol::server::key& k);
  std::optional<bytes> sign_pk_of(const id16& user);
  protocol::request_id next_rid() { return protocol::request_id::from_number(++rid_); }
  /// Waits for the ok or error that answers `rid`, keeping every other frame for later.
  reply await_reply(const protocol::request_id& rid, std::chrono::milliseconds timeout);

  crypto::identity id_;
  std::unique_ptr<ws_client> ws_;
  protocol::server::challenge challenge_;
  std::deque<protocol::server_frame> buffer_;
  std::map<std::pair<id16, std::uint64_t>, epoch_key> keys_;
  std::map<id16, bytes> sign_pks_;
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
