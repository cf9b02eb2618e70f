#include "tests/support/broker_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <random>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#ifndef SEALCAST_BIN_DIR
#error "SEALCAST_BIN_DIR must point at build/bin"
#endif

namespace sealcast::test {

namespace {

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Reads from fd until `done(text)` or the deadline; returns what was read.
std::string read_until(int fd, std::chrono::steady_clock::time_point deadline,
                       const std::function<bool(const std::string&)>& done) {
  std::string text;
  char buf[4096];
  while (!done(text)) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  return text;
}

int wait_for(int pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int st = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    int r = ::waitpid(pid, &st, WNOHANG);
    if (r == pid) return st;
    if (r < 0) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &st, 0);
  throw std::runtime_error("process " + std::to_string(pid) + " did not exit in time");
}

}  // namespace

std::string bin_path(const std::string& name) { return std::string(SEALCAST_BIN_DIR) + "/" + name; }

broker_process::broker_process(std::filesystem::path data_dir, std::vector<std::string> extra_args,
                               std::chrono::milliseconds ready_timeout) {
  // SEALCAST_TEST_SEALCASTD runs another build (measurements against a baseline).
  const char* other = std::getenv("SEALCAST_TEST_SEALCASTD");
  std::vector<std::string> args = {other != nullptr && *other != '\0' ? std::string(other) : bin_path("sealcastd"),
                                   "--set", "broker.data_dir=" + data_dir.string(),
                                   "--set", "gateway.listen=127.0.0.1:0",
                                   "--set", "admin.listen=127.0.0.1:0"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  log_path_ = data_dir.parent_path() / ("sealcastd-" + data_dir.filename().string() + "-" + std::to_string(std::random_device{}()) + ".log");

  int out_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::dup2(out_pipe[1], 1);
    int log_fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (log_fd >= 0) ::dup2(log_fd, 2);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  stdout_fd_ = out_pipe[0];

  auto deadline = std::chrono::steady_clock::now() + ready_timeout;
  std::string text = read_until(stdout_fd_, deadline, [](const std::string& t) {
    return t.find("sealcastd ready") != std::string::npos && t.find('\n', t.find("sealcastd ready")) != std::string::npos;
  });
  static const std::regex ready(R"(sealcastd ready client=wss?://[^:]+:(\d+)/ws admin=https?://[^:]+:(\d+) broker=([0-9a-f]{32}))");
  std::smatch m;
  if (!std::regex_search(text, m, ready)) {
    ::kill(pid_, SIGKILL);
    int st = 0;
    ::waitpid(pid_, &st, 0);
    pid_ = -1;
    throw std::runtime_error("sealcastd did not print its ready line; stdout: " + text + "\nstderr: " + slurp(log_path_));
  }
  ready_line_ = m[0].str();
  client_port_ = static_cast<unsigned short>(std::stoi(m[1].str()));
  admin_port_ = static_cast<unsigned short>(std::stoi(m[2].str()));
  broker_id_ = m[3].str();
}

broker_process::~broker_process() {
  if (pid_ > 0) {
    try {
      stop(SIGTERM);
    } catch (...) {
    }
  }
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
}

int broker_process::stop(int signal_number, std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, signal_number);
  int st = wait_for(pid_, timeout);
  pid_ = -1;
  return st;
}

void broker_process::signal(int signal_number) const {
  if (pid_ > 0) ::kill(pid_, signal_number);
}

std::vector<std::string> cluster_args(const cluster_settings& c) {
  std::vector<std::string> out;
  for (const auto& kv : {"cluster.nats=" + c.nats, "cluster.node=" + c.node,
                         "cluster.partitions=" + std::to_string(c.partitions),
                         "cluster.lease_ms=" + std::to_string(c.lease_ms),
                         "cluster.lease_margin_ms=" + std::to_string(c.lease_margin_ms),
                         "cluster.heartbeat_ms=" + std::to_string(c.heartbeat_ms),
                         "cluster.replicas=" + std::to_string(c.replicas)}) {
    out.push_back("--set");
    out.push_back(kv);
  }
  return out;
}

std::string broker_process::log() const { return slurp(log_path_); }

run_result run_program(const std::string& program, const std::vector<std::string>& args,
                       std::chrono::milliseconds timeout) {
  temp_dir tmp;
  auto out_path = tmp.path() / "out";
  auto err_path = tmp.path() / "err";
  int pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int in = ::open("/dev/null", O_RDONLY);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::dup2(in, 0);
    std::vector<std::string> all = {program};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int st = wait_for(pid, timeout);
  run_result r;
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  r.out = slurp(out_path);
  r.err = slurp(err_path);
  return r;
}

}  // namespace sealcast::test
