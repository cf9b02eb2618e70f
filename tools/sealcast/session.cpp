#include "tools/sealcast/session.hpp"

#include <cstdlib>
#include <vector>

#include <boost/asio/use_awaitable.hpp>

#include "common/asio_nothrow.hpp"
#include "tools/sealcast/format.hpp"
#include "tools/sealcast/passphrase.hpp"

namespace sealcast::cli {

namespace {

using steady = std::chrono::steady_clock;

/// Names are looked up again at most this often when an unknown id shows up.
constexpr auto lookup_interval = std::chrono::seconds(2);

std::optional<id16> as_id(const std::string& text) {
  if (text.size() != 32) return std::nullopt;
  auto id = id16::from_hex(text);
  if (!id) return std::nullopt;
  return *id;
}

std::string id_list(const std::vector<id16>& ids) {
  std::string out;
  for (const auto& id : ids) out += (out.empty() ? "" : ", ") + id.hex();
  return out;
}

}  // namespace

identity_paths identity_paths_of(const arguments& a) {
  identity_paths p;
  p.identity = a.identity;
  if (p.identity.empty())
    if (const char* env = std::getenv("SEALCAST_IDENTITY")) p.identity = env;
  if (p.identity.empty()) throw failure{exit_usage, "no identity: give --identity FILE or set SEALCAST_IDENTITY"};
  if (!a.no_state) p.state = a.state.empty() ? p.identity + ".state" : a.state;
  if (a.name) {
    p.name = *a.name;
  } else if (const char* env = std::getenv("SEALCAST_NAME"); env && *env) {
    p.name = env;
  } else {
    p.name = std::filesystem::path(p.identity).stem().string();
  }
  return p;
}

crypto::identity open_identity(const std::string& path, std::string& passphrase) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw failure{exit_identity, "no identity file " + path};
  passphrase = read_passphrase(path, false);
  auto id = client::load_identity(path, passphrase);
  if (!id) {
    if (id.err().code == errc::bad_passphrase) throw failure{exit_identity, "wrong passphrase for " + path};
    throw failure{exit_identity, "cannot open identity " + path + ": " + id.err().message};
  }
  return std::move(id).value();
}

session::session(asio::any_io_executor ex, const arguments& a, bool auto_rekey) : events_wake_(ex) {
  const auto paths = identity_paths_of(a);
  std::string passphrase;
  auto id = open_identity(paths.identity, passphrase);
  client::options o;
  o.url = a.url;
  o.name = paths.name;
  o.connect_timeout = a.timeout;
  o.request_timeout = a.timeout;
  o.auto_rekey = auto_rekey;
  // The state file (Argon2id to open and again to write, about a second per run) pays off for
  // the long-running clients, which continue where they stopped, and is needed by `send`: its
  // ratchet index must move on from run to run (a second run without it would reuse the index
  // of the first, which receivers refuse as a replay; docs/protocol.md section 7.3). Other
  // one-shot commands learn all they need at login and use one only when --state names it. (A
  // listener of the same user running meanwhile writes the file too and may put back an older
  // sending index, which the next send's load skips 256 past; v2 expects one publishing client
  // per identity.)
  const bool keeps_state = a.command == "listen" || a.command == "chat" || a.command == "send";
  if (keeps_state || !a.state.empty()) o.state_file = paths.state;
  o.passphrase = passphrase;
  o.tls_verify = !a.insecure;
  o.tls_ca_file = a.cacert;
  wipe(passphrase);
  url_ = a.url;
  name_ = paths.name;
  client_ = std::make_unique<client::client>(std::move(ex), std::move(id), std::move(o));
}

session::~session() {
  // The client's coroutines may outlive this object; they must not call back into it.
  client_->set_handlers({});
}

asio::awaitable<void> session::connect() {
  auto s = co_await client_->connect();
  if (s) co_return;
  const auto& e = s.err();
  switch (e.code) {
    case errc::bad_request:
      throw failure{exit_usage, "--url " + url_ + ": " + e.message};
    case errc::bad_passphrase:
      throw failure{exit_identity, "the state file does not open with this passphrase (" + e.message +
                                       "); use --state FILE or --no-state"};
    case errc::bad_format:
    case errc::bad_key:
    case errc::io_error:
      throw failure{exit_identity, "state file: " + e.message + " (use --state FILE or --no-state)"};
    case errc::auth_failed:
      throw failure{exit_broker, "the broker refused the login: auth_failed: " + e.message};
    default:
      throw failure{exit_unreachable, "cannot reach broker at " + url_ + ": " + e.message};
  }
}

asio::awaitable<void> session::close() {
  auto s = co_await client_->close_and_flush();
  if (!s) std::fprintf(stderr, "sealcast: warning: state file not written: %s\n", s.err().message.c_str());
}

asio::awaitable<id16> session::resolve_group(const std::string& text) {
  if (auto id = as_id(text)) co_return *id;
  auto groups = must(co_await client_->list_groups(), "groups");
  groups_asked_ = steady::now();
  std::vector<id16> hits;
  for (const auto& g : groups) {
    group_names_[g.group] = g.name;
    if (g.name == text) hits.push_back(g.group);
  }
  if (hits.empty()) throw failure{exit_unknown, "unknown group '" + printable(text) + "': not one of your groups"};
  if (hits.size() > 1)
    throw failure{exit_unknown, "ambiguous group name '" + printable(text) + "': use one of the ids " + id_list(hits)};
  co_return hits.front();
}

asio::awaitable<id16> session::resolve_user(const std::string& text) {
  if (auto id = as_id(text)) co_return *id;
  auto users = must(co_await client_->list_users(), "users");
  users_asked_ = steady::now();
  std::vector<id16> hits;
  for (const auto& u : users)
    if (u.name == text) hits.push_back(u.user);
  if (hits.empty()) throw failure{exit_unknown, "unknown user '" + printable(text) + "': the broker knows no such name"};
  if (hits.size() > 1)
    throw failure{exit_unknown, "ambiguous user name '" + printable(text) + "': use one of the ids " + id_list(hits)};
  co_return hits.front();
}

asio::awaitable<std::string> session::group_name(const id16& group, const std::string& known) {
  if (!known.empty()) {
    group_names_[group] = known;
    co_return printable(known);
  }
  if (auto it = group_names_.find(group); it != group_names_.end() && !it->second.empty()) co_return printable(it->second);
  for (const auto& g : client_->groups()) {
    if (g.group == group && !g.name.empty()) {
      group_names_[group] = g.name;
      co_return printable(g.name);
    }
  }
  if (steady::now() - groups_asked_ >= lookup_interval) {
    groups_asked_ = steady::now();
    if (auto groups = co_await client_->list_groups()) {
      for (const auto& g : *groups) group_names_[g.group] = g.name;
      if (auto it = group_names_.find(group); it != group_names_.end() && !it->second.empty())
        co_return printable(it->second);
    }
  }
  co_return group.hex().substr(0, 8);
}

asio::awaitable<std::string> session::user_name(const id16& user, const std::string& known) {
  if (!known.empty()) co_return printable(known);
  if (auto n = client_->name_of(user); !n.empty()) co_return printable(n);
  if (steady::now() - users_asked_ >= lookup_interval) {
    users_asked_ = steady::now();
    if (auto users = co_await client_->list_users())
      if (auto n = client_->name_of(user); !n.empty()) co_return printable(n);
  }
  co_return user.hex().substr(0, 8);
}

asio::awaitable<bool> session::wait_for_key(const id16& group, std::uint64_t epoch,
                                            std::chrono::milliseconds timeout) {
  const auto deadline = steady::now() + timeout;
  asio::steady_timer t(client_->executor());
  while (!client_->has_key(group, epoch) && client_->current_epoch(group) < epoch) {
    if (steady::now() >= deadline) co_return false;
    t.expires_after(std::chrono::milliseconds(50));
    co_await t.async_wait(use_nothrow);
  }
  co_return true;
}

void session::queue_events() {
  client::handlers h;
  h.on_message = [this](const client::group_message& m) { push(m); };
  h.on_direct = [this](const client::direct_message& m) { push(m); };
  h.on_warning = [this](const client::warning_event& w) { push(w); };
  h.on_key = [this](const client::key_event& k) { push(k); };
  h.on_membership = [this](const client::membership_event& m) { push(m); };
  h.on_connection = [this](const client::connection_event& c) { push(c); };
  client_->set_handlers(std::move(h));
}

void session::push(incoming ev) {
  if (events_stopped_) return;
  events_.push_back(std::move(ev));
  events_wake_.cancel();
}

void session::stop_events() {
  events_stopped_ = true;
  events_wake_.cancel();
}

asio::awaitable<std::optional<incoming>> session::next_event() {
  while (events_.empty()) {
    if (events_stopped_) co_return std::nullopt;
    events_wake_.expires_at(asio::steady_timer::time_point::max());
    co_await events_wake_.async_wait(use_nothrow);
  }
  auto ev = std::move(events_.front());
  events_.pop_front();
  co_return ev;
}

}  // namespace sealcast::cli
