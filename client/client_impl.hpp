#pragma once

// The private state of sealcast::client. Everything here runs on the client's executor.

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include "client/connection.hpp"
#include "client/sealcast_client.hpp"
#include "client/state_file.hpp"
#include "client/url.hpp"
#include "client/verify.hpp"
#include "protocol/frames.hpp"

namespace sealcast::client {

namespace asio = boost::asio;

namespace detail {

/// The warning for a message that did not open, by the error open_message gave.
[[nodiscard]] inline warning_kind warning_of(errc code) noexcept {
  switch (code) {
    case errc::replay: return warning_kind::replay;
    case errc::bad_signature:
    case errc::bad_key: return warning_kind::bad_signature;
    default: return warning_kind::decrypt_failed;
  }
}

}  // namespace detail

/// One request waiting for its reply.
struct call_state {
  explicit call_state(const asio::any_io_executor& ex) : timer(ex) {}
  asio::steady_timer timer;
  std::optional<protocol::server::ok> ok;
  std::optional<protocol::server::error> err;
  std::string lost;  ///< set when the connection ended before the reply
  bool done = false;
};

struct client::impl : std::enable_shared_from_this<client::impl> {
  impl(asio::any_io_executor executor, crypto::identity identity, options o);
  ~impl();

  // -- session (session.cpp) --------------------------------------------------------------------
  asio::awaitable<status> login();
  static asio::awaitable<void> read_loop(std::shared_ptr<impl> self, std::shared_ptr<detail::ws_connection> conn,
                                         std::uint64_t gen);
  static asio::awaitable<void> reconnect_loop(std::shared_ptr<impl> self, std::string why);
  void on_disconnected(std::uint64_t gen, const std::string& why);
  void set_state(connection_state s, std::string reason, unsigned attempt = 0);
  void route(protocol::server_frame& f);
  void fail_pending(const std::string& why);
  void close();

  // -- requests (calls.cpp) ---------------------------------------------------------------------
  asio::awaitable<result<protocol::server::ok>> call(protocol::client_frame frame);
  template <class T>
  asio::awaitable<result<T>> call_as(protocol::client_frame frame);
  void send_frame(const std::string& json);
  asio::awaitable<bool> wait_until(std::chrono::steady_clock::time_point deadline, std::vector<asio::steady_timer*>& list);
  void wake(std::vector<asio::steady_timer*>& list);
  void warn(warning_kind kind, std::optional<id16> group, std::uint64_t epoch, std::string message);

  // -- what the client asks and remembers (queries.cpp) -----------------------------------------
  detail::group_entry& group(const id16& g);
  asio::awaitable<result<bytes>> sign_pk_of(id16 user);
  asio::awaitable<result<crypto::public_identity>> verified_keys(id16 user);
  asio::awaitable<void> refresh_names();
  asio::awaitable<void> learn_group(id16 group);

  // -- inbound (inbound.cpp) --------------------------------------------------------------------
  static asio::awaitable<void> processor(std::shared_ptr<impl> self);
  asio::awaitable<void> handle(protocol::server_frame& f);
  asio::awaitable<void> on_message(protocol::server::message& m);
  asio::awaitable<result<group_message>> open_message(const protocol::server::message& m);
  void deliver(group_message&& gm);
  asio::awaitable<void> on_direct(protocol::server::direct& d);
  void on_member(const protocol::server::member& m);
  void flush_acks();

  // -- the verified chain and epoch keys (keys.cpp) ----------------------------------------------
  [[nodiscard]] detail::check_context check_ctx() const;
  /// The epochs from..to of a group from `manifests`, paged; an error when the broker's list
  /// does not run consecutively from `from` to `to`.
  asio::awaitable<result<std::vector<detail::epoch_frame>>> fetch_manifests(id16 group, std::uint64_t from,
                                                                             std::uint64_t to);
  /// Verifies the group's chain up to `target` from `manifests` (no keys); warns and fails when an
  /// epoch is refused.
  asio::awaitable<status> verify_to(id16 group, std::uint64_t target);
  /// Section 6.6 for a key frame: replays missing epochs, checks, installs; true when installed.
  asio::awaitable<bool> install_key(const protocol::server::key& k, bool announce);
  /// Stores a chain advanced by verified steps, installs the key of the last one when it has one,
  /// and reports the steps' changes (and the key); true when a key was installed. No co_await:
  /// runs as one step.
  bool accept(const id16& group, detail::chain_state chain, std::vector<detail::verified_step>& steps,
              bool announce, bool issued_by_me);
  void report_changes(const id16& group, const detail::verified_step& step);
  /// Sends the key frames of (group, from_epoch..) through install_key; how many were installed.
  asio::awaitable<std::size_t> catch_up_keys(id16 group, std::uint64_t from_epoch);
  asio::awaitable<void> on_rekey_request(const protocol::server::rekey_request& rq);

  // -- membership requests (membership.cpp) -----------------------------------------------------
  /// add_member / remove_member / set_role / join / leave of `c` (by this user): plain in broker
  /// custody, with a proposal against the verified epoch in client custody; the broker's epoch.
  asio::awaitable<result<std::uint64_t>> change_membership(id16 group, crypto::change c);
  /// What a proposal is made against: the group's custody and epoch.
  struct proposal_base {
    key_custody custody = key_custody::broker;
    std::uint64_t epoch = 0;
  };
  /// group_info's custody and epoch; in client custody (but for a join) after verifying the
  /// chain up to that epoch, whose verified epoch it then gives.
  asio::awaitable<result<proposal_base>> proposal_base_of(id16 group, bool joining);
  /// Waits (up to `timeout`) until `pred` holds, re-checking whenever a key is installed.
  template <class Pred>
  asio::awaitable<bool> wait_for(Pred pred, std::chrono::milliseconds timeout);

  // -- state file (state_writer.cpp) ------------------------------------------------------------
  void mark_dirty();
  static asio::awaitable<void> saver(std::shared_ptr<impl> self);
  asio::awaitable<status> save_now();

  asio::any_io_executor ex;
  crypto::identity id;
  options opts;
  handlers h;
  detail::ws_url url;

  connection_state st = connection_state::disconnected;
  bool closed = false;
  std::shared_ptr<detail::ws_connection> conn;
  std::uint64_t gen = 0;
  asio::steady_timer backoff;
  std::string last_error;

  detail::client_state state;
  bool state_loaded = false;
  std::map<id16, bytes> sign_pks;           ///< self-certified signing keys
  std::map<id16, crypto::public_identity> pub_keys;  ///< self-certified full keys
  std::map<id16, std::string> names;
  std::chrono::steady_clock::time_point names_refreshed{};
  std::set<id16> groups_asked;  ///< groups whose name list_groups was asked for
  std::map<id16, std::set<std::uint64_t>> own_seqs;  ///< seqs this client published (not delivered to it)

  std::uint64_t next_rid = 0;
  std::unordered_map<std::uint64_t, std::shared_ptr<call_state>> pending;

  std::deque<protocol::server_frame> inbox;
  asio::steady_timer inbox_wake;
  bool processor_running = false;
  std::map<id16, std::uint64_t> acks_due;

  /// Rekeys this client has sent and not yet seen answered, by (group, epoch): their key_id and
  /// whether rekeys_answered already counts them (the broker's key frame for the epoch may be
  /// installed, by another path, before the rekey's ok arrives).
  struct rekey_flight {
    id16 key_id;
    bool counted = false;
  };
  std::map<std::pair<id16, std::uint64_t>, rekey_flight> rekeys_in_flight;

  std::vector<asio::steady_timer*> key_waiters;   ///< woken when a key is installed
  std::vector<asio::steady_timer*> conn_waiters;  ///< woken on connection state changes

  // State file writing: Argon2id and fsync happen on their own thread.
  std::unique_ptr<asio::thread_pool> io_pool;
  bool dirty = false;
  bool saver_running = false;
  asio::steady_timer save_timer;  ///< the saver's coalescing wait; close() cancels it
  status last_save;

  client_stats stats;
};

template <class Pred>
asio::awaitable<bool> client::impl::wait_for(Pred pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (!co_await wait_until(deadline, key_waiters)) co_return pred();
  }
  co_return true;
}

template <class T>
asio::awaitable<result<T>> client::impl::call_as(protocol::client_frame frame) {
  auto r = co_await call(std::move(frame));
  if (!r) co_return r.err();
  auto v = protocol::parse_ok_result<T>(*r);
  if (!v) co_return error{errc::bad_request, "unexpected reply from the broker: " + v.err().message};
  co_return std::move(*v);
}

}  // namespace sealcast::client
