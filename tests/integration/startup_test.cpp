// sealcastd as a program: the ready line, health probes, clean shutdown, configuration errors.

#include <sys/wait.h>

#include <csignal>
#include <fstream>
#include <regex>

#include "tests/integration/fixtures.hpp"

using namespace sealcast;
using namespace sealcast::test;

TEST_CASE("sealcastd prints the ready line with both listeners and the broker id", "[integration][startup]") {
  broker_fixture f;
  const std::regex ready(
      R"(sealcastd ready client=ws://127\.0\.0\.1:(\d+)/ws admin=http://127\.0\.0\.1:(\d+) broker=([0-9a-f]{32}))");
  std::smatch m;
  const auto line = f.broker->ready_line();
  INFO(line);
  REQUIRE(std::regex_search(line, m, ready));
  CHECK(std::stoi(m[1].str()) == f.broker->client_port());
  CHECK(std::stoi(m[2].str()) == f.broker->admin_port());
  CHECK(m[3].str() == f.broker->broker_id());
  CHECK(f.broker->client_port() != 0);
  CHECK(f.broker->admin_port() != 0);
}

TEST_CASE("sealcastd answers health and readiness probes with 200", "[integration][startup]") {
  broker_fixture f;
  CHECK(http_get("127.0.0.1", f.broker->client_port(), "/healthz").status == 200);
  CHECK(http_get("127.0.0.1", f.broker->admin_port(), "/healthz").status == 200);
  CHECK(http_get("127.0.0.1", f.broker->admin_port(), "/readyz").status == 200);
}

TEST_CASE("sealcastd exits 0 on SIGTERM and keeps its broker id across restarts", "[integration][startup]") {
  broker_fixture f;
  const auto id = f.broker->broker_id();
  {
    auto c = online(f.port(), "alice");  // some state to flush
    c->disconnect();                     // a client that does not read could not answer the close frame
  }
  const int st = f.broker->stop(SIGTERM);
  INFO(f.broker->log());
  REQUIRE(WIFEXITED(st));
  CHECK(WEXITSTATUS(st) == 0);
  f.restart();
  CHECK(f.broker->broker_id() == id);
}

TEST_CASE("sealcastd refuses a config file with an unknown key, naming file and line", "[integration][startup]") {
  temp_dir dir;
  const auto cfg = dir.path() / "bad.toml";
  {
    std::ofstream out(cfg);
    out << "[pubsub]\nretry_interval = 5\nno_such_key = 1\n";
  }
  auto r = run_program(bin_path("sealcastd"),
                       {"--config", cfg.string(), "--set", "broker.data_dir=" + (dir.path() / "data").string()});
  INFO(r.err);
  CHECK(r.exit_code != 0);
  CHECK(r.err.find(cfg.string() + ":3: unknown key") != std::string::npos);
  CHECK(r.out.find("sealcastd ready") == std::string::npos);
}

TEST_CASE("sealcastd refuses a --set with a bad value", "[integration][startup]") {
  temp_dir dir;
  auto r = run_program(bin_path("sealcastd"), {"--set", "broker.data_dir=" + (dir.path() / "data").string(), "--set",
                                               "pubsub.retry_interval=abc"});
  INFO(r.err);
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("pubsub.retry_interval") != std::string::npos);
  CHECK(r.out.find("sealcastd ready") == std::string::npos);
  auto unknown = run_program(bin_path("sealcastd"), {"--set", "pubsub.no_such_key=1"});
  CHECK(unknown.exit_code != 0);
  CHECK(unknown.err.find("unknown key") != std::string::npos);
}
