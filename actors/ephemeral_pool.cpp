#include "actors/ephemeral_pool.hpp"

namespace sealcast::actors {

namespace {
/// Pairs made per lock: small enough that take() never waits long behind the refill.
constexpr std::size_t refill_chunk = 32;
}  // namespace

ephemeral_pool::ephemeral_pool(std::size_t capacity) : capacity_(capacity), thread_([this] { run(); }) {}

ephemeral_pool::~ephemeral_pool() { stop(); }

void ephemeral_pool::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::vector<crypto::hpke_ephemeral> ephemeral_pool::take(std::size_t n) {
  std::vector<crypto::hpke_ephemeral> out;
  {
    std::lock_guard lock(mutex_);
    const auto k = std::min(n, ready_.size());
    out.reserve(k);
    for (std::size_t i = 0; i < k; ++i) {
      out.push_back(std::move(ready_.back()));
      ready_.pop_back();
    }
  }
  wake_.notify_one();
  return out;
}

void ephemeral_pool::run() {
  std::vector<crypto::hpke_ephemeral> made;
  for (;;) {
    std::size_t want = 0;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || ready_.size() < capacity_; });
      if (stopping_) return;
      want = std::min(refill_chunk, capacity_ - ready_.size());
    }
    made.clear();
    for (std::size_t i = 0; i < want; ++i) made.push_back(crypto::hpke_ephemeral::generate());
    std::lock_guard lock(mutex_);
    for (auto& e : made) ready_.push_back(std::move(e));
  }
}

}  // namespace sealcast::actors
