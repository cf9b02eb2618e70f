#pragma once

// The set of exchanges a listener must be able to end on stop(), shared by both listeners.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace sealcast::broker::detail {

/// Anything stop() must be able to end: WebSocket sessions, HTTP exchanges.
class closable {
 public:
  virtual ~closable() = default;
  /// Begins ending the exchange (1001 for WebSocket sessions); thread-safe, never blocks.
  virtual void shut_down() = 0;
  /// Drops the socket at once; thread-safe, never blocks.
  virtual void abort() = 0;
};

/// Live exchanges by id, with a way to end them all and wait until they are gone.
class live_set {
 public:
  /// Refuses further registrations (add() returns false from now on).
  void begin_stop() {
    const std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  /// Registers a live exchange; returns false (and registers nothing) once stopping.
  [[nodiscard]] bool add(std::uint64_t id, std::weak_ptr<closable> c) {
    const std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return false;
    live_.emplace(id, std::move(c));
    return true;
  }
  /// Forgets an exchange that has ended.
  void remove(std::uint64_t id) {
    const std::lock_guard<std::mutex> lock(mu_);
    live_.erase(id);
    if (live_.empty()) idle_.notify_all();
  }
  /// Calls shut_down() (or abort() when `hard`) on every live exchange.
  void for_each(bool hard) {
    std::unordered_map<std::uint64_t, std::weak_ptr<closable>> copy;
    {
      const std::lock_guard<std::mutex> lock(mu_);
      copy = live_;
    }
    for (auto& entry : copy) {
      if (auto c = entry.second.lock()) hard ? c->abort() : c->shut_down();
    }
  }
  /// Ends every live exchange: shut_down() for each, and what is still live after `grace` is
  /// aborted (then at most 1 s more for it to go). Call after begin_stop().
  void end_all(std::chrono::milliseconds grace) {
    for_each(false);
    if (wait_idle(grace)) return;
    for_each(true);
    (void)wait_idle(std::chrono::seconds(1));
  }
  /// Waits until nothing is live or the time runs out; true when nothing is live.
  template <class Duration>
  [[nodiscard]] bool wait_idle(Duration d) {
    std::unique_lock<std::mutex> lock(mu_);
    return idle_.wait_for(lock, d, [&] { return live_.empty(); });
  }

 private:
  std::mutex mu_;
  std::condition_variable idle_;
  std::unordered_map<std::uint64_t, std::weak_ptr<closable>> live_;
  bool stopping_ = false;
};

}  // namespace sealcast::broker::detail
