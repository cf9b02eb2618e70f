// The scriptable subcommands: one request (or a stream of messages for listen) per run.

#include "tools/sealcast/commands.hpp"

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <optional>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/detail/coroutine_frame_warning.hpp"
#include "tools/sealcast/format.hpp"
#include "tools/sealcast/passphrase.hpp"
#include "tools/sealcast/session.hpp"

namespace sealcast::cli {

namespace {

/// How long add and remove wait for the new epoch's key before saying who must issue it.
constexpr std::chrono::seconds key_wait{5};
/// Longest message text read from standard input ("-").
constexpr std::size_t max_stdin_text = 1024 * 1024;

void note(const std::string& text) { std::cerr << "sealcast: " << text << "\n"; }

/// The TEXT operands joined by spaces, or standard input for a single "-".
std::string text_of(const arguments& a) {
  if (a.operands.size() == 2 && a.operands[1] == "-") {
    std::string text;
    char buf[4096];
    ssize_t n = 0;
    while ((n = ::read(STDIN_FILENO, buf, sizeof buf)) > 0) {
      text.append(buf, static_cast<std::size_t>(n));
      if (text.size() > max_stdin_text) throw failure{exit_usage, "the text on standard input is larger than 1 MiB"};
    }
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    return text;
  }
  std::string text;
  for (std::size_t i = 1; i < a.operands.size(); ++i) text += (i > 1 ? " " : "") + a.operands[i];
  return text;
}

/// After a membership change: wait for the new epoch's key, and say who must issue it when it
/// does not come (client custody with no owner or admin client online to answer the rekey).
boost::asio::awaitable<void> await_new_key(session& s, const id16& group, std::uint64_t epoch,
                                           std::chrono::seconds timeout) {
  const auto wait = std::min<std::chrono::milliseconds>(timeout, key_wait);
  if (co_await s.wait_for_key(group, epoch, wait)) co_return;
  auto info = co_await s.api().group_info(group);
  if (info && info->custody == key_custody::client) {
    note("epoch " + std::to_string(epoch) +
         " has no key yet: in client custody an owner or admin must be online with `sealcast listen` "
         "or `sealcast chat` to issue it");
  } else {
    note("the key of epoch " + std::to_string(epoch) + " has not arrived yet");
  }
}

/// listen: every push, printed until SIGINT or SIGTERM.
boost::asio::awaitable<int> listen(session& s, const arguments& a) {
  std::optional<id16> only;
  if (!a.operands.empty()) only = co_await s.resolve_group(a.operands.front());
  auto ex = co_await boost::asio::this_coro::executor;
  boost::asio::signal_set signals(ex, SIGINT, SIGTERM);
  signals.async_wait([&s](const boost::system::error_code& ec, int) {
    if (!ec) s.stop_events();
  });
  note("listening as " + s.my_name() + " (" + s.me().hex() + ") at " + s.url() +
       (only ? " in group " + only->hex() : std::string{}));
  int code = exit_ok;
  std::uint64_t rekeys_seen = s.api().stats().rekeys_answered;
  bool lost = false;  // the connection dropped and has not come back yet
  // The broker's key frame for an epoch this client issued can arrive before the rekey's ok
  // (which is when the library counts the answer), so the note is made from a poller.
  std::optional<client::key_event> mine;
  bool listening = true;
  bool poller_done = false;
  boost::asio::steady_timer poller_wait(ex);
  boost::asio::co_spawn(
      ex,
      [](session& ss, std::optional<client::key_event>& last, bool& running, std::uint64_t seen)
          -> boost::asio::awaitable<void> {
        boost::asio::steady_timer t(co_await boost::asio::this_coro::executor);
        while (running) {
          t.expires_after(std::chrono::milliseconds(100));
          co_await t.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
          const auto answered = ss.api().stats().rekeys_answered;
          if (answered > seen && last) {
            seen = answered;
            const auto group = co_await ss.group_name(last->group);
            note("issued the key of epoch " + std::to_string(last->epoch) + " for group " + group +
                 " (client custody)");
          }
        }
      }(s, mine, listening, rekeys_seen),
      [&](std::exception_ptr) {
        poller_done = true;
        poller_wait.cancel();
      });
  while (auto ev = co_await s.next_event()) {
    if (auto* m = std::get_if<client::group_message>(&*ev)) {
      if (only && m->group != *only) continue;
      const auto group = co_await s.group_name(m->group, m->group_name);
      const auto sender = co_await s.user_name(m->sender, m->sender_name);
      std::cout << (a.json ? message_json(*m, group, sender)
                           : message_line(group, sender, m->text(), m->verified, m->warning))
                << std::endl;
    } else if (auto* d = std::get_if<client::direct_message>(&*ev)) {
      if (only) continue;
      const auto sender = co_await s.user_name(d->from, d->from_name);
      std::cout << (a.json ? direct_json(*d, sender) : message_line("direct", sender, d->text(), d->verified, d->warning))
                << std::endl;
    } else if (auto* w = std::get_if<client::warning_event>(&*ev)) {
      std::string group;
      if (w->group) group = co_await s.group_name(*w->group);
      if (is_serious(w->kind)) {
        std::cerr << warning_line(group, *w) << std::endl;
      } else {
        note("note" + (group.empty() ? std::string{} : " [" + group + "]") + ": " + std::string(to_string(w->kind)) +
             ": " + printable(w->message));
      }
    } else if (auto* k = std::get_if<client::key_event>(&*ev)) {
      if (k->issued_by_me && k->custody == key_custody::client) mine = *k;
    } else if (auto* mb = std::get_if<client::membership_event>(&*ev)) {
      if (only && mb->group != *only) continue;
      const auto group = co_await s.group_name(mb->group);
      const auto user = co_await s.user_name(mb->user);
      std::string by;
      if (mb->by) by = co_await s.user_name(*mb->by);
      note("[" + group + "] " + membership_text(*mb, user, by) + " (epoch " + std::to_string(mb->epoch) + ")");
    } else if (auto* c = std::get_if<client::connection_event>(&*ev)) {
      if (c->state == client::connection_state::reconnecting) {
        if (!lost) note("connection lost (" + c->reason + "); reconnecting");
        lost = true;
      } else if (c->state == client::connection_state::connected && lost) {
        lost = false;
        note("connected again");
      } else if (c->state == client::connection_state::closed) {
        note("connection closed: " + c->reason);
        code = exit_unreachable;
        break;
      }
    }
  }
  signals.cancel();
  listening = false;
  while (!poller_done) {
    poller_wait.expires_at(boost::asio::steady_timer::time_point::max());
    co_await poller_wait.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }
  co_return code;
}

boost::asio::awaitable<int> dispatch(session& s, const arguments& a) {
  const auto& cmd = a.command;
  auto& api = s.api();
  if (cmd == "groups") {
    auto groups = must(co_await api.list_groups(), "groups");
    std::cout << (a.json ? groups_json(groups) : groups_table(groups)) << std::flush;
  } else if (cmd == "create-group") {
    client::group_spec spec;
    spec.name = a.operands.front();
    for (const auto& m : a.members) spec.members.push_back(co_await s.resolve_user(m));
    spec.policy = a.open ? group_policy::open : group_policy::invite;
    spec.custody = a.custody == "client" ? key_custody::client : key_custody::broker;
    const auto created = must(co_await api.create_group(spec), "create-group");
    // In client custody this process answers the first rekey request: wait for that key so that
    // the group is usable as soon as the command returns.
    if (spec.custody == key_custody::client && !co_await s.wait_for_key(created.group, 1, a.timeout))
      note("the group has no key yet: an owner or admin must be online to issue epoch 1");
    std::cout << created.group.hex() << std::endl;
  } else if (cmd == "add" || cmd == "remove") {
    const auto group = co_await s.resolve_group(a.operands[0]);
    const auto user = co_await s.resolve_user(a.operands[1]);
    std::uint64_t epoch = 0;
    if (cmd == "add") {
      epoch = must(co_await api.add_member(group, user), "add");
    } else {
      epoch = must(co_await api.remove_member(group, user), "remove");
    }
    co_await await_new_key(s, group, epoch, a.timeout);
  } else if (cmd == "set-role") {
    const auto group = co_await s.resolve_group(a.operands[0]);
    const auto user = co_await s.resolve_user(a.operands[1]);
    const auto role = a.operands[2] == "admin" ? member_role::admin : member_role::member;
    const auto epoch = must(co_await api.set_role(group, user, role), "set-role");
    co_await await_new_key(s, group, epoch, a.timeout);
  } else if (cmd == "join") {
    const auto group = co_await s.resolve_group(a.operands[0]);
    (void)must(co_await api.join(group), "join");
  } else if (cmd == "leave") {
    const auto group = co_await s.resolve_group(a.operands[0]);
    must(co_await api.leave(group), "leave");
  } else if (cmd == "send") {
    const auto group = co_await s.resolve_group(a.operands[0]);
    const auto text = text_of(a);
    (void)must(co_await api.publish(group, std::string_view(text)), "send");
  } else if (cmd == "tell") {
    const auto user = co_await s.resolve_user(a.operands[0]);
    const auto text = text_of(a);
    (void)must(co_await api.send_direct(user, std::string_view(text)), "tell");
  } else if (cmd == "listen") {
    co_return co_await listen(s, a);
  }
  co_return exit_ok;
}

}  // namespace

int keygen(const arguments& a) {
  std::error_code ec;
  if (std::filesystem::exists(a.out, ec)) throw failure{exit_identity, a.out + " already exists; not overwriting it"};
  auto passphrase = read_passphrase(a.out, true);
  auto id = client::keygen(a.out, passphrase);
  wipe(passphrase);
  if (!id) throw failure{exit_identity, "keygen: " + id.err().message};
  std::cout << id->user_id().hex() << std::endl;
  return exit_ok;
}

int show_id(const arguments& a) {
  const auto paths = identity_paths_of(a);
  std::string passphrase;
  const auto id = open_identity(paths.identity, passphrase);
  wipe(passphrase);
  std::cout << id.user_id().hex() << std::endl;
  return exit_ok;
}

boost::asio::awaitable<int> run_remote(const arguments& a) {
  auto ex = co_await boost::asio::this_coro::executor;
  // Only long-running clients answer rekey requests (listen, chat), and create-group for its
  // first epoch; a one-shot command would leave before its answer could land.
  const bool answers_rekeys = a.command == "listen" || a.command == "create-group";
  session s(ex, a, answers_rekeys);
  if (a.command == "listen") s.queue_events();
  co_await s.connect();
  std::optional<failure> failed;
  int code = exit_ok;
  try {
    code = co_await dispatch(s, a);
  } catch (const failure& f) {
    failed = f;
  }
  co_await s.close();
  if (failed) throw *failed;
  co_return code;
}

}  // namespace sealcast::cli
