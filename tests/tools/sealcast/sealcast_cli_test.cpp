// The sealcast chat client as people and scripts run it: the built program started as a process
// against a real sealcastd, its output and exit codes checked.

#include <catch2/catch_test_macros.hpp>

#include <sys/stat.h>

#include <csignal>
#include <map>
#include <memory>
#include <regex>
#include <sstream>

#include <boost/json.hpp>

#include "tests/integration/fixtures.hpp"
#include "tests/tools/sealcast/child_process.hpp"

using namespace sealcast;
using namespace sealcast::test;

namespace {

constexpr const char* passphrase = "correct horse battery staple";

/// A broker and a folder of identities; every program run talks to this broker.
struct cli_world {
  broker_fixture f;
  temp_dir home;

  [[nodiscard]] std::string url() const { return "ws://127.0.0.1:" + std::to_string(f.port()) + "/ws"; }
  [[nodiscard]] std::string key(const std::string& user) const { return (home.path() / (user + ".key")).string(); }

  /// `sealcast args...` as `user` (its identity and this broker's url added), to completion.
  cli_result run(const std::string& user, std::vector<std::string> args,
                 std::map<std::string, std::string> env = {}, std::string_view input = {}) const {
    return run_cli(bin_path("sealcast"), with_user(user, std::move(args)), with_passphrase(std::move(env)), input);
  }

  /// `sealcast args...` as `user`, left running (listen, chat).
  [[nodiscard]] std::unique_ptr<child_process> start(const std::string& user, std::vector<std::string> args) const {
    return std::make_unique<child_process>(bin_path("sealcast"), with_user(user, std::move(args)), with_passphrase({}));
  }

  /// A new identity for `user`, known to the broker (it logged in once, as members of a group
  /// must have); returns its user id.
  std::string keygen(const std::string& user) const {
    const auto r = run_cli(bin_path("sealcast"), {"keygen", "--out", key(user)}, with_passphrase({}));
    REQUIRE(r.code == 0);
    REQUIRE(std::regex_match(r.out, std::regex("[0-9a-f]{32}\n")));
    const auto login = run(user, {"groups"});
    INFO("groups stderr: " << login.err);
    REQUIRE(login.code == 0);
    return r.out.substr(0, 32);
  }

  /// A listener of `user` that is connected (its ready note printed).
  [[nodiscard]] std::unique_ptr<child_process> listener(const std::string& user, std::vector<std::string> args = {}) const {
    args.insert(args.begin(), "listen");
    auto p = start(user, std::move(args));
    INFO("listen stderr: " << p->err());
    REQUIRE(p->wait_err("listening as " + user));
    return p;
  }

 private:
  std::vector<std::string> with_user(const std::string& user, std::vector<std::string> args) const {
    args.insert(args.end(), {"--identity", key(user), "--url", url()});
    return args;
  }
  static std::map<std::string, std::string> with_passphrase(std::map<std::string, std::string> env) {
    env.try_emplace("SEALCAST_PASSPHRASE", passphrase);
    env.try_emplace("SEALCAST_NAME", "");
    return env;
  }
};

/// A group created by `owner` with `members` (names), its id checked and returned.
std::string create_group(const cli_world& w, const std::string& owner, const std::string& name,
                         const std::vector<std::string>& members, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"create-group", name};
  for (const auto& m : members) args.insert(args.end(), {"--member", m});
  args.insert(args.end(), extra.begin(), extra.end());
  const auto r = w.run(owner, args);
  INFO("create-group stderr: " << r.err);
  REQUIRE(r.code == 0);
  REQUIRE(std::regex_match(r.out, std::regex("[0-9a-f]{32}\n")));
  return r.out.substr(0, 32);
}

/// The row of `groups` output for a group name, split into columns.
std::vector<std::string> group_row(const std::string& table, const std::string& name) {
  std::istringstream in(table);
  for (std::string line; std::getline(in, line);) {
    std::istringstream cols(line);
    std::vector<std::string> c;
    for (std::string col; cols >> col;) c.push_back(col);
    if (c.size() == 5 && c[1] == name) return c;
  }
  return {};
}

}  // namespace

TEST_CASE("keygen creates a private identity whose user id keygen and id both print", "[sealcast][cli]") {
  temp_dir home;
  const auto path = (home.path() / "alice.key").string();
  const std::map<std::string, std::string> env = {{"SEALCAST_PASSPHRASE", passphrase}};
  const auto made = run_cli(bin_path("sealcast"), {"keygen", "--out", path}, env);
  REQUIRE(made.code == 0);
  REQUIRE(std::regex_match(made.out, std::regex("[0-9a-f]{32}\n")));

  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  const auto id = run_cli(bin_path("sealcast"), {"id", "--identity", path}, env);
  CHECK(id.code == 0);
  CHECK(id.out == made.out);

  // SEALCAST_IDENTITY stands in for --identity.
  auto env2 = env;
  env2["SEALCAST_IDENTITY"] = path;
  CHECK(run_cli(bin_path("sealcast"), {"id"}, env2).out == made.out);

  const auto again = run_cli(bin_path("sealcast"), {"keygen", "--out", path}, env);
  CHECK(again.code == 4);
  CHECK(again.err.find("already exists") != std::string::npos);
}

TEST_CASE("a wrong passphrase is refused with exit code 4 before anything is sent", "[sealcast][cli]") {
  cli_world w;
  w.keygen("alice");
  const std::map<std::string, std::string> wrong = {{"SEALCAST_PASSPHRASE", "not it"}};
  const auto id = run_cli(bin_path("sealcast"), {"id", "--identity", w.key("alice")}, wrong);
  CHECK(id.code == 4);
  CHECK(id.err.find("wrong passphrase") != std::string::npos);
  CHECK(id.out.empty());

  const auto groups = w.run("alice", {"groups"}, wrong);
  CHECK(groups.code == 4);
  CHECK(groups.err.find("wrong passphrase") != std::string::npos);
}

TEST_CASE("send and tell reach the other user's listen with the sender's name", "[sealcast][cli]") {
  cli_world w;
  w.keygen("alice");
  const auto bob_id = w.keygen("bob");
  auto bob = w.listener("bob");
  auto bob_json = w.listener("bob", {"--json"});

  const auto team = create_group(w, "alice", "team", {"bob"});
  const auto sent = w.run("alice", {"send", "team", "hello", "bob"});
  INFO("send stderr: " << sent.err);
  REQUIRE(sent.code == 0);
  INFO("listen stdout: " << bob->out() << "\nlisten stderr: " << bob->err());
  CHECK(bob->wait_out("[team] alice: hello bob\n"));

  // The JSON listener sees the same message with every field.
  REQUIRE(bob_json->wait_out("\n"));
  const auto line = bob_json->out().substr(0, bob_json->out().find('\n'));
  const auto v = boost::json::parse(line).as_object();
  CHECK(v.at("group").as_string() == team);
  CHECK(v.at("seq").as_int64() == 1);
  CHECK(v.at("sender_name").as_string() == "alice");
  CHECK(v.at("text").as_string() == "hello bob");
  CHECK(v.at("verified").as_bool());
  CHECK(v.at("ts").as_int64() > 0);

  // A direct message, addressed by user id this time.
  const auto told = w.run("alice", {"tell", bob_id, "psst"});
  REQUIRE(told.code == 0);
  CHECK(bob->wait_out("[direct] alice: psst\n"));

  CHECK(bob->stop(SIGINT) == 0);
  CHECK(bob_json->stop(SIGTERM) == 0);
}

TEST_CASE("client custody: the owner's listen issues the key of an added member's epoch",
          "[sealcast][cli][custody]") {
  cli_world w;
  w.keygen("alice");
  w.keygen("bob");
  w.keygen("carol");

  create_group(w, "alice", "vault", {"bob"}, {"--custody", "client"});
  auto before = w.run("alice", {"groups"});
  REQUIRE(before.code == 0);
  const auto first = group_row(before.out, "vault");
  REQUIRE(first.size() == 5);
  CHECK(first[2] == "owner");
  CHECK(first[3] == "2");
  // create-group committed the genesis (epoch 1), proposed bob's add and committed it (epoch 2).
  CHECK(first[4] == "2");

  auto owner = w.listener("alice");
  auto carol = w.listener("carol");
  const auto added = w.run("alice", {"add", "vault", "carol"});
  INFO("add stderr: " << added.err << "\nowner stderr: " << owner->err());
  REQUIRE(added.code == 0);
  // The one-shot add signs the proposal and does not commit; the owner's listen did.
  CHECK(owner->wait_err("issued the key of epoch 3 for group vault"));
  CHECK(added.err.find("has no key yet") == std::string::npos);
  // carol verified her own addition, and who asked for it.
  INFO("carol stderr: " << carol->err());
  CHECK(carol->wait_err("[vault] carol was added by alice (epoch 3)"));
  CHECK(carol->err().find("WARNING") == std::string::npos);

  const auto sent = w.run("alice", {"send", "vault", "after the rekey"});
  INFO("send stderr: " << sent.err << "\ncarol stderr: " << carol->err());
  REQUIRE(sent.code == 0);
  CHECK(carol->wait_out("[vault] alice: after the rekey\n"));

  const auto after = w.run("carol", {"groups"});
  REQUIRE(after.code == 0);
  const auto row = group_row(after.out, "vault");
  REQUIRE(row.size() == 5);
  CHECK(row[2] == "member");
  CHECK(row[3] == "3");
  CHECK(row[4] == "3");
  CHECK(owner->stop(SIGINT) == 0);
  CHECK(carol->stop(SIGINT) == 0);
}

TEST_CASE("join an open group by id, then leave it by name", "[sealcast][cli]") {
  cli_world w;
  w.keygen("alice");
  w.keygen("bob");
  const auto lobby = create_group(w, "alice", "lobby", {}, {"--open"});

  const auto joined = w.run("bob", {"join", lobby});
  INFO("join stderr: " << joined.err);
  REQUIRE(joined.code == 0);
  auto groups = w.run("bob", {"groups"});
  REQUIRE(group_row(groups.out, "lobby").size() == 5);
  CHECK(group_row(groups.out, "lobby")[2] == "member");

  // A closed group cannot be joined: the broker's code and message are shown.
  const auto closed = create_group(w, "alice", "closed", {});
  const auto refused = w.run("bob", {"join", closed});
  CHECK(refused.code == 1);
  CHECK(refused.err.find("forbidden") != std::string::npos);

  const auto left = w.run("bob", {"leave", "lobby"});
  REQUIRE(left.code == 0);
  groups = w.run("bob", {"groups"});
  REQUIRE(groups.code == 0);
  CHECK(group_row(groups.out, "lobby").empty());
}

TEST_CASE("unknown names, broker refusals, usage errors and an unreachable broker have their own exit codes",
          "[sealcast][cli][errors]") {
  cli_world w;
  w.keygen("alice");
  w.keygen("bob");
  create_group(w, "alice", "team", {"bob"});

  const auto no_group = w.run("alice", {"send", "nosuch", "hello"});
  CHECK(no_group.code == 5);
  CHECK(no_group.err.find("unknown group 'nosuch'") != std::string::npos);

  const auto no_user = w.run("alice", {"tell", "nobody", "hello"});
  CHECK(no_user.code == 5);
  CHECK(no_user.err.find("unknown user 'nobody'") != std::string::npos);

  // bob is a plain member: adding someone is the broker's refusal, shown with its code.
  const auto not_admin = w.run("bob", {"remove", "team", "alice"});
  CHECK(not_admin.code == 1);
  CHECK(not_admin.err.find("forbidden") != std::string::npos);

  CHECK(run_cli(bin_path("sealcast"), {}).code == 2);
  const auto unknown = run_cli(bin_path("sealcast"), {"frobnicate"});
  CHECK(unknown.code == 2);
  CHECK(unknown.err.find("unknown command 'frobnicate'") != std::string::npos);
  CHECK(w.run("alice", {"add", "team"}).code == 2);
  CHECK(w.run("alice", {"groups", "--custody", "sideways"}).code == 2);

  const auto unreachable = run_cli(bin_path("sealcast"),
                                   {"groups", "--identity", w.key("alice"), "--url", "ws://127.0.0.1:1/ws"},
                                   {{"SEALCAST_PASSPHRASE", passphrase}});
  CHECK(unreachable.code == 3);
  CHECK(unreachable.err.find("cannot reach broker") != std::string::npos);
}

TEST_CASE("chat driven through a pipe lists groups, talks to the current group and quits",
          "[sealcast][cli][chat]") {
  cli_world w;
  w.keygen("alice");
  w.keygen("bob");
  auto bob = w.listener("bob");
  create_group(w, "alice", "team", {"bob"});

  auto chat = w.start("alice", {"chat"});
  INFO("chat stdout: " << chat->out() << "\nchat stderr: " << chat->err());
  REQUIRE(chat->wait_out("current group: [team]"));
  chat->write("/groups\n");
  REQUIRE(chat->wait_out("owner"));
  CHECK(chat->out().find("team") != std::string::npos);

  chat->write("hello from the chat\n");
  INFO("bob stdout: " << bob->out());
  CHECK(bob->wait_out("[team] alice: hello from the chat\n"));

  // An incoming direct message shows up in the chat with the sender's name.
  REQUIRE(w.run("bob", {"tell", "alice", "hi chat"}).code == 0);
  CHECK(chat->wait_out("[direct] bob: hi chat"));

  chat->write("/frobnicate\n");
  CHECK(chat->wait_out("unknown command /frobnicate"));
  chat->write("/quit\n");
  CHECK(chat->wait() == 0);
  CHECK(bob->stop(SIGINT) == 0);
}
