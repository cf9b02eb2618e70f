#include "tests/support/nats_cluster.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace sealcast::test {

namespace {

using steady = std::chrono::steady_clock;

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A loopback port nobody listens on right now (bound, read back, closed). Another process could
// take it before nats-server binds it; on a test machine that is rare, and start() says so.
unsigned short free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("bind to a free port failed");
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

// One HTTP/1.0 GET on loopback with a short timeout; "" on any failure.
std::string http_get(unsigned short port, std::string_view path) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return {};
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  timeval tv{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    std::string req = "GET " + std::string(path) + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
      char buf[4096];
      ssize_t n = 0;
      while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return out;
}

// Waits for pid to exit; SIGKILLs it after the timeout.
void reap(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = steady::now() + timeout;
  int st = 0;
  while (steady::now() < deadline) {
    pid_t r = ::waitpid(pid, &st, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &st, 0);
}

}  // namespace

nats_cluster::nats_cluster(int servers, std::chrono::milliseconds ready_timeout) {
  if (servers < 1) throw std::invalid_argument("nats_cluster: at least one server");
  servers_.resize(static_cast<std::size_t>(servers));
  for (int i = 0; i < servers; ++i) {
    auto& s = servers_[static_cast<std::size_t>(i)];
    s.name = "n" + std::to_string(i);
    s.client_port = free_port();
    s.cluster_port = free_port();
    s.monitor_port = free_port();
    s.store = dir_.path() / s.name / "store";
    s.config = dir_.path() / s.name / "nats.conf";
    s.log = dir_.path() / s.name / "nats.log";
    std::filesystem::create_directories(s.store);
  }
  for (int i = 0; i < servers; ++i) {
    const auto& s = servers_[static_cast<std::size_t>(i)];
    std::ofstream conf(s.config);
    conf << "server_name: \"" << s.name << "\"\n"
         << "listen: \"127.0.0.1:" << s.client_port << "\"\n"
         << "http: \"127.0.0.1:" << s.monitor_port << "\"\n"
         << "jetstream {\n  store_dir: \"" << s.store.string() << "\"\n"
         << "  max_memory_store: 268435456\n  max_file_store: 2147483648\n}\n";
    if (servers > 1) {
      conf << "cluster {\n  name: \"sc-test\"\n  listen: \"127.0.0.1:" << s.cluster_port << "\"\n  routes: [\n";
      for (int j = 0; j < servers; ++j) {
        if (j == i) continue;
        conf << "    \"nats-route://127.0.0.1:" << servers_[static_cast<std::size_t>(j)].cluster_port << "\"\n";
      }
      conf << "  ]\n}\n";
    }
  }
  try {
    for (int i = 0; i < servers; ++i) start(i);
    wait_ready(ready_timeout);
  } catch (...) {
    for (auto& s : servers_)
      if (s.pid > 0) {
        ::kill(s.pid, SIGKILL);
        reap(s.pid, std::chrono::seconds(5));
      }
    throw;
  }
}

nats_cluster::~nats_cluster() {
  // SIGKILL: nothing of the store is needed afterwards, and it is the fastest way out.
  for (auto& s : servers_) {
    if (s.pid <= 0) continue;
    ::kill(s.pid, SIGKILL);
    reap(s.pid, std::chrono::seconds(5));
    s.pid = -1;
  }
}

void nats_cluster::start(int i) {
  auto& s = servers_.at(static_cast<std::size_t>(i));
  const char* bin = std::getenv("SEALCAST_TEST_NATS_SERVER");
  std::string program = bin != nullptr && *bin != '\0' ? bin : "nats-server";
  std::string config = s.config.string();
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int log_fd = ::open(s.log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    int null_fd = ::open("/dev/null", O_RDONLY);
    if (log_fd >= 0) {
      ::dup2(log_fd, 1);
      ::dup2(log_fd, 2);
    }
    if (null_fd >= 0) ::dup2(null_fd, 0);
    std::vector<char*> argv = {program.data(), const_cast<char*>("-c"), config.data(), nullptr};
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  s.pid = pid;
}

std::string nats_cluster::client_url(int i) const {
  return "nats://127.0.0.1:" + std::to_string(servers_.at(static_cast<std::size_t>(i)).client_port);
}

std::vector<std::string> nats_cluster::client_urls() const {
  std::vector<std::string> out;
  for (int i = 0; i < size(); ++i) out.push_back(client_url(i));
  return out;
}

std::string nats_cluster::client_urls_csv() const {
  std::string out;
  for (const auto& u : client_urls()) out += (out.empty() ? "" : ",") + u;
  return out;
}

int nats_cluster::index_of(std::string_view server_name) const {
  for (int i = 0; i < size(); ++i)
    if (servers_[static_cast<std::size_t>(i)].name == server_name) return i;
  return -1;
}

std::string nats_cluster::monitor_get(int i, std::string_view path) const {
  std::string r = http_get(servers_.at(static_cast<std::size_t>(i)).monitor_port, path);
  auto body = r.find("\r\n\r\n");
  return body == std::string::npos ? std::string() : r.substr(body + 4);
}

bool nats_cluster::healthy(int i) const {
  // 200 with {"status":"ok"} once JetStream is enabled, a meta leader is known, this server is
  // current with it and with every stream it holds a replica of (nats-server 2.9.10 healthz).
  std::string r = http_get(servers_.at(static_cast<std::size_t>(i)).monitor_port, "/healthz");
  return r.rfind("HTTP/1.1 200", 0) == 0 || r.rfind("HTTP/1.0 200", 0) == 0;
}

void nats_cluster::wait_healthy(int i, steady::time_point deadline) {
  auto& s = servers_.at(static_cast<std::size_t>(i));
  while (!healthy(i)) {
    int st = 0;
    if (s.pid > 0 && ::waitpid(s.pid, &st, WNOHANG) == s.pid) {
      s.pid = -1;
      throw std::runtime_error("nats-server " + s.name + " exited while starting (a port taken?); log:\n" + log(i));
    }
    if (steady::now() > deadline)
      throw std::runtime_error("nats-server " + s.name +
                               " not healthy in time; healthz: " + monitor_get(i, "/healthz") + "\nlog:\n" + log(i));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void nats_cluster::wait_ready(std::chrono::milliseconds timeout) {
  auto deadline = steady::now() + timeout;
  for (int i = 0; i < size(); ++i)
    if (running(i)) wait_healthy(i, deadline);
}

void nats_cluster::kill(int i) {
  auto& s = servers_.at(static_cast<std::size_t>(i));
  if (s.pid <= 0) throw std::runtime_error("nats-server " + s.name + " is not running");
  ::kill(s.pid, SIGKILL);
  reap(s.pid, std::chrono::seconds(5));
  s.pid = -1;
}

void nats_cluster::pause(int i) {
  if (!running(i)) throw std::runtime_error("nats-server " + name(i) + " is not running");
  ::kill(pid(i), SIGSTOP);
}

void nats_cluster::resume(int i) {
  if (!running(i)) throw std::runtime_error("nats-server " + name(i) + " is not running");
  ::kill(pid(i), SIGCONT);
}

void nats_cluster::restart(int i, std::chrono::milliseconds ready_timeout) {
  if (running(i)) kill(i);
  start(i);
  wait_healthy(i, steady::now() + ready_timeout);
}

std::string nats_cluster::log(int i) const { return slurp(servers_.at(static_cast<std::size_t>(i)).log); }

}  // namespace sealcast::test
