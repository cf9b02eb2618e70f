#include "broker/admin_support.hpp"

#include <boost/json.hpp>

#include <charconv>

namespace sealcast::broker::admin {

// -- worker -----------------------------------------------------------------------------------

worker::worker(std::chrono::milliseconds period, std::function<void()> tick)
    : period_(period), tick_(std::move(tick)), thread_([this] { run(); }) {}

worker::~worker() { stop(); }

void worker::post(std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    queue_.push_back(std::move(task));
  }
  wake_.notify_one();
}

void worker::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void worker::run() {
  auto next_tick = std::chrono::steady_clock::now() + period_;
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mutex_);
      wake_.wait_until(lock, next_tick, [this] { return stopping_ || !queue_.empty(); });
      if (!queue_.empty()) {
        task = std::move(queue_.front());
        queue_.pop_front();
      } else if (stopping_) {
        return;
      }
    }
    if (task) task();
    if (std::chrono::steady_clock::now() >= next_tick) {
      if (tick_) tick_();
      next_tick = std::chrono::steady_clock::now() + period_;
    }
  }
}

// -- answers ----------------------------------------------------------------------------------

void respond_error(const responder& r, unsigned status, std::string_view message) {
  boost::json::object o;
  o["error"] = message;
  r.respond(status, "application/json", boost::json::serialize(o) + "\n");
}

void respond_json(const responder& r, std::string body, unsigned status) {
  body += '\n';
  r.respond(status, "application/json", std::move(body), {{"Cache-Control", "no-store"}});
}

// -- parameters -------------------------------------------------------------------------------

result<std::uint64_t> parse_u64_text(std::string_view text, std::string_view what) {
  std::uint64_t v = 0;
  const auto* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc{} || p != end)
    return error{errc::bad_request, std::string(what) + " must be a non-negative integer, got '" +
                                        std::string(text.substr(0, 64)) + "'"};
  return v;
}

result<std::uint64_t> parse_u64(const http_request& req, std::string_view name, std::uint64_t fallback) {
  auto v = req.query_value(name);
  if (!v) return fallback;
  return parse_u64_text(*v, "parameter '" + std::string(name) + "'");
}

result<std::size_t> parse_limit(const http_request& req, std::size_t fallback, std::size_t max) {
  auto v = parse_u64(req, "limit", fallback);
  if (!v) return std::move(v).err();
  if (*v < 1 || *v > max)
    return error{errc::bad_request, "parameter 'limit' must be between 1 and " + std::to_string(max)};
  return static_cast<std::size_t>(*v);
}

result<id16> parse_id(std::string_view text, std::string_view what) {
  auto id = id16::from_hex(text);
  if (!id)
    return error{errc::bad_request,
                 std::string(what) + " must be 32 hex characters, got '" + std::string(text.substr(0, 64)) + "'"};
  return *id;
}

result<std::optional<id16>> parse_id_param(const http_request& req, std::string_view name) {
  auto v = req.query_value(name);
  if (!v) return std::optional<id16>{};
  auto id = parse_id(*v, "parameter '" + std::string(name) + "'");
  if (!id) return std::move(id).err();
  return std::optional<id16>(*id);
}

}  // namespace sealcast::broker::admin
