// The child of the crash-durability test: opens the store with sync=true, commits publishes one
// by one, reports each acknowledged seq as a u64 on a pipe, and ends with _exit (or is killed by
// the parent) without ever closing the store. A separate program rather than a bare fork() so
// that the child does not inherit the parent's RocksDB thread-pool state.
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "persistence/store.hpp"
#include "sample_records.hpp"

using namespace sealcast::persistence;

namespace {

bool write_all(int fd, const void* data, std::size_t n) {
  const auto* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

}  // namespace

// Usage: persistence_crash_child DB_PATH COUNT ACK_FD
int main(int argc, char** argv) {
  if (argc != 4) _exit(64);
  store_options o;
  o.path = argv[1];
  o.sync = true;
  o.write_buffer_mb = 4;
  const std::uint64_t count = std::strtoull(argv[2], nullptr, 10);
  const int ack_fd = std::atoi(argv[3]);

  auto st = store::open(o);
  if (!st) _exit(65);
  auto g = test::sample_group(1);
  g.next_seq = 1;
  for (std::uint64_t seq = 1; seq <= count; ++seq) {
    if (!(*st)->write(test::publish_batch(g, seq), true)) _exit(66);
    // Only now is the publish acknowledged: the parent may count on it.
    if (!write_all(ack_fd, &seq, sizeof seq)) _exit(67);
  }
  _exit(0);  // no close, no destructors: as abrupt as a crash after the last ack
}
