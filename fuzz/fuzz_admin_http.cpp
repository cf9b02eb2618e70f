// libFuzzer target: the admin HTTP request path, i.e. what sealcastd does with the bytes a client
// sends to its admin listener. The real http_server (Beast's request parser with the header and
// body limits, the bearer-token check, Boost.URL target parsing, the router) runs with the real
// admin routes (register_admin_routes: stats, metrics, groups, users, messages, events and their
// stream, rotate, the dashboard) over a real RocksDB store seeded with a few records. There is no
// actor system: the routes that ask actors get "no such group" answers, as from a broker whose
// directory is not running.
//
// Each input is written as-is to a fresh TCP connection to 127.0.0.1 (so several pipelined
// requests, partial requests and garbage all reach the server exactly as sent), then the write
// side is shut and the answer read until the server closes. Checks: no crash, leak or UB in the
// server; every answer is HTTP; the server always answers and closes (no hang), and a handler
// never drops its request (503 "dropped") or times out (504).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "actors/services.hpp"
#include "broker/admin_routes.hpp"
#include "gateway/http_server.hpp"
#include "common/log.hpp"
#include "fuzz/fuzz_check.hpp"
#include "persistence/store.hpp"
#include "persistence/write_batch.hpp"
#include "tests/persistence/sample_records.hpp"

using namespace sealcast;
namespace fs = std::filesystem;

namespace {

/// The token the server requires; the seed corpus and the dictionary carry it.
constexpr std::string_view token = "fuzz-token";
/// An answer must be complete within this: handlers answer in milliseconds, timeouts are 10 s.
constexpr int answer_deadline_ms = 30000;

struct fixture {
  fs::path dir;
  std::unique_ptr<persistence::store> store;
  std::shared_ptr<actors::services> svc;
  std::unique_ptr<broker::http_server> server;
  std::shared_ptr<broker::admin_api> api;
  std::uint16_t port = 0;

  ~fixture() {
    if (server) server->stop();
    if (api) api->stop();
    api.reset();
    server.reset();
    svc.reset();
    if (store) (void)store->close();
    store.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

fixture* the_fixture = nullptr;

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "fuzz_admin_http: %s\n", why.c_str());
  std::exit(1);
}

// Groups 02..01, 02..02 (client custody) and 02..03 (broker custody); users 01..01 to 01..03;
// messages of group 1 (seq 1..3; 2 settled), directs to user 1, events 1..40. Ids in
// tests/persistence/sample_records.hpp form: tag byte, zeros, n at the end.
void seed(persistence::store& store) {
  using namespace persistence::test;
  persistence::write_batch b;
  for (std::uint64_t u = 1; u <= 3; ++u) b.put_user(sample_user(u));
  for (std::uint64_t n = 1; n <= 3; ++n) {
    auto g = sample_group(n);
    if (n == 3) {
      g.custody = key_custody::broker;
      g.policy = group_policy::invite;
      g.pending_epoch = 0;
      g.pending_changes.clear();
    }
    b.put_group(g);
    b.put_member(sample_member(g.id, make_id(1, 1), member_role::owner));
    b.put_member(sample_member(g.id, make_id(2, 1)));
    for (std::uint64_t e = 1; e <= 2; ++e) {
      b.put_epoch(sample_epoch(g.id, e));
      b.put_wrapped_key(g.id, e, make_id(1, 1), filled<80>(static_cast<std::uint8_t>(e)));
    }
  }
  const auto g1 = make_id(1, 2);
  for (std::uint64_t seq = 1; seq <= 3; ++seq) b.put_message(sample_message(g1, seq));
  persistence::message_outcome o;
  o.settled_ms = 1'700'000'000'500;
  o.id = sample_message(g1, 2).id;
  o.group = g1;
  o.seq = 2;
  o.sender = make_id(1, 1);
  o.epoch = 1;
  o.ts_ms = 1'700'000'000'002;
  o.status = persistence::message_outcome_status::expired;
  o.recipient_count = 2;
  o.delivery_attempts = 3;
  o.remaining_recipients = 1;
  b.settle_message(o);
  for (std::uint64_t seq = 1; seq <= 2; ++seq) b.put_direct(sample_direct(make_id(1, 1), seq));
  for (std::uint64_t seq = 1; seq <= 40; ++seq) b.put_event(sample_event(seq));
  b.put_meta_u64(persistence::meta_names::next_event_seq, 41);
  if (auto st = store.write(b, false); !st) die("cannot seed the store: " + st.err().message);
}

fixture* start() {
  auto* f = new fixture;
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/sealcast-fuzz-admin-XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) die("cannot create a temporary directory");
  f->dir = templ;
  auto store = persistence::store::open({(f->dir / "db").string(), false, 8, true});
  if (!store) die("cannot open the store: " + store.err().message);
  f->store = std::move(*store);
  seed(*f->store);

  f->svc = std::make_shared<actors::services>();
  f->svc->store = f->store.get();

  broker::http_server_options o;
  o.listen = "127.0.0.1:0";
  o.admin_token = std::string(token);
  // Small limits so that inputs of a few KiB reach the 413 and 431 answers.
  o.header_limit = 2048;
  o.body_limit = 2048;
  o.read_timeout_ms = 10000;
  o.handler_timeout_ms = 10000;
  f->server = std::make_unique<broker::http_server>(o);
  f->api = broker::register_admin_routes(*f->server, f->svc);
  auto ep = f->server->start();
  if (!ep) die("cannot start the admin server: " + ep.err().message);
  f->port = ep->port;
  return f;
}

void stop() {
  delete the_fixture;
  the_fixture = nullptr;
}

// Sends `input`, shuts the write side, reads until the server closes. Returns what was read.
std::string exchange(std::uint16_t port, std::string_view input) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) die("connect() failed");

  // The server may answer and close before it has read everything (431, 413): a failed send
  // is part of the exchange, not an error.
  std::size_t sent = 0;
  while (sent < input.size()) {
    const auto n = ::send(fd, input.data() + sent, input.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);

  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(answer_deadline_ms);
  char buf[16384];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    FUZZ_CHECK(left.count() > 0, "the admin server neither answered nor closed within 30 s; got: " + out);
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;  // closed (or reset after a refusal)
    out.append(buf, static_cast<std::size_t>(n));
  }
  // Close with a reset: no TIME_WAIT, or a long run would use up the local ports.
  linger lg{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  ::close(fd);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  log::configure(log::level::error, log::format::text);  // the routes log every rotation request
  the_fixture = start();
  std::atexit(stop);  // before LeakSanitizer's exit check: stop the threads, close the store
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string out = exchange(the_fixture->port, input);
  static const bool echo = std::getenv("FUZZ_ADMIN_ECHO") != nullptr;  // to see what seeds reach
  if (echo) std::fprintf(stderr, "---- %zu bytes in, answer:\n%s\n", size, out.substr(0, 600).c_str());
  if (out.empty()) return 0;  // nothing parsed as a request: the server just closed
  FUZZ_CHECK(out.starts_with("HTTP/"), out);
  FUZZ_CHECK(out.find("handler timed out") == std::string::npos, out);
  FUZZ_CHECK(out.find("dropped before it was answered") == std::string::npos, out);
  return 0;
}
