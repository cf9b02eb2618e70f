// sealcastctl as an operator runs it: a real sealcastd with real traffic, the program started as
// a process, its output and exit code checked.

#include <catch2/catch_test_macros.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <csignal>
#include <fstream>
#include <regex>
#include <sstream>

#include "tests/broker/test_tls.hpp"
#include "tests/integration/fixtures.hpp"

using namespace sealcast;
using namespace sealcast::test;

namespace {

/// sealcastctl against this broker's admin listener, with `args` after --url.
run_result ctl(const broker_fixture& f, std::vector<std::string> args) {
  args.insert(args.begin(), {"--url", "http://127.0.0.1:" + std::to_string(f.broker->admin_port())});
  return run_program(bin_path("sealcastctl"), args);
}

/// Runs ctl until `pred` holds for its result (the counters follow the acks closely but not in
/// the same instant); returns the last result.
template <class Pred>
run_result ctl_until(const broker_fixture& f, const std::vector<std::string>& args, Pred pred) {
  run_result r;
  for (int i = 0; i < 100; ++i) {
    r = ctl(f, args);
    if (pred(r)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return r;
}

bool has_line(const std::string& out, const std::string& pattern) {
  return std::regex_search(out, std::regex(pattern, std::regex::multiline));
}

std::size_t count_lines(const std::string& out, const std::string& pattern) {
  std::size_t n = 0;
  const std::regex re(pattern);
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);)
    if (std::regex_search(line, re)) ++n;
  return n;
}

/// A broker with two members in one group and `n` messages published and received.
struct world {
  broker_fixture f;
  std::unique_ptr<test_client> alice, bob;
  id16 group;
  std::vector<protocol::publish_result> published;

  explicit world(int n, std::vector<std::string> extra = {}) : f(std::move(extra)) {
    alice = online(f.port(), "alice");
    bob = online(f.port(), "bob");
    group = make_group(*alice, {bob.get()}, "ops-room");
    for (int i = 0; i < n; ++i)
      published.push_back(alice->publish(group, "m" + std::to_string(i)).as<protocol::publish_result>());
    messages(*bob, group, static_cast<std::size_t>(n));
  }
};

}  // namespace

TEST_CASE("sealcastctl stats shows the counts of the traffic", "[sealcastctl]") {
  world w(4);
  auto r =
      ctl_until(w.f, {"stats"}, [](const run_result& x) { return has_line(x.out, R"(^\s+messages_published\s+4$)"); });
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(has_line(r.out, R"(^\s+messages_published\s+4$)"));
  CHECK(has_line(r.out, R"(^\s+groups_created\s+1$)"));
  CHECK(has_line(r.out, R"(^connections$)"));
  CHECK(has_line(r.out, R"(^\s+current\s+2$)"));

  SECTION("--json prints the broker's JSON, which parses") {
    auto j = ctl(w.f, {"--json", "stats"});
    REQUIRE(j.exit_code == 0);
    const auto v = boost::json::parse(j.out);
    CHECK(v.at("pubsub").at("messages_published").to_number<std::uint64_t>() == 4);
  }
}

TEST_CASE("sealcastctl shows tables for the groups and for one group or user or message", "[sealcastctl]") {
  world w(2);
  const auto g = w.group.hex();
  const auto a = w.alice->user_id().hex();

  auto groups = ctl(w.f, {"groups"});
  INFO(groups.out << groups.err);
  REQUIRE(groups.exit_code == 0);
  CHECK(has_line(groups.out, R"(^ID\s+NAME\s+EPOCH\s+MEMBERS)"));
  CHECK(has_line(groups.out, "^" + g + R"(\s+ops-room\s+1\s+2\b)"));

  auto group = ctl(w.f, {"group", g});
  INFO(group.out << group.err);
  REQUIRE(group.exit_code == 0);
  CHECK(has_line(group.out, R"(^name\s+ops-room$)"));
  CHECK(has_line(group.out, R"(^epoch\s+1$)"));
  CHECK(group.out.find(a) != std::string::npos);  // the members table
  CHECK(group.out.find(w.bob->user_id().hex()) != std::string::npos);

  auto user = ctl(w.f, {"user", a});
  INFO(user.out << user.err);
  REQUIRE(user.exit_code == 0);
  CHECK(has_line(user.out, R"(^GROUP\s+NAME\s+ROLE\s+MEMBERS$)"));
  CHECK(has_line(user.out, "^" + g + R"(\s+ops-room\s+\S+\s+2$)"));

  auto message = ctl(w.f, {"message", w.published[0].id.hex()});
  INFO(message.out << message.err);
  REQUIRE(message.exit_code == 0);
  CHECK(has_line(message.out, "^group\\s+" + g + "$"));
  CHECK(has_line(message.out, R"(^seq\s+)" + std::to_string(w.published[0].seq) + "$"));
  CHECK(has_line(message.out, R"(^status\s+(pending|delivered)$)"));

  SECTION("--json of a group parses and carries the epoch") {
    auto j = ctl(w.f, {"group", g, "--json"});
    REQUIRE(j.exit_code == 0);
    CHECK(boost::json::parse(j.out).at("epoch").to_number<std::uint64_t>() == 1);
  }
}

TEST_CASE("sealcastctl events filters by type and group", "[sealcastctl]") {
  world w(3);
  auto other = w.alice->create_group("other-room", {});
  REQUIRE(w.alice->wait_key(other, 1));
  REQUIRE(w.alice->publish(other, "elsewhere").is_ok());
  const auto g = w.group.hex();

  auto r = ctl_until(w.f, {"events", "--type", "message_published", "--group", g},
                     [](const run_result& x) { return count_lines(x.out, "message_published") >= 3; });
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(has_line(r.out, R"(^SEQ\s+TIME\s+TYPE\s+GROUP\s+USER\s+MESSAGE\s+DATA$)"));
  CHECK(count_lines(r.out, R"(^\d+\s+\S+ \S+\s+message_published\s+)" + g) == 3);
  CHECK(count_lines(r.out, "^\\d+") == 3);  // nothing of the other group, nothing of another type

  SECTION("--json parses and --limit bounds the list") {
    auto j = ctl(w.f, {"--json", "events", "--type=message_published", "--limit", "2"});
    INFO(j.out << j.err);
    REQUIRE(j.exit_code == 0);
    const auto v = boost::json::parse(j.out);
    const auto& items = v.is_array() ? v.as_array() : v.at("events").as_array();
    REQUIRE(items.size() == 2);
    for (const auto& e : items) CHECK(e.at("type").as_string() == "message_published");
  }
}

TEST_CASE("sealcastctl rotate increments the group's epoch", "[sealcastctl]") {
  world w(1);
  const auto g = w.group.hex();
  auto r = ctl(w.f, {"rotate", g});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(has_line(r.out, R"(^epoch\s+2$)"));
  REQUIRE(w.alice->wait_key(w.group, 2));
  auto after = ctl_until(w.f, {"group", g}, [](const run_result& x) { return has_line(x.out, R"(^epoch\s+2$)"); });
  CHECK(has_line(after.out, R"(^epoch\s+2$)"));
}

TEST_CASE("sealcastctl events --follow prints events as they happen", "[sealcastctl]") {
  world w(0);
  temp_dir dir;
  const auto out_path = dir.path() / "out";
  const std::string url = "http://127.0.0.1:" + std::to_string(w.f.broker->admin_port());
  const int pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(out, 1);
    const auto bin = bin_path("sealcastctl");
    ::execl(bin.c_str(), bin.c_str(), "--url", url.c_str(), "events", "--follow", "--type", "message_published",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  auto read_out = [&] {
    std::ifstream in(out_path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  // The stream may not be open yet when the first message goes out: publish until one shows.
  std::string seen;
  for (int i = 0; i < 100 && count_lines(seen, "message_published") == 0; ++i) {
    REQUIRE(w.alice->publish(w.group, "live " + std::to_string(i)).is_ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    seen = read_out();
  }
  ::kill(pid, SIGINT);
  int st = 0;
  ::waitpid(pid, &st, 0);
  INFO(seen);
  CHECK(count_lines(seen, R"(^\d+\s+.*message_published\s+group=)" + w.group.hex()) >= 1);
}

TEST_CASE("sealcastctl events --follow reconnects when the stream ends, and exits 3 once it cannot", "[sealcastctl]") {
  world w(0);
  temp_dir dir;
  const auto out_path = dir.path() / "out";
  const auto err_path = dir.path() / "err";
  const auto port = w.f.broker->admin_port();
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  const int pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(out, 1);
    ::dup2(err, 2);
    const auto bin = bin_path("sealcastctl");
    ::execl(bin.c_str(), bin.c_str(), "--url", url.c_str(), "events", "--follow", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  bool open = false;
  for (int i = 0; i < 250 && !open; ++i) {
    open = http_get("127.0.0.1", port, "/admin/stats").body.find("\"event_streams\":1") != std::string::npos;
    if (!open) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(open);
  w.f.broker.reset();  // the broker stops: it ends the stream, and nothing answers afterwards
  int st = 0;
  bool exited = false;
  for (int i = 0; i < 300 && !exited; ++i) {  // three reconnects a second apart, then it gives up
    exited = ::waitpid(pid, &st, WNOHANG) == pid;
    if (!exited) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!exited) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &st, 0);
  }
  std::ifstream in(err_path);
  const std::string err(std::istreambuf_iterator<char>(in), {});
  INFO(err);
  REQUIRE(exited);
  REQUIRE(WIFEXITED(st));
  CHECK(WEXITSTATUS(st) == 3);
  CHECK(err.find("the broker ended the event stream; reconnecting") != std::string::npos);
  CHECK(err.find("gave up after 3 reconnects") != std::string::npos);
}

TEST_CASE("sealcastctl's usage says that --since is exclusive", "[sealcastctl]") {
  auto r = run_program(bin_path("sealcastctl"), {"--help"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("--since N (events after seq N)") != std::string::npos);
}

TEST_CASE("sealcastctl explains failures with exit codes", "[sealcastctl]") {
  SECTION("an unreachable broker is exit 3") {
    // Port 1 on loopback: nothing listens there.
    auto r = run_program(bin_path("sealcastctl"), {"--url", "http://127.0.0.1:1", "stats"});
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("cannot reach broker at http://127.0.0.1:1: connection refused") != std::string::npos);
  }
  SECTION("usage errors are exit 2 with the usage text") {
    for (const auto& args : std::vector<std::vector<std::string>>{{},
                                                                  {"frobnicate"},
                                                                  {"group"},
                                                                  {"stats", "extra"},
                                                                  {"events", "--limit", "many"},
                                                                  {"--bogus", "stats"},
                                                                  {"stats", "--type", "x"},
                                                                  {"--url", "ftp://x", "stats"}}) {
      auto r = run_program(bin_path("sealcastctl"), args);
      INFO(r.err);
      CHECK(r.exit_code == 2);
      CHECK(r.err.find("usage: sealcastctl") != std::string::npos);
    }
  }
}

TEST_CASE("sealcastctl reports a refused token and unknown ids with the broker's message", "[sealcastctl]") {
  world w(1, sets({"admin.token=t0ken"}));
  SECTION("no token or a wrong one is refused, exit 1") {
    auto none = ctl(w.f, {"stats"});
    CHECK(none.exit_code == 1);
    CHECK(none.err.find("the broker refused the admin token") != std::string::npos);
    auto wrong = ctl(w.f, {"--token", "nope", "stats"});
    CHECK(wrong.exit_code == 1);
    CHECK(wrong.err.find("the broker refused the admin token") != std::string::npos);
  }
  SECTION("the right token works, also from SEALCAST_ADMIN_TOKEN") {
    CHECK(ctl(w.f, {"--token", "t0ken", "stats"}).exit_code == 0);
    ::setenv("SEALCAST_ADMIN_TOKEN", "t0ken", 1);
    auto r = ctl(w.f, {"stats"});
    ::unsetenv("SEALCAST_ADMIN_TOKEN");
    CHECK(r.exit_code == 0);
  }
  SECTION("an unknown group is a 404 with the broker's message, exit 1") {
    auto r = ctl(w.f, {"--token", "t0ken", "group", std::string(32, '0')});
    INFO(r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("(HTTP 404)") != std::string::npos);
    CHECK(r.out.empty());
  }
  SECTION("a malformed id is a 400 with the broker's message, exit 1") {
    auto r = ctl(w.f, {"--token", "t0ken", "message", "not-an-id"});
    INFO(r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("(HTTP 400)") != std::string::npos);
  }
}

TEST_CASE("sealcastctl speaks https and verifies the broker's certificate", "[sealcastctl][tls]") {
  throwaway_cert cert;
  REQUIRE(cert.ok());
  broker_fixture f(sets({"admin.tls_cert=" + cert.cert(), "admin.tls_key=" + cert.key()}));
  // The throwaway certificate names localhost.
  const std::string url = "https://localhost:" + std::to_string(f.broker->admin_port());
  const auto bin = bin_path("sealcastctl");

  SECTION("trusted through --cacert") {
    auto r = run_program(bin, {"--url", url, "--cacert", cert.cert(), "stats"});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(has_line(r.out, R"(^\s+messages_published\s+0$)"));
  }
  SECTION("an unknown issuer is refused, exit 3") {
    auto r = run_program(bin, {"--url", url, "stats"});
    INFO(r.err);
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("TLS handshake failed: certificate verify failed") != std::string::npos);
  }
  SECTION("--insecure skips the check") {
    auto r = run_program(bin, {"--url", url, "--insecure", "stats"});
    INFO(r.err);
    CHECK(r.exit_code == 0);
  }
  SECTION("plain http to the https listener fails clearly, exit 3") {
    auto r = run_program(bin, {"--url", "http://127.0.0.1:" + std::to_string(f.broker->admin_port()), "stats"});
    INFO(r.err);
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("cannot reach broker at http://127.0.0.1:") != std::string::npos);
  }
  SECTION("an unreadable --cacert is a usage error") {
    auto r = run_program(bin, {"--url", url, "--cacert", "/nonexistent/ca.pem", "stats"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("cannot use --cacert /nonexistent/ca.pem") != std::string::npos);
  }
}
