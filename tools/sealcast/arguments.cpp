// Command-line parsing, the usage text, and how library errors become exit codes.

#include <CLI/CLI.hpp>

#include <algorithm>
#include <array>
#include <string_view>

#include "tools/sealcast/cli.hpp"

namespace sealcast::cli {

namespace {

constexpr const char* usage =
    R"(usage: sealcast COMMAND [options]

identities:
  keygen --out FILE               create an identity (passphrase: $SEALCAST_PASSPHRASE or a prompt)
  id                              print the identity's user id

groups and messages (options: --url, --identity, --state, --name):
  create-group NAME [--member ID]... [--open] [--custody broker|client]
                                  create a group; prints its id
  add GROUP ID                    add a user (owner or admin)
  remove GROUP ID                 remove a user (owner or admin)
  set-role GROUP ID ROLE          make a member "admin" or "member" (owner or admin)
  join GROUP                      join an open group (by id)
  leave GROUP                     leave a group
  groups                          your groups: id, name, role, members, epoch
  send GROUP TEXT...              publish to a group (TEXT "-" reads standard input)
  tell ID TEXT...                 send a direct message
  listen [GROUP] [--json]         print messages as they arrive until interrupted; answers
                                  rekey requests of client-custody groups you administer
  chat [GROUP]                    interactive chat (/help inside)

GROUP is a group id or the unique name of one of your groups; ID is a user id or the unique
name of a user the broker knows.

options:
  --url URL          broker WebSocket (default ws://127.0.0.1:7800/ws)
  --identity FILE    identity keystore (default $SEALCAST_IDENTITY)
  --state FILE       state file: verified group chains, message ratchets and last seen
                     messages, sealed with the passphrase (listen, chat and send default to
                     IDENTITY.state; other commands use one only when given). Without one,
                     a second send in the same epoch reuses a ratchet index and is refused
                     by the receivers as a replay
  --no-state         keep no state file
  --name NAME        display name sent to the broker (default $SEALCAST_NAME, else the
                     identity file's name without extension)
  --json             listen: one JSON object per line
  --timeout SECONDS  request and connect timeout (default 10)
  --cacert FILE      wss: trust this CA certificate (PEM)
  --insecure         wss: do not verify the broker's certificate
  -h, --help         this text

exit codes: 0 done, 1 the broker refused (code and message printed), 2 usage error,
3 broker unreachable, 4 identity or state file error (e.g. wrong passphrase),
5 unknown or ambiguous group or user name
)";

bool all_digits(std::string_view s) {
  return !s.empty() && s.size() <= 9 && s.find_first_not_of("0123456789") == std::string_view::npos;
}

[[noreturn]] void usage_failure(std::string message) { throw failure{exit_usage, std::move(message)}; }

}  // namespace

const char* usage_text() noexcept { return usage; }

arguments parse_arguments(int argc, char** argv) {
  // CLI11 reads the shape (options before or after the command, "--name value" and
  // "--name=value", "--" ending the options); the checks and the words of the errors are ours,
  // and --help prints the usage text above rather than CLI11's generated help.
  CLI::App app{"", "sealcast"};
  app.set_help_flag();
  app.allow_extras();  // unknown options are reported below, as "unknown option --name"
  // A value option given twice keeps the last, as a shell alias plus an explicit flag expects.
  auto last = [](CLI::Option* o) { o->multi_option_policy(CLI::MultiOptionPolicy::TakeLast); };
  arguments a;
  std::string name, custody, timeout;
  std::vector<std::string> positional;
  last(app.add_option("--url", a.url));
  last(app.add_option("--identity", a.identity));
  last(app.add_option("--state", a.state));
  last(app.add_option("--name", name));
  last(app.add_option("--out", a.out));
  app.add_option("--member", a.members)->allow_extra_args(false);
  last(app.add_option("--custody", custody));
  last(app.add_option("--timeout", timeout));
  last(app.add_option("--cacert", a.cacert));
  app.add_flag("-h,--help", a.help);
  app.add_flag("--json", a.json);
  app.add_flag("--open", a.open);
  app.add_flag("--no-state", a.no_state);
  app.add_flag("--insecure", a.insecure);
  app.add_option("command", positional);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ArgumentMismatch& e) {
    // "--url: 1 required TEXT missing": the value is missing (or empty, as in --url=).
    const std::string_view what = e.what();
    usage_failure(std::string(what.substr(0, what.find(':'))) + " needs a value");
  } catch (const CLI::ParseError& e) {
    usage_failure(e.what());
  }
  for (const auto& extra : app.remaining()) {
    if (extra == "--") continue;  // the end of the options: what follows is in `positional`
    usage_failure("unknown option " + extra.substr(0, extra.find('=')));
  }
  if (app.count("--name") > 0) a.name = name;
  if (app.count("--custody") > 0) {
    if (custody != "broker" && custody != "client") usage_failure("--custody must be broker or client");
    a.custody = custody;
  }
  if (app.count("--timeout") > 0) {
    if (!all_digits(timeout) || std::stoul(timeout) == 0 || std::stoul(timeout) > 3600)
      usage_failure("--timeout must be a number of seconds from 1 to 3600");
    a.timeout = std::chrono::seconds(std::stoul(timeout));
  }
  if (a.help) return a;
  if (positional.empty()) usage_failure("no command given");
  a.command = positional.front();
  a.operands.assign(positional.begin() + 1, positional.end());

  struct shape {
    std::string_view command;
    std::size_t min, max;  ///< operand counts; max 0 with min 0 is none, SIZE_MAX is any
    std::string_view operands;
  };
  static constexpr std::size_t any = static_cast<std::size_t>(-1);
  static constexpr std::array<shape, 14> shapes = {{{"keygen", 0, 0, ""},
                                                    {"id", 0, 0, ""},
                                                    {"create-group", 1, 1, "NAME"},
                                                    {"add", 2, 2, "GROUP ID"},
                                                    {"remove", 2, 2, "GROUP ID"},
                                                    {"set-role", 3, 3, "GROUP ID ROLE"},
                                                    {"join", 1, 1, "GROUP"},
                                                    {"leave", 1, 1, "GROUP"},
                                                    {"groups", 0, 0, ""},
                                                    {"send", 2, any, "GROUP TEXT"},
                                                    {"tell", 2, any, "ID TEXT"},
                                                    {"listen", 0, 1, "[GROUP]"},
                                                    {"chat", 0, 1, "[GROUP]"},
                                                    {"help", 0, 0, ""}}};
  const auto it = std::find_if(shapes.begin(), shapes.end(), [&](const shape& s) { return s.command == a.command; });
  if (it == shapes.end()) usage_failure("unknown command '" + a.command + "'");
  if (a.command == "help") {
    a.help = true;
    return a;
  }
  const auto n = a.operands.size();
  if (n < it->min || n > it->max) {
    if (it->operands.empty()) usage_failure(a.command + " takes no operand");
    usage_failure(a.command + " needs " + std::string(it->operands));
  }
  if (a.command == "keygen" && a.out.empty()) usage_failure("keygen needs --out FILE");
  if (a.command != "keygen" && !a.out.empty()) usage_failure("--out belongs to keygen");
  if (a.command != "create-group" && (!a.members.empty() || a.open || a.custody != "broker"))
    usage_failure("--member, --open and --custody belong to create-group");
  if (a.command == "set-role" && a.operands[2] != "admin" && a.operands[2] != "member")
    usage_failure("set-role: ROLE must be admin or member");
  if (a.json && a.command != "listen" && a.command != "groups") usage_failure("--json belongs to listen and groups");
  if (a.no_state && !a.state.empty()) usage_failure("--state and --no-state exclude each other");
  return a;
}

failure to_failure(const error& e, const std::string& what) {
  const std::string text = what + ": " + e.message;
  switch (e.code) {
    case errc::bad_passphrase:
      return {exit_identity, what + ": wrong passphrase (" + e.message + ")"};
    case errc::bad_format:
    case errc::io_error:
    case errc::bad_key:
    case errc::key_mismatch:
    case errc::decrypt_failed:
    case errc::bad_encoding:
    case errc::bad_length:
    case errc::corruption:
      return {exit_identity, text};
    case errc::config_error:
      return {exit_usage, text};
    case errc::internal:
      // The library's own failures (no connection, timeouts) are spelled internal without a
      // broker round trip; a broker's internal error reaches us through the same code, but the
      // connection is what matters to a script either way.
      if (e.message.find("timeout") != std::string::npos || e.message.find("connect") != std::string::npos ||
          e.message.find("closed") != std::string::npos || e.message.find("refused") != std::string::npos ||
          e.message.find("resolve") != std::string::npos)
        return {exit_unreachable, text};
      return {exit_broker, what + ": internal: " + e.message};
    default:
      return {exit_broker, what + ": " + std::string(to_string(e.code)) + ": " + e.message};
  }
}

}  // namespace sealcast::cli
