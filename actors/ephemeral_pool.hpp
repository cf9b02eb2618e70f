#pragma once

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>
#include <vector>

#include "crypto/hpke.hpp"

namespace sealcast::actors {

/// HPKE ephemeral key pairs generated ahead of time on a background thread, so that a rotation
/// spends one X25519 multiplication per member instead of two. Each pair is used once (the
/// type enforces it) and its secret lives in a wiping container, as a freshly made one would.
class ephemeral_pool {
 public:
  /// Keeps up to `capacity` pairs ready; refills whenever it drops below.
  explicit ephemeral_pool(std::size_t capacity);
  ~ephemeral_pool();
  ephemeral_pool(const ephemeral_pool&) = delete;
  ephemeral_pool& operator=(const ephemeral_pool&) = delete;

  /// Takes up to `n` ready pairs without waiting (fewer, or none, when the pool runs low).
  [[nodiscard]] std::vector<crypto::hpke_ephemeral> take(std::size_t n);
  /// Stops the refill thread.
  void stop();

 private:
  void run();

  const std::size_t capacity_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<crypto::hpke_ephemeral> ready_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace sealcast::actors
