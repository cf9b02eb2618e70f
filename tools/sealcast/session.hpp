#pragma once

// One run of the chat client as one user: the identity opened with its passphrase, a connected
// sealcast::client, names resolved both ways, and the broker's pushes queued for a printer.

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "client/sealcast_client.hpp"
#include "tools/sealcast/cli.hpp"

namespace sealcast::cli {

namespace asio = boost::asio;

/// A push from the broker, as queued for printing.
using incoming = std::variant<client::group_message, client::direct_message, client::warning_event,
                              client::key_event, client::membership_event, client::connection_event>;

/// The identity keystore and state file paths and the display name the arguments ask for.
struct identity_paths {
  std::string identity;
  std::string state;  ///< empty with --no-state
  std::string name;
};
/// Throws failure{exit_usage} when no identity is given.
[[nodiscard]] identity_paths identity_paths_of(const arguments& a);

/// Opens the keystore, asking for the passphrase; throws failure{exit_identity} when it does
/// not open. The passphrase is handed back for the state file.
[[nodiscard]] crypto::identity open_identity(const std::string& path, std::string& passphrase);

class session {
 public:
  /// Opens the identity (blocking: Argon2id) and prepares a client; nothing is connected yet.
  /// `auto_rekey`: answer rekey requests of client-custody groups this user administers.
  session(asio::any_io_executor ex, const arguments& a, bool auto_rekey);
  ~session();
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  /// Connects and authenticates; throws failure (exit 3 unreachable, 4 state file, 1 refused).
  asio::awaitable<void> connect();
  /// Closes the connection and writes the state file.
  asio::awaitable<void> close();

  [[nodiscard]] client::client& api() { return *client_; }
  [[nodiscard]] const id16& me() const { return client_->user_id(); }
  [[nodiscard]] const std::string& my_name() const { return name_; }
  [[nodiscard]] const std::string& url() const { return url_; }

  /// A group id, or the unique name of one of the user's groups; throws failure{exit_unknown}.
  asio::awaitable<id16> resolve_group(const std::string& text);
  /// A user id, or the unique name of a user the broker knows; throws failure{exit_unknown}.
  asio::awaitable<id16> resolve_user(const std::string& text);
  /// The name to show for a group (asks the broker once for groups it has not heard of).
  asio::awaitable<std::string> group_name(const id16& group, const std::string& known = {});
  /// The name to show for a user (asks the broker once for users it has not heard of).
  asio::awaitable<std::string> user_name(const id16& user, const std::string& known = {});
  /// Waits until the key of (group, epoch) is installed, at most `timeout`.
  asio::awaitable<bool> wait_for_key(const id16& group, std::uint64_t epoch, std::chrono::milliseconds timeout);

  /// Queues every push from the broker from now on (call before connect()).
  void queue_events();
  /// The next queued push; nullopt once stop_events() was called and the queue is empty.
  asio::awaitable<std::optional<incoming>> next_event();
  /// Ends next_event().
  void stop_events();

 private:
  void push(incoming ev);

  std::string url_;
  std::string name_;
  std::unique_ptr<client::client> client_;
  std::map<id16, std::string> group_names_;
  std::chrono::steady_clock::time_point groups_asked_{};
  std::chrono::steady_clock::time_point users_asked_{};
  std::deque<incoming> events_;
  asio::steady_timer events_wake_;
  bool events_stopped_ = false;
};

}  // namespace sealcast::cli
