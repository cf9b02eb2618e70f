// Memory per idle authenticated connection (hidden: run with `gateway_tests [.bench]`).
//
// The clients run in a forked child process over raw sockets, so that the gateway process's RSS
// growth is the gateway's alone (and each process stays under its descriptor limit).

#include "gateway/gateway.hpp"

#include <catch2/catch_test_macros.hpp>

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace sealcast::broker;
using namespace std::chrono_literals;

namespace {

long rss_kb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

void raise_fd_limit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
  }
}

bool write_all(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    const auto w = ::write(fd, p, n);
    if (w <= 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

bool read_exact(int fd, char* p, std::size_t n) {
  while (n > 0) {
    const auto r = ::read(fd, p, n);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

/// One raw client: connect, upgrade, send a masked "hello", read the 9-byte "welcome" frame.
int open_client(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return ::close(fd), -1;
  const std::string req =
      "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
      "Sec-WebSocket-Protocol: sealcast.v2\r\n\r\n";
  if (!write_all(fd, req.data(), req.size())) return ::close(fd), -1;
  std::string res;
  char c = 0;
  while (res.size() < 4 || res.compare(res.size() - 4, 4, "\r\n\r\n") != 0) {
    if (::read(fd, &c, 1) != 1) return ::close(fd), -1;
    res += c;
  }
  if (res.rfind("HTTP/1.1 101", 0) != 0) return ::close(fd), -1;
  const char hello[] = {'\x81', '\x85', 0, 0, 0, 0, 'h', 'e', 'l', 'l', 'o'};  // zero mask key
  char welcome[9];
  if (!write_all(fd, hello, sizeof hello) || !read_exact(fd, welcome, sizeof welcome)) return ::close(fd), -1;
  return fd;
}

class counting_handler final : public connection_handler {
 public:
  void on_open(std::shared_ptr<connection> conn) override {
    const std::lock_guard<std::mutex> lock(mu_);
    conns_.push_back(std::move(conn));  // the broker keeps a pointer per connection too
  }
  void on_text(const std::shared_ptr<connection>& conn, std::string&&) override {
    conn->mark_authenticated();
    conn->send(welcome_);
    ++authenticated;
  }
  void on_close(const std::shared_ptr<connection>&, const close_reason&) override {}
  std::atomic<int> authenticated{0};

 private:
  std::mutex mu_;
  std::vector<std::shared_ptr<connection>> conns_;
  std::shared_ptr<const std::string> welcome_ = std::make_shared<const std::string>("welcome");
};

}  // namespace

TEST_CASE("gateway keeps idle authenticated connections small", "[.bench][gateway]") {
  const int n = std::getenv("SEALCAST_BENCH_CONNECTIONS") ? std::atoi(std::getenv("SEALCAST_BENCH_CONNECTIONS")) : 10000;
  raise_fd_limit();
  int to_child[2];
  int to_parent[2];
  REQUIRE(::pipe(to_child) == 0);
  REQUIRE(::pipe(to_parent) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {  // the clients: no Catch2, no threads, _exit only
    ::close(to_child[1]);
    ::close(to_parent[0]);
    std::uint16_t port = 0;
    if (!read_exact(to_child[0], reinterpret_cast<char*>(&port), sizeof port)) ::_exit(2);
    std::vector<int> fds;
    for (int i = 0; i < n; ++i) {
      const int fd = open_client(port);
      if (fd < 0) break;
      fds.push_back(fd);
    }
    const int opened = static_cast<int>(fds.size());
    write_all(to_parent[1], reinterpret_cast<const char*>(&opened), sizeof opened);
    char c;
    (void)::read(to_child[0], &c, 1);  // until the parent is done measuring
    ::_exit(0);
  }
  ::close(to_child[0]);
  ::close(to_parent[1]);

  counting_handler handler;
  gateway_options o;
  o.listen = "127.0.0.1:0";
  o.max_connections = static_cast<std::size_t>(n) + 10;
  o.auth_timeout_ms = 60000;
  gateway gw(o, handler);
  auto ep = gw.start();
  REQUIRE(ep.ok());
  std::this_thread::sleep_for(200ms);
  const long before = rss_kb();
  const auto heap_before = mallinfo2().uordblks;
  const auto t0 = std::chrono::steady_clock::now();
  write_all(to_child[1], reinterpret_cast<const char*>(&ep->port), sizeof ep->port);
  int opened = 0;
  REQUIRE(read_exact(to_parent[0], reinterpret_cast<char*>(&opened), sizeof opened));
  const auto setup = std::chrono::steady_clock::now() - t0;
  std::this_thread::sleep_for(500ms);
  const long after = rss_kb();
  const auto heap_after = mallinfo2().uordblks;
  std::cout << "gateway bench: heap in use " << (heap_after - heap_before) / static_cast<std::size_t>(std::max(opened, 1))
            << " bytes per connection\n";
  const double per_connection = (static_cast<double>(after - before) * 1024.0) / std::max(opened, 1);
  std::cout << "gateway bench: " << opened << " idle authenticated connections, RSS " << before << " kB -> "
            << after << " kB, " << static_cast<long>(per_connection) << " bytes per connection, set up in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(setup).count() << " ms\n";
  CHECK(opened == n);
  CHECK(handler.authenticated.load() == n);
  CHECK(gw.connection_count() == static_cast<std::size_t>(n));
  CHECK(per_connection <= 8192.0);

  ::close(to_child[1]);  // the child exits and its sockets close
  int status = 0;
  ::waitpid(pid, &status, 0);
  for (int i = 0; i < 500 && gw.connection_count() > 0; ++i) std::this_thread::sleep_for(10ms);
  CHECK(gw.connection_count() == 0);
  gw.stop();
}
