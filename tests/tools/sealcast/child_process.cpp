#include "tests/tools/sealcast/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>

extern char** environ;

namespace sealcast::test {

namespace {

void make_pipe(int fds[2]) {
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
}

int decode(int st) { return WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1; }

}  // namespace

child_process::child_process(const std::string& program, const std::vector<std::string>& args,
                             const std::map<std::string, std::string>& env) {
  // Everything the child needs is prepared before fork: only async-signal-safe calls after it.
  std::vector<std::string> argv_s = {program};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_s;
  for (char** e = environ; *e; ++e) {
    const std::string_view kv(*e);
    const auto name = kv.substr(0, kv.find('='));
    if (!env.contains(std::string(name))) env_s.emplace_back(kv);
  }
  for (const auto& [k, v] : env) env_s.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_s) envp.push_back(s.data());
  envp.push_back(nullptr);

  int in[2], out[2], err[2];
  make_pipe(in);
  make_pipe(out);
  make_pipe(err);
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::setsid();
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  in_ = in[1];
  out_fd_ = out[0];
  err_fd_ = err[0];
  ::fcntl(out_fd_, F_SETFL, O_NONBLOCK);
  ::fcntl(err_fd_, F_SETFL, O_NONBLOCK);
}

child_process::~child_process() {
  if (!exited_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status_, 0);
  }
  for (int fd : {in_, out_fd_, err_fd_})
    if (fd >= 0) ::close(fd);
}

void child_process::write(std::string_view text) {
  while (!text.empty() && in_ >= 0) {
    const auto n = ::write(in_, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error("cannot write to the child's stdin");
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

void child_process::close_stdin() {
  if (in_ >= 0) ::close(in_);
  in_ = -1;
}

void child_process::pump(std::chrono::milliseconds timeout) {
  pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
  const int r = ::poll(fds, 2, static_cast<int>(timeout.count()));
  if (r <= 0) return;
  char buf[4096];
  for (int i = 0; i < 2; ++i) {
    if (fds[i].fd < 0) continue;
    for (;;) {
      const auto n = ::read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) break;
      (i == 0 ? out_ : err_).append(buf, static_cast<std::size_t>(n));
    }
  }
}

const std::string& child_process::out() {
  pump(std::chrono::milliseconds(0));
  return out_;
}

const std::string& child_process::err() {
  pump(std::chrono::milliseconds(0));
  return err_;
}

bool child_process::wait_for(const std::string& stream, std::string_view needle, std::chrono::milliseconds timeout,
                             std::size_t from) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    pump(std::chrono::milliseconds(0));
    if (stream.size() > from && stream.find(needle, from) != std::string::npos) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    if (!exited_) {
      int st = 0;
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        exited_ = true;
        status_ = st;
      }
    } else {
      // Exited: one last drain already happened above.
      pump(std::chrono::milliseconds(0));
      return stream.size() > from && stream.find(needle, from) != std::string::npos;
    }
    pump(std::chrono::milliseconds(20));
  }
}

bool child_process::wait_out(std::string_view needle, std::chrono::milliseconds timeout, std::size_t from) {
  return wait_for(out_, needle, timeout, from);
}

bool child_process::wait_err(std::string_view needle, std::chrono::milliseconds timeout, std::size_t from) {
  return wait_for(err_, needle, timeout, from);
}

int child_process::wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!exited_) {
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      exited_ = true;
      status_ = st;
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status_, 0);
      exited_ = true;
      pump(std::chrono::milliseconds(0));
      return -1;
    }
    pump(std::chrono::milliseconds(10));
  }
  pump(std::chrono::milliseconds(0));
  return decode(status_);
}

int child_process::stop(int signal_number, std::chrono::milliseconds timeout) {
  if (!exited_) ::kill(pid_, signal_number);
  return wait(timeout);
}

cli_result run_cli(const std::string& program, const std::vector<std::string>& args,
                   const std::map<std::string, std::string>& env, std::string_view input,
                   std::chrono::milliseconds timeout) {
  child_process p(program, args, env);
  if (!input.empty()) p.write(input);
  p.close_stdin();
  cli_result r;
  r.code = p.wait(timeout);
  r.out = p.out();
  r.err = p.err();
  return r;
}

}  // namespace sealcast::test
