#include "config/command_line.hpp"

#include <catch2/catch_test_macros.hpp>
#include <vector>

#include "tests/config/temp_dir.hpp"

using namespace sealcast;
using namespace std::chrono_literals;

namespace {

result<command_line> parse(std::vector<const char*> args) {
  args.insert(args.begin(), "sealcastd");
  return parse_command_line(static_cast<int>(args.size()), args.data());
}

std::string parse_error(std::vector<const char*> args) {
  auto r = parse(std::move(args));
  return r ? std::string{} : r.err().message;
}

}  // namespace

TEST_CASE("no arguments means built-in defaults", "[config][command_line]") {
  auto cl = parse({});
  REQUIRE(cl);
  CHECK(cl->config_path.empty());
  CHECK(cl->overrides.empty());
  CHECK_FALSE(cl->help);
  CHECK_FALSE(cl->version);
  auto cfg = load_config(*cl);
  REQUIRE(cfg);
  CHECK(*cfg == config{});
}

TEST_CASE("the config file and repeated --set overrides are collected in order",
          "[config][command_line]") {
  auto cl =
      parse({"--config", "a.toml", "--set", "pubsub.retry_interval=5", "--set=log.level=debug"});
  REQUIRE(cl);
  CHECK(cl->config_path == "a.toml");
  CHECK(cl->overrides == std::vector<std::string>{"pubsub.retry_interval=5", "log.level=debug"});
  auto eq = parse({"--config=b.toml"});
  REQUIRE(eq);
  CHECK(eq->config_path == "b.toml");
}

TEST_CASE("help and version flags are recognized", "[config][command_line]") {
  CHECK(parse({"--help"})->help);
  CHECK(parse({"-h"})->help);
  CHECK(parse({"--version"})->version);
  CHECK(version() == "0.1.0");
  auto text = usage("sealcastd");
  CHECK(text.starts_with("usage: sealcastd [--config FILE] [--set section.key=value ...]\n"));
  CHECK(text.find("--version") != std::string::npos);
}

TEST_CASE("unknown flags, stray arguments and missing values are errors",
          "[config][command_line]") {
  CHECK(parse_error({"--conifg", "a.toml"}) ==
        "unknown option '--conifg' (did you mean '--config'?); see --help");
  CHECK(parse_error({"-x"}) == "unknown option '-x'; see --help");
  CHECK(parse_error({"--help=1"}) ==
        "unknown option '--help=1' (did you mean '--help'?); see --help");
  CHECK(parse_error({"extra"}) == "unexpected argument 'extra'; see --help");
  CHECK(parse_error({"--config"}) == "--config needs a FILE; see --help");
  CHECK(parse_error({"--config="}) == "--config needs a FILE; see --help");
  CHECK(parse_error({"--set"}) == "--set needs section.key=value; see --help");
  CHECK(parse_error({"--config", "a", "--config", "b"}) == "--config given twice; see --help");
}

TEST_CASE("a bad --set is reported while parsing the command line", "[config][command_line]") {
  CHECK(parse_error({"--set", "pubsub.retry_interval=abc"}) ==
        "--set pubsub.retry_interval: must be an integer, got 'abc'");
  CHECK(parse_error({"--set", "gateway.io_threads=65"}) ==
        "--set gateway.io_threads: must be between 0 and 64, got 65");
}

TEST_CASE("overrides apply after the file, in order", "[config][command_line]") {
  test::config_dir dir;
  auto path = dir.write("s.toml", "[pubsub]\nretry_interval = 30\nmax_members = 10\n");
  auto cl = parse({"--config", path.c_str(), "--set", "pubsub.retry_interval=5", "--set",
                   "pubsub.retry_interval=7", "--set", "gateway.listen=127.0.0.1:0"});
  REQUIRE(cl);
  auto cfg = load_config(*cl);
  REQUIRE(cfg);
  CHECK(cfg->pubsub.retry_interval == 7s);
  CHECK(cfg->pubsub.max_members == 10);
  CHECK(cfg->gateway.listen == "127.0.0.1:0");
}

TEST_CASE("rules that span keys see file and --set together and name the --set",
          "[config][command_line][rules]") {
  auto split = parse({"--set", "admin.tls_cert=c.pem", "--set", "admin.tls_key=k.pem"});
  REQUIRE(split);
  CHECK(load_config(*split));

  auto open_admin = parse({"--set", "admin.listen=0.0.0.0:7801"});
  REQUIRE(open_admin);
  auto cfg = load_config(*open_admin);
  REQUIRE_FALSE(cfg);
  CHECK(cfg.err().message ==
        "--set admin.listen: key 'admin.token' must be set when admin.listen ('0.0.0.0:7801') is "
        "not a loopback address");

  test::config_dir dir;
  auto path = dir.write("s.toml", "[admin]\ntoken = \"t\"\n");
  auto with_file = parse({"--config", path.c_str(), "--set", "admin.listen=0.0.0.0:7801"});
  REQUIRE(with_file);
  CHECK(load_config(*with_file));
}

TEST_CASE("a missing --config file is an error naming it", "[config][command_line]") {
  test::config_dir dir;
  auto path = (dir.path() / "nope.toml").string();
  auto cl = parse({"--config", path.c_str()});
  REQUIRE(cl);
  auto cfg = load_config(*cl);
  REQUIRE_FALSE(cfg);
  CHECK(cfg.err().message == path + ": cannot open: No such file or directory");
}
