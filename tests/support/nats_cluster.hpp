#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/temp_dir.hpp"

namespace sealcast::test {

/// Real `nats-server` processes with JetStream, clustered when there is more than one: each on
/// free loopback ports (client, cluster route, monitoring) with its own config file and store
/// directory under one temporary directory. Servers are named n0, n1, ... (the names JetStream
/// reports as stream leaders). Every method that fails throws std::runtime_error with the
/// server's log attached; the destructor kills what is still running and removes the files.
class nats_cluster {
 public:
  /// Starts `servers` (1 or 3 make sense) and waits until each reports healthy on /healthz
  /// (JetStream enabled, meta leader known and current).
  explicit nats_cluster(int servers = 3, std::chrono::milliseconds ready_timeout = std::chrono::seconds(30));
  ~nats_cluster();
  nats_cluster(const nats_cluster&) = delete;
  nats_cluster& operator=(const nats_cluster&) = delete;

  [[nodiscard]] int size() const { return static_cast<int>(servers_.size()); }
  /// nats://127.0.0.1:<port> of server i.
  [[nodiscard]] std::string client_url(int i) const;
  /// The client URLs of all servers, running or not (a client given all of them fails over).
  [[nodiscard]] std::vector<std::string> client_urls() const;
  /// The same, comma-separated, for a configuration file or a command line.
  [[nodiscard]] std::string client_urls_csv() const;
  /// Server i's name (n<i>).
  [[nodiscard]] const std::string& name(int i) const { return servers_.at(static_cast<std::size_t>(i)).name; }
  /// The index of the server with this name, or -1.
  [[nodiscard]] int index_of(std::string_view server_name) const;
  /// The pid of server i's nats-server process itself, or -1 when it is not running.
  [[nodiscard]] pid_t pid(int i) const { return servers_.at(static_cast<std::size_t>(i)).pid; }
  [[nodiscard]] bool running(int i) const { return pid(i) > 0; }
  [[nodiscard]] unsigned short monitor_port(int i) const {
    return servers_.at(static_cast<std::size_t>(i)).monitor_port;
  }
  [[nodiscard]] const std::filesystem::path& store_dir(int i) const {
    return servers_.at(static_cast<std::size_t>(i)).store;
  }

  /// kill -9 of server i by its pid; waits for it to be gone.
  void kill(int i);
  /// SIGSTOP / SIGCONT of server i: it keeps its sockets but answers nothing while stopped.
  void pause(int i);
  void resume(int i);
  /// Starts server i again with the same configuration, ports and store directory; waits until
  /// /healthz says it is current with the meta leader and its streams.
  void restart(int i, std::chrono::milliseconds ready_timeout = std::chrono::seconds(30));
  /// Waits until every running server is healthy.
  void wait_ready(std::chrono::milliseconds timeout);
  /// GET `path` on server i's monitoring port: the body, or "" when it does not answer.
  [[nodiscard]] std::string monitor_get(int i, std::string_view path) const;
  /// Server i's log so far.
  [[nodiscard]] std::string log(int i) const;

 private:
  struct server {
    std::string name;
    unsigned short client_port = 0;
    unsigned short cluster_port = 0;
    unsigned short monitor_port = 0;
    std::filesystem::path config;
    std::filesystem::path store;
    std::filesystem::path log;
    pid_t pid = -1;
  };

  void start(int i);
  [[nodiscard]] bool healthy(int i) const;
  void wait_healthy(int i, std::chrono::steady_clock::time_point deadline);

  temp_dir dir_;
  std::vector<server> servers_;
};

}  // namespace sealcast::test
