#pragma once

// Private to the admin API (admin_*.cpp, metrics.cpp): the shared context, the worker thread
// that runs store reads off the io threads, query-parameter parsing and JSON answers.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "actors/services.hpp"
#include "gateway/http_server.hpp"
#include "common/bytes.hpp"
#include "common/error.hpp"

namespace sealcast::broker::admin {

/// One thread for the admin API's blocking work (RocksDB reads, event replay) and its periodic
/// work (SSE heartbeats), so that neither an io thread nor a CAF worker waits on it.
class worker {
 public:
  /// `tick` runs on the thread about every `period`.
  worker(std::chrono::milliseconds period, std::function<void()> tick);
  ~worker();
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;

  /// Queues a task; dropped after stop().
  void post(std::function<void()> task);
  /// Runs what is queued, then ends the thread. Idempotent.
  void stop();

 private:
  void run();

  std::chrono::milliseconds period_;
  std::function<void()> tick_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

/// Answers `{"error": message}` with `status`.
void respond_error(const responder& r, unsigned status, std::string_view message);
/// Answers a JSON body with 200 (or `status`).
void respond_json(const responder& r, std::string body, unsigned status = 200);

// Query parameters. Each answers errc::bad_request with a message naming the parameter.

/// `limit`: absent -> `fallback`; otherwise 1..`max`.
[[nodiscard]] result<std::size_t> parse_limit(const http_request& req, std::size_t fallback, std::size_t max);
/// An unsigned integer parameter: absent -> `fallback`.
[[nodiscard]] result<std::uint64_t> parse_u64(const http_request& req, std::string_view name, std::uint64_t fallback);
/// An unsigned integer in text.
[[nodiscard]] result<std::uint64_t> parse_u64_text(std::string_view text, std::string_view what);
/// An id (32 hex characters); `what` names it in the message.
[[nodiscard]] result<id16> parse_id(std::string_view text, std::string_view what);
/// An optional id parameter: absent -> nullopt.
[[nodiscard]] result<std::optional<id16>> parse_id_param(const http_request& req, std::string_view name);

}  // namespace sealcast::broker::admin
