#include "common/log.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <catch2/catch_test_macros.hpp>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

using namespace sealcast;

namespace {

// Collects every line the logger writes while alive, then restores stderr and the defaults.
class capture {
 public:
  capture(log::level l, log::format f) {
    log::configure(l, f);
    log::set_sink(&capture::append, this);
  }
  ~capture() {
    log::set_sink(nullptr, nullptr);
    log::configure(log::level::info, log::format::text);
  }
  capture(const capture&) = delete;
  capture& operator=(const capture&) = delete;

  std::vector<std::string> lines() {
    std::lock_guard lock{mutex_};
    return lines_;
  }

 private:
  static void append(void* self, std::string_view line) {
    auto* c = static_cast<capture*>(self);
    std::lock_guard lock{c->mutex_};
    c->lines_.emplace_back(line);
  }

  std::mutex mutex_;
  std::vector<std::string> lines_;
};

// The part of a text line after "TIMESTAMP ".
std::string after_timestamp(const std::string& line) {
  static const std::regex stamp{R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z )"};
  std::smatch m;
  REQUIRE(std::regex_search(line, m, stamp));
  return m.suffix().str();
}

}  // namespace

TEST_CASE("lines below the configured level are not written", "[common][log]") {
  capture cap{log::level::warn, log::format::text};
  log::trace("t", "trace");
  log::debug("t", "debug");
  log::info("t", "info");
  log::warn("t", "warn");
  log::error("t", "error");
  auto lines = cap.lines();
  REQUIRE(lines.size() == 2);
  CHECK(after_timestamp(lines[0]) == "warn  t: warn\n");
  CHECK(after_timestamp(lines[1]) == "error t: error\n");
  CHECK_FALSE(log::enabled(log::level::info));
  CHECK(log::enabled(log::level::error));
}

TEST_CASE("text lines carry timestamp, padded level, component, message and fields",
          "[common][log]") {
  capture cap{log::level::trace, log::format::text};
  std::string user = "u1";
  log::info("gateway", "connection opened", {{"peer", "127.0.0.1:5555"}, {"user", user}});
  auto lines = cap.lines();
  REQUIRE(lines.size() == 1);
  CHECK(after_timestamp(lines[0]) ==
        "info  gateway: connection opened peer=127.0.0.1:5555 user=u1\n");
}

TEST_CASE("text values with spaces or quotes are quoted and newlines never split a line",
          "[common][log]") {
  capture cap{log::level::info, log::format::text};
  log::info("c", "two\nlines", {{"reason", "bad \"frame\""}, {"empty", ""}, {"eq", "a=b"}});
  auto lines = cap.lines();
  REQUIRE(lines.size() == 1);
  CHECK(after_timestamp(lines[0]) ==
        "info  c: two\\nlines reason=\"bad \\\"frame\\\"\" empty=\"\" eq=\"a=b\"\n");
}

TEST_CASE("integer, bool and real fields are written as numbers", "[common][log]") {
  capture cap{log::level::info, log::format::json};
  std::size_t bytes = 1048576;
  log::info("c", "m", {{"n", -3}, {"bytes", bytes}, {"ok", true}, {"ratio", 0.5}});
  auto lines = cap.lines();
  REQUIRE(lines.size() == 1);
  auto obj = boost::json::parse(lines[0]).as_object();
  CHECK(obj.at("n").as_int64() == -3);
  CHECK(obj.at("bytes").to_number<std::uint64_t>() == 1048576);
  CHECK(obj.at("ok").as_bool());
  CHECK(obj.at("ratio").as_double() == 0.5);
}

TEST_CASE("json lines are one object with ts, level, component, msg and fields", "[common][log]") {
  capture cap{log::level::info, log::format::json};
  log::warn("gateway", "slow consumer", {{"user", "u1"}});
  auto lines = cap.lines();
  REQUIRE(lines.size() == 1);
  REQUIRE(lines[0].back() == '\n');
  CHECK(std::count(lines[0].begin(), lines[0].end(), '\n') == 1);
  auto obj = boost::json::parse(lines[0]).as_object();
  CHECK(obj.at("level").as_string() == "warn");
  CHECK(obj.at("component").as_string() == "gateway");
  CHECK(obj.at("msg").as_string() == "slow consumer");
  CHECK(obj.at("user").as_string() == "u1");
  CHECK(std::regex_match(std::string{obj.at("ts").as_string()},
                         std::regex{R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)"}));
}

TEST_CASE("json escapes quotes, backslashes, control characters and invalid UTF-8",
          "[common][log]") {
  capture cap{log::level::info, log::format::json};
  std::string nasty = "q\"b\\n\nt\tc\x01 \xc3\xa9 \xff end";
  log::info("c", nasty, {{"k\"ey", nasty}});
  auto lines = cap.lines();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find(R"("msg":"q\"b\\n\nt\tc\u0001 )") != std::string::npos);
  CHECK(lines[0].find("\xc3\xa9 \\ufffd end") != std::string::npos);  // valid UTF-8 kept
  auto obj = boost::json::parse(lines[0]).as_object();
  std::string expected = "q\"b\\n\nt\tc\x01 \xc3\xa9 \xef\xbf\xbd end";
  CHECK(obj.at("msg").as_string() == expected);
  CHECK(obj.at("k\"ey").as_string() == expected);
}

TEST_CASE("very long values are truncated", "[common][log]") {
  capture cap{log::level::info, log::format::text};
  log::info("c", "m", {{"v", std::string(100000, 'x')}});
  auto lines = cap.lines();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].size() < 4096);
  CHECK(lines[0].find("...(truncated)") != std::string::npos);
}

TEST_CASE("parse_level and parse_format read the [log] names", "[common][log]") {
  CHECK(log::parse_level("trace") == log::level::trace);
  CHECK(log::parse_level("warn") == log::level::warn);
  CHECK_FALSE(log::parse_level("warning"));
  CHECK(log::parse_format("json") == log::format::json);
  CHECK_FALSE(log::parse_format("xml"));
  CHECK(log::to_string(log::level::error) == "error");
}

TEST_CASE("concurrent writers produce whole lines", "[common][log]") {
  capture cap{log::level::info, log::format::json};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < 200; ++i) log::info("worker", "tick", {{"t", t}, {"i", i}});
    });
  }
  for (auto& th : threads) th.join();
  auto lines = cap.lines();
  REQUIRE(lines.size() == 800);
  for (const auto& line : lines) {
    REQUIRE(line.back() == '\n');
    CHECK(boost::json::parse(line).as_object().at("msg").as_string() == "tick");
  }
}
