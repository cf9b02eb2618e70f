// sealcast chat: the interactive client. Commands start with '/', anything else goes to the
// current group. Incoming messages are printed above the line being typed (terminal.hpp).

#include <csignal>
#include <optional>
#include <sstream>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/asio_nothrow.hpp"
#include "common/detail/coroutine_frame_warning.hpp"
#include "tools/sealcast/commands.hpp"
#include "tools/sealcast/format.hpp"
#include "tools/sealcast/session.hpp"
#include "tools/sealcast/terminal.hpp"

namespace sealcast::cli {

namespace {

constexpr const char* help_text =
    "commands:\n"
    "  /list                 users the broker knows, and who is online\n"
    "  /groups               your groups (* marks the current one)\n"
    "  /switch GROUP         make GROUP the current group\n"
    "  /join GROUP           join an open group (by id) and switch to it\n"
    "  /create NAME [USER]...  create a group with these members and switch to it\n"
    "  /invite USER          add USER to the current group\n"
    "  /kick USER            remove USER from the current group\n"
    "  /role USER ROLE       make USER admin or member of the current group\n"
    "  /leave                leave the current group\n"
    "  /tell USER TEXT       direct message to USER\n"
    "  /all TEXT             direct message to every other member of the current group\n"
    "  TEXT                  message to the current group\n"
    "  /help                 this text\n"
    "  /quit                 leave the chat (also Ctrl-D, Ctrl-C)";

/// The first word of `line` and the rest, trimmed.
std::pair<std::string, std::string> split_word(const std::string& line) {
  const auto start = line.find_first_not_of(' ');
  if (start == std::string::npos) return {};
  const auto end = line.find(' ', start);
  if (end == std::string::npos) return {line.substr(start), {}};
  const auto rest = line.find_first_not_of(' ', end);
  return {line.substr(start, end - start), rest == std::string::npos ? std::string{} : line.substr(rest)};
}

std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

class chat {
 public:
  chat(session& s, terminal& t) : s_(s), term_(t) {}

  /// Prints each push until the session's events stop.
  asio::awaitable<void> printer() {
    bool lost = false;  // the connection dropped and has not come back yet
    while (auto ev = co_await s_.next_event()) {
      if (auto* m = std::get_if<client::group_message>(&*ev)) {
        const auto group = co_await s_.group_name(m->group, m->group_name);
        const auto sender = co_await s_.user_name(m->sender, m->sender_name);
        show(m->verified, message_line(group, sender, m->text(), m->verified, m->warning));
      } else if (auto* d = std::get_if<client::direct_message>(&*ev)) {
        const auto sender = co_await s_.user_name(d->from, d->from_name);
        show(d->verified, message_line("direct", sender, d->text(), d->verified, d->warning));
      } else if (auto* w = std::get_if<client::warning_event>(&*ev)) {
        std::string group;
        if (w->group) group = co_await s_.group_name(*w->group);
        if (is_serious(w->kind)) {
          term_.print(warning_line(group, *w));
        } else {
          term_.print("* note" + (group.empty() ? std::string{} : " [" + group + "]") + ": " +
                      std::string(to_string(w->kind)) + ": " + printable(w->message));
        }
      } else if (auto* k = std::get_if<client::key_event>(&*ev)) {
        if (k->issued_by_me && k->custody == key_custody::client) {
          const auto group = co_await s_.group_name(k->group);
          term_.print("* key of epoch " + std::to_string(k->epoch) + " for [" + group + "] issued by you");
        }
      } else if (auto* mb = std::get_if<client::membership_event>(&*ev)) {
        const auto group = co_await s_.group_name(mb->group);
        const bool me = mb->user == s_.me();
        std::string user = "you";
        if (!me) user = co_await s_.user_name(mb->user);
        std::string by = "you";
        if (!mb->by) by.clear();
        else if (*mb->by != s_.me()) by = co_await s_.user_name(*mb->by);
        term_.print("* [" + group + "] " + membership_text(*mb, user, by));
        const bool gone = mb->action == change_action::remove || mb->action == change_action::leave;
        if (me && gone && current_ && *current_ == mb->group) {
          current_.reset();
          update_prompt();
        }
      } else if (auto* c = std::get_if<client::connection_event>(&*ev)) {
        if (c->state == client::connection_state::reconnecting) {
          if (!lost) term_.print("* connection lost (" + printable(c->reason) + "); reconnecting");
          lost = true;
        } else if (c->state == client::connection_state::connected && lost) {
          lost = false;
          term_.print("* connected again");
        }
        else if (c->state == client::connection_state::closed)
          term_.print("* connection closed: " + printable(c->reason));
      }
    }
  }

  /// Picks the starting group: the one asked for, or the only one the user has.
  asio::awaitable<void> start(const arguments& a) {
    term_.print("* connected as " + s_.my_name() + " (" + s_.me().hex() + ") to " + s_.url() + "; /help for commands");
    if (!a.operands.empty()) {
      const auto g = co_await s_.resolve_group(a.operands.front());
      co_await switch_to(g);
    } else {
      auto groups = co_await s_.api().list_groups();
      if (groups && groups->size() == 1) co_await switch_to(groups->front().group);
    }
    if (!current_) update_prompt();
  }

  /// Runs one input line; false for /quit.
  asio::awaitable<bool> handle(const std::string& line) {
    if (line.find_first_not_of(' ') == std::string::npos) co_return true;
    if (line.front() != '/') {
      co_await say(line);
      co_return true;
    }
    const auto words_of_line = split_word(line);
    const std::string command = words_of_line.first;
    const std::string rest = words_of_line.second;
    auto& api = s_.api();
    if (term_.interactive()) term_.print(printable(line));
    if (command == "/quit" || command == "/exit") co_return false;
    if (command == "/help") {
      print_block(help_text);
    } else if (command == "/list") {
      auto users = must(co_await api.list_users(), "list");
      print_block(users_table(users, s_.me()));
    } else if (command == "/groups") {
      auto groups = must(co_await api.list_groups(), "groups");
      if (groups.empty()) term_.print("* you are in no group; /create NAME or /join GROUP");
      else print_block(groups_table(groups, current_.value_or(id16{})));
    } else if (command == "/switch") {
      const auto g = co_await s_.resolve_group(one_operand(rest, "/switch GROUP"));
      co_await switch_to(g);
    } else if (command == "/join") {
      const auto g = co_await s_.resolve_group(one_operand(rest, "/join GROUP"));
      (void)must(co_await api.join(g), "join");
      co_await switch_to(g);
    } else if (command == "/create") {
      const auto args = words(rest);
      if (args.empty()) throw failure{exit_usage, "usage: /create NAME [USER]..."};
      client::group_spec spec;
      spec.name = args.front();
      for (std::size_t i = 1; i < args.size(); ++i) spec.members.push_back(co_await s_.resolve_user(args[i]));
      const auto created = must(co_await api.create_group(spec), "create");
      term_.print("* created [" + printable(spec.name) + "] " + created.group.hex());
      co_await switch_to(created.group);
    } else if (command == "/invite" || command == "/kick") {
      const auto g = need_group();
      const auto u = co_await s_.resolve_user(one_operand(rest, command + " USER"));
      const auto name = co_await s_.user_name(u);
      if (command == "/invite") {
        (void)must(co_await api.add_member(g, u), "invite");
        term_.print("* added " + name);
      } else {
        (void)must(co_await api.remove_member(g, u), "kick");
        term_.print("* removed " + name);
      }
    } else if (command == "/role") {
      const auto g = need_group();
      const auto args = words(rest);
      if (args.size() != 2 || (args[1] != "admin" && args[1] != "member"))
        throw failure{exit_usage, "usage: /role USER admin|member"};
      const auto u = co_await s_.resolve_user(args[0]);
      (void)must(co_await api.set_role(g, u, args[1] == "admin" ? member_role::admin : member_role::member), "role");
      const auto name = co_await s_.user_name(u);
      term_.print("* asked to make " + name + " " + args[1]);
    } else if (command == "/leave") {
      const auto g = need_group();
      must(co_await api.leave(g), "leave");
      const auto name = co_await s_.group_name(g);
      term_.print("* left [" + name + "]");
      current_.reset();
      update_prompt();
    } else if (command == "/tell") {
      const auto parts = split_word(rest);
      const std::string who = parts.first;
      const std::string text = parts.second;
      if (who.empty() || text.empty()) throw failure{exit_usage, "usage: /tell USER TEXT"};
      const auto u = co_await s_.resolve_user(who);
      (void)must(co_await api.send_direct(u, std::string_view(text)), "tell");
      const auto name = co_await s_.user_name(u);
      term_.print("[to " + name + "] " + s_.my_name() + ": " + printable(text));
    } else if (command == "/all") {
      if (rest.empty()) throw failure{exit_usage, "usage: /all TEXT"};
      const auto g = need_group();
      const auto info = must(co_await api.group_info(g), "all");
      std::size_t sent = 0;
      for (const auto& m : info.members) {
        if (m.user == s_.me()) continue;
        auto r = co_await api.send_direct(m.user, std::string_view(rest));
        if (r) {
          ++sent;
        } else {
          const auto name = co_await s_.user_name(m.user, m.name);
          term_.print("!! to " + name + ": " + to_failure(r.err(), "tell").message);
        }
      }
      term_.print("[to all of " + printable(info.name) + ", " + std::to_string(sent) + " sent] " + s_.my_name() + ": " +
                  printable(rest));
    } else {
      term_.print("!! unknown command " + printable(command) + " (see /help)");
    }
    co_return true;
  }

 private:
  void show(bool verified, const std::string& line) { term_.print(verified ? line : "!! " + line); }

  void print_block(const std::string& text) {
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) term_.print(l);
  }

  static std::string one_operand(const std::string& rest, const std::string& usage) {
    const auto w = words(rest);
    if (w.size() != 1) throw failure{exit_usage, "usage: " + usage};
    return w.front();
  }

  id16 need_group() const {
    if (!current_) throw failure{exit_usage, "no current group: /switch GROUP, /join GROUP or /create NAME first"};
    return *current_;
  }

  asio::awaitable<void> switch_to(const id16& g) {
    current_ = g;
    current_name_ = co_await s_.group_name(g);
    update_prompt();
    if (!term_.interactive()) term_.print("* current group: [" + current_name_ + "]");
  }

  void update_prompt() { term_.set_prompt(current_ ? "[" + current_name_ + "]> " : "> "); }

  asio::awaitable<void> say(const std::string& text) {
    const auto g = need_group();
    (void)must(co_await s_.api().publish(g, std::string_view(text)), "send");
    term_.print("[" + current_name_ + "] " + s_.my_name() + ": " + printable(text));
  }

  session& s_;
  terminal& term_;
  std::optional<id16> current_;
  std::string current_name_;
};

}  // namespace

asio::awaitable<int> run_chat(const arguments& a) {
  auto ex = co_await asio::this_coro::executor;
  session s(ex, a, true);
  s.queue_events();
  co_await s.connect();
  terminal term(ex);
  chat c(s, term);

  bool printer_done = false;
  asio::steady_timer printer_wait(ex);
  asio::co_spawn(ex, c.printer(), [&printer_done, &printer_wait](std::exception_ptr) {
    printer_done = true;
    printer_wait.cancel();
  });
  asio::signal_set signals(ex, SIGINT, SIGTERM, SIGHUP);
  signals.async_wait([&term](const boost::system::error_code& ec, int) {
    if (!ec) term.close();
  });

  std::optional<failure> fatal;
  try {
    co_await c.start(a);
  } catch (const failure& f) {
    fatal = f;
  }
  while (!fatal) {
    auto line = co_await term.read_line();
    if (!line) break;
    std::optional<failure> failed;
    bool go_on = true;
    try {
      go_on = co_await c.handle(*line);
    } catch (const failure& f) {
      failed = f;
    }
    if (failed) term.print("!! " + failed->message);
    if (!go_on) break;
  }
  signals.cancel();
  term.close();
  s.stop_events();
  while (!printer_done) {
    printer_wait.expires_at(asio::steady_timer::time_point::max());
    co_await printer_wait.async_wait(use_nothrow);
  }
  co_await s.close();
  if (fatal) throw *fatal;
  co_return exit_ok;
}

}  // namespace sealcast::cli
