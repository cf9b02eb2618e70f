#pragma once

// Helpers for the admin API tests: JSON GET/POST against the broker's admin listener and a
// bounded wait for state that settles asynchronously (acks, cursors, cleanup).

#include <boost/json.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "tests/integration/fixtures.hpp"

namespace sealcast::test {

namespace json = boost::json;

/// An admin answer: the HTTP status and the body parsed as JSON (null when it is not JSON).
struct admin_answer {
  int status = 0;
  json::value body;
  std::string raw;
};

inline admin_answer admin_call(const broker_fixture& f, const std::string& method, const std::string& target,
                               const header_pairs& headers = {}) {
  auto r = http_call("127.0.0.1", f.broker->admin_port(), method, target, headers);
  admin_answer a;
  a.status = r.status;
  a.raw = r.body;
  boost::system::error_code ec;
  a.body = json::parse(r.body, ec);
  if (ec) a.body = nullptr;
  return a;
}

inline admin_answer admin_get(const broker_fixture& f, const std::string& target, const header_pairs& headers = {}) {
  return admin_call(f, "GET", target, headers);
}

/// GET that must answer 200 with a JSON object.
inline json::object admin_ok(const broker_fixture& f, const std::string& target) {
  auto a = admin_get(f, target);
  INFO(target << " -> " << a.status << " " << a.raw);
  REQUIRE(a.status == 200);
  REQUIRE(a.body.is_object());
  return a.body.as_object();
}

/// Polls `pred` until it holds or `timeout` passes; answers the last result.
inline bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

/// A JSON number as u64 (counters), -1 when absent or not an integer.
inline std::int64_t num(const json::value& v) {
  if (v.is_uint64()) return static_cast<std::int64_t>(v.as_uint64());
  if (v.is_int64()) return v.as_int64();
  return -1;
}

/// stats[section][key].
inline std::int64_t stat(const json::object& stats, const char* section, const char* key) {
  auto* s = stats.if_contains(section);
  if (!s || !s->is_object()) return -1;
  auto* v = s->as_object().if_contains(key);
  return v ? num(*v) : -1;
}

inline std::string str(const json::value& v) { return v.is_string() ? std::string(v.as_string()) : std::string(); }

}  // namespace sealcast::test
