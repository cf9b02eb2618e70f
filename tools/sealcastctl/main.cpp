// sealcastctl: the admin API from a terminal. Tables for people, --json for scripts.
//
// Exit codes: 0 done; 1 the broker refused (401, 404, 400, ...); 2 usage error;
// 3 the broker could not be reached (no connection, TLS failure, broken answer).

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include "tools/sealcastctl/format.hpp"
#include "tools/sealcastctl/http_client.hpp"

using namespace sealcast;
namespace json = boost::json;

namespace {

constexpr int exit_ok = 0;
constexpr int exit_refused = 1;
constexpr int exit_usage = 2;
constexpr int exit_unreachable = 3;

constexpr std::string_view usage_text =
    R"(usage: sealcastctl [options] COMMAND

commands:
  stats                   counters, connections, storage, latency
  groups                  all groups (paged: --limit N, --after CURSOR)
  group ID                one group: members, epoch, pending messages, missing keys
  user ID                 the groups of a user
  message ID              a message's delivery status
  events                  persisted events, oldest first; filters: --type T --group G --user U
                          --since N (events after seq N) --limit N; --follow streams new
                          events until interrupted (reconnecting where it left off)
  rotate GROUP            starts a key rotation (or a rekey request in client custody)

options:
  --url URL               admin listener (default http://127.0.0.1:7801)
  --token T               admin token (default: $SEALCAST_ADMIN_TOKEN)
  --json                  print the broker's JSON answer as is
  --cacert FILE           https: trust this CA certificate (PEM)
  --insecure              https: do not verify the broker's certificate
  --timeout SECONDS       give up on a request after this long (default 10)
  -h, --help              this text
)";

struct usage_error {
  std::string message;
};

struct arguments {
  std::string url = "http://127.0.0.1:7801";
  std::optional<std::string> token;
  bool json = false;
  bool insecure = false;
  bool follow = false;
  bool help = false;
  std::string cacert;
  unsigned timeout_s = 10;
  std::map<std::string, std::string> filters;  ///< type, group, user, since, limit, after
  std::vector<std::string> positional;
};

bool all_digits(std::string_view s) {
  return !s.empty() && s.size() <= 19 && s.find_first_not_of("0123456789") == std::string_view::npos;
}

/// Options may come before or after the command; "--name value" and "--name=value" both work.
/// CLI11 reads the shape; the checks and the words of the errors are ours, and --help prints
/// usage_text rather than CLI11's generated help.
std::optional<usage_error> parse(int argc, char** argv, arguments& a) {
  CLI::App app{"", "sealcastctl"};
  app.set_help_flag();
  app.allow_extras();  // unknown options are reported below, as "unknown option --name"
  // A value option given twice keeps the last, as a shell alias plus an explicit flag expects.
  auto last = [](CLI::Option* o) { o->multi_option_policy(CLI::MultiOptionPolicy::TakeLast); };
  std::string token, timeout;
  last(app.add_option("--url", a.url));
  last(app.add_option("--token", token));
  last(app.add_option("--cacert", a.cacert));
  last(app.add_option("--timeout", timeout));
  std::map<std::string, std::string> filters;
  for (const char* key : {"type", "group", "user", "since", "limit", "after"})
    last(app.add_option(std::string("--") + key, filters[key]));
  app.add_flag("-h,--help", a.help);
  app.add_flag("--json", a.json);
  app.add_flag("--insecure", a.insecure);
  app.add_flag("-f,--follow", a.follow);
  app.add_option("command", a.positional);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ArgumentMismatch& e) {
    // "--url: 1 required TEXT missing": the value is missing (or empty, as in --url=).
    const std::string_view what = e.what();
    return usage_error{std::string(what.substr(0, what.find(':'))) + " needs a value"};
  } catch (const CLI::ParseError& e) {
    return usage_error{e.what()};
  }
  if (const auto extras = app.remaining(); !extras.empty()) {
    const std::string& arg = extras.front();
    return usage_error{"unknown option " + arg.substr(0, arg.find('='))};
  }
  if (app.count("--token") > 0) a.token = token;
  if (app.count("--timeout") > 0) {
    if (!all_digits(timeout) || std::stoul(timeout) == 0 || std::stoul(timeout) > 3600)
      return usage_error{"--timeout must be a number of seconds from 1 to 3600"};
    a.timeout_s = static_cast<unsigned>(std::stoul(timeout));
  }
  for (const auto& [key, value] : filters) {
    if (app.count("--" + key) == 0) continue;
    if ((key == "since" || key == "limit") && !all_digits(value))
      return usage_error{"--" + key + " must be a non-negative number, not '" + value + "'"};
    a.filters[key] = value;
  }
  return std::nullopt;
}

std::string encode(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

/// The query string of the given filters, in a fixed order.
std::string query(const arguments& a, std::initializer_list<std::string_view> keys) {
  std::string q;
  for (auto k : keys) {
    const auto it = a.filters.find(std::string(k));
    if (it == a.filters.end()) continue;
    q += (q.empty() ? "?" : "&") + std::string(k) + "=" + encode(it->second);
  }
  return q;
}

/// What went wrong, for people: the broker's own {"error": ...} message when it sent one.
std::string broker_message(const ctl::http_answer& answer) {
  boost::system::error_code ec;
  const auto v = json::parse(answer.body, ec);
  if (!ec) {
    if (const auto* o = v.if_object())
      if (const auto* e = o->if_contains("error")) {
        if (const auto* s = e->if_string()) return std::string(*s);
        return json::serialize(*e);
      }
  }
  std::string body = answer.body;
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
  return body.empty() ? "no details" : body;
}

int refused(const ctl::http_answer& answer, const arguments& a) {
  if (answer.status == 401) {
    std::cerr << "sealcastctl: the broker refused the admin token"
              << (a.token ? "" : " (none given: use --token or SEALCAST_ADMIN_TOKEN)") << "\n";
  } else {
    std::cerr << "sealcastctl: " << broker_message(answer) << " (HTTP " << answer.status << ")\n";
  }
  return exit_refused;
}

int unreachable(const error& e, const arguments& a) {
  if (e.code == errc::config_error) {
    std::cerr << "sealcastctl: " << e.message << "\n";
    return exit_usage;
  }
  std::cerr << "sealcastctl: cannot reach broker at " << a.url << ": " << e.message << "\n";
  return exit_unreachable;
}

/// Reconnects after the broker ends a followed stream: this many tries in a row, a pause apart.
constexpr int follow_retries = 3;
constexpr auto follow_pause = std::chrono::seconds(1);

/// Follows /admin/events/stream, printing one line per event. When the broker ends the stream
/// it reconnects with Last-Event-ID, so nothing is missed or repeated; exit 3 once it cannot.
int follow(const ctl::client_options& opt, const std::string& target, const arguments& a) {
  std::string pending;
  std::vector<std::string> data;
  std::string last_id;
  bool progressed = false;  ///< an event arrived on the current connection
  auto on_data = [&](std::string_view chunk) {
    pending.append(chunk);
    std::size_t nl;
    while ((nl = pending.find('\n')) != std::string::npos) {
      std::string line = pending.substr(0, nl);
      pending.erase(0, nl + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) {
        if (data.empty()) continue;
        std::string payload;
        for (const auto& d : data) payload += (payload.empty() ? "" : "\n") + d;
        data.clear();
        if (a.json) {
          std::cout << payload << std::endl;
          continue;
        }
        boost::system::error_code ec;
        const auto v = json::parse(payload, ec);
        std::cout << (ec ? payload : ctl::event_line(v)) << std::endl;
      } else if (line.starts_with("data:")) {
        auto d = line.substr(5);
        if (!d.empty() && d.front() == ' ') d.erase(0, 1);
        data.push_back(std::move(d));
      } else if (line.starts_with("id:")) {
        auto d = line.substr(3);
        if (!d.empty() && d.front() == ' ') d.erase(0, 1);
        last_id = std::move(d);
        progressed = true;
      }
    }
  };
  auto answer = ctl::http_stream(opt, target, on_data);
  if (!answer) return unreachable(answer.err(), a);
  if (answer->status != 200) return refused(*answer, a);
  std::string why = "the broker ended the event stream";
  for (int tries = 0; tries < follow_retries;) {
    std::cerr << "sealcastctl: " << why << "; reconnecting\n";
    std::this_thread::sleep_for(follow_pause);
    pending.clear();
    data.clear();
    progressed = false;
    answer = ctl::http_stream(opt, target, on_data, last_id);
    if (answer && answer->status != 200) return refused(*answer, a);
    why = answer ? "the broker ended the event stream" : "cannot reach broker at " + a.url + ": " + answer.err().message;
    tries = progressed ? 0 : tries + 1;  // a connection that delivered events starts the count over
  }
  std::cerr << "sealcastctl: " << why << "; gave up after " << follow_retries << " reconnects\n";
  return exit_unreachable;
}

int run(const arguments& a) {
  const auto& p = a.positional;
  const std::string command = p.empty() ? "" : p[0];
  struct shape {
    std::size_t operands;
    const char* operand_name;
  };
  static const std::map<std::string, shape, std::less<>> commands = {
      {"stats", {0, ""}},     {"groups", {0, ""}}, {"group", {1, "ID"}},    {"user", {1, "ID"}},
      {"message", {1, "ID"}}, {"events", {0, ""}}, {"rotate", {1, "GROUP"}}};
  const auto it = commands.find(command);
  if (command.empty()) throw usage_error{"no command given"};
  if (it == commands.end()) throw usage_error{"unknown command '" + command + "'"};
  if (p.size() - 1 != it->second.operands) {
    throw usage_error{it->second.operands ? command + " needs exactly one " + it->second.operand_name
                                          : command + " takes no operand"};
  }
  for (const auto& [key, value] : a.filters) {
    const bool events_only = key == "type" || key == "group" || key == "user" || key == "since";
    if (events_only && command != "events") throw usage_error{"--" + key + " belongs to the events command"};
    if ((key == "limit" || key == "after") && command != "events" && command != "groups")
      throw usage_error{"--" + key + " belongs to the events and groups commands"};
    if (key == "after" && command != "groups") throw usage_error{"--after belongs to the groups command"};
  }
  if (a.follow && command != "events") throw usage_error{"--follow belongs to the events command"};

  auto url = ctl::parse_base_url(a.url);
  if (!url) throw usage_error{url.err().message};
  ctl::client_options opt;
  opt.url = *url;
  opt.insecure = a.insecure;
  opt.cacert = a.cacert;
  opt.timeout = std::chrono::seconds(a.timeout_s);
  if (a.token) {
    opt.token = *a.token;
  } else if (const char* env = std::getenv("SEALCAST_ADMIN_TOKEN")) {
    opt.token = env;
  }

  const std::string operand = p.size() > 1 ? encode(p[1]) : "";
  const std::string& base = opt.url.prefix;
  std::string method = "GET", target;
  if (command == "stats")
    target = base + "/admin/stats";
  else if (command == "groups")
    target = base + "/admin/groups" + query(a, {"limit", "after"});
  else if (command == "group")
    target = base + "/admin/groups/" + operand;
  else if (command == "user")
    target = base + "/admin/users/" + operand + "/groups";
  else if (command == "message")
    target = base + "/admin/messages/" + operand;
  else if (command == "rotate") {
    method = "POST";
    target = base + "/admin/groups/" + operand + "/rotate";
  } else {
    const auto q = query(a, {"type", "group", "user", "since", "limit"});
    if (a.follow) return follow(opt, base + "/admin/events/stream" + q, a);
    target = base + "/admin/events" + q;
  }

  auto answer = ctl::http_request(opt, method, target);
  if (!answer) return unreachable(answer.err(), a);
  if (answer->status < 200 || answer->status >= 300) return refused(*answer, a);
  if (a.json) {
    std::cout << answer->body;
    if (answer->body.empty() || answer->body.back() != '\n') std::cout << "\n";
    return exit_ok;
  }
  boost::system::error_code ec;
  const auto v = json::parse(answer->body, ec);
  if (ec) {
    std::cerr << "sealcastctl: the broker's answer is not JSON: " << ec.message() << "\n";
    return exit_unreachable;
  }
  if (command == "groups")
    std::cout << ctl::render_groups(v);
  else if (command == "user")
    std::cout << ctl::render_user_groups(v);
  else if (command == "events")
    std::cout << ctl::render_events(v);
  else
    std::cout << ctl::render_object(v);
  return exit_ok;
}

}  // namespace

int main(int argc, char** argv) {
  arguments a;
  if (auto bad = parse(argc, argv, a)) {
    std::cerr << "sealcastctl: " << bad->message << "\n" << usage_text;
    return exit_usage;
  }
  if (a.help) {
    std::cout << usage_text;
    return exit_ok;
  }
  try {
    return run(a);
  } catch (const usage_error& e) {
    std::cerr << "sealcastctl: " << e.message << "\n" << usage_text;
    return exit_usage;
  } catch (const std::exception& e) {
    std::cerr << "sealcastctl: " << e.what() << "\n";
    return exit_unreachable;
  }
}
