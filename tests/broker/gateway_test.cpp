// The client gateway against real sockets on 127.0.0.1, with an echo handler.

#include "gateway/gateway.hpp"

#include <catch2/catch_test_macros.hpp>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "tests/broker/test_tls.hpp"
#include "tests/support/ws_client.hpp"

using namespace sealcast::broker;
using namespace std::chrono_literals;
using sealcast::test::ws_client;
using sealcast::test::ws_options;

namespace {

auto frame(std::string s) { return std::make_shared<const std::string>(std::move(s)); }

/// Echoes text; "hello" authenticates, "burst:N" answers N frames at once, "bye" closes with 4000.
class echo_handler final : public connection_handler {
 public:
  void on_open(std::shared_ptr<connection> conn) override {
    const std::lock_guard<std::mutex> lock(mu_);
    opened_.push_back(std::move(conn));
    cv_.notify_all();
  }

  void on_text(const std::shared_ptr<connection>& conn, std::string&& text) override {
    if (text == "hello") {
      conn->mark_authenticated();
      conn->send(frame("welcome"));
    } else if (text.rfind("burst:", 0) == 0) {
      const int n = std::stoi(text.substr(6));
      for (int i = 0; i < n; ++i) conn->send(frame(R"({"n":)" + std::to_string(i) + "}"));
    } else if (text == "bye") {
      conn->send(frame("last"));
      conn->close(4000, "bye");
      sent_after_close_ = conn->send(frame("too late"));
    } else {
      conn->send(frame(std::move(text)));
    }
  }

  void on_close(const std::shared_ptr<connection>& conn, const close_reason& why) override {
    const std::lock_guard<std::mutex> lock(mu_);
    closed_[conn->id()] = why;
    cv_.notify_all();
  }

  /// The `index`-th connection opened (0-based), waiting for it if needed.
  std::shared_ptr<connection> opened(std::size_t index, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return opened_.size() > index; });
    return opened_.size() > index ? opened_[index] : nullptr;
  }

  /// How connection `id` ended, waiting for it if needed.
  std::optional<close_reason> closed(std::uint64_t id, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return closed_.count(id) != 0; });
    if (closed_.count(id) == 0) return std::nullopt;
    return closed_[id];
  }

  std::atomic<bool> sent_after_close_{true};

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<connection>> opened_;
  std::map<std::uint64_t, close_reason> closed_;
};

gateway_options test_options() {
  gateway_options o;
  o.listen = "127.0.0.1:0";
  o.auth_timeout_ms = 0;
  o.close_timeout_ms = 2000;
  return o;
}

/// A started gateway with its handler; the handler outlives the gateway.
struct running_gateway {
  explicit running_gateway(gateway_options o = test_options()) : gw(std::move(o), handler) {
    auto ep = gw.start();
    REQUIRE(ep.ok());
    port = ep->port;
  }
  [[nodiscard]] ws_options ws(std::vector<std::string> subprotocols = {}) const {
    ws_options o;
    o.port = port;
    o.subprotocols = std::move(subprotocols);
    return o;
  }
  std::unique_ptr<ws_client> connect(std::vector<std::string> subprotocols = {}) const {
    std::string error;
    auto c = ws_client::connect(ws(std::move(subprotocols)), &error);
    INFO(error);
    REQUIRE(c);
    return c;
  }

  echo_handler handler;
  gateway gw;
  std::uint16_t port = 0;
};

}  // namespace

TEST_CASE("gateway echoes text frames and reports the peer", "[gateway]") {
  running_gateway g;
  auto c = g.connect();
  REQUIRE(c->send_text("ping"));
  CHECK(c->read_text() == "ping");
  auto conn = g.handler.opened(0);
  REQUIRE(conn);
  CHECK(conn->remote().rfind("127.0.0.1:", 0) == 0);
  CHECK(conn->id() != 0);
  CHECK(g.gw.connection_count() == 1);
  c->close(1000);
  auto why = g.handler.closed(conn->id());
  REQUIRE(why);
  CHECK(why->cause == close_cause::peer_closed);
  CHECK(why->code == 1000);
}

TEST_CASE("gateway accepts sealcast.v2 only when the client offers it", "[gateway]") {
  running_gateway g;
  CHECK(g.connect({"sealcast.v2"})->subprotocol() == "sealcast.v2");
  CHECK(g.connect({"chat", "sealcast.v2"})->subprotocol() == "sealcast.v2");
  CHECK(g.connect({})->subprotocol().empty());
  auto other = g.connect({"chat.v2"});  // accepted, without a subprotocol
  CHECK(other->subprotocol().empty());
  REQUIRE(other->send_text("x"));
  CHECK(other->read_text() == "x");
}

TEST_CASE("gateway answers health probes and 404 on the same listener", "[gateway]") {
  running_gateway g;
  auto ok = sealcast::test::http_get("127.0.0.1", g.port, "/healthz");
  CHECK(ok.status == 200);
  CHECK(ok.body == "ok\n");
  CHECK(sealcast::test::http_get("127.0.0.1", g.port, "/other").status == 404);
  CHECK(sealcast::test::http_get("127.0.0.1", g.port, "/ws").status == 426);  // no upgrade asked
  auto both = sealcast::test::http_keep_alive("127.0.0.1", g.port, {"/healthz", "/healthz"});
  REQUIRE(both.size() == 2);
  CHECK(both[1].status == 200);
  ws_options wrong = g.ws();
  wrong.path = "/elsewhere";
  int status = 0;
  CHECK_FALSE(ws_client::connect(wrong, nullptr, &status));
  CHECK(status == 404);
}

TEST_CASE("gateway closes with 1009 on a frame larger than max_frame_bytes", "[gateway]") {
  auto o = test_options();
  o.max_frame_bytes = 1024;
  running_gateway g(o);
  auto c = g.connect();
  REQUIRE(c->send_text(std::string(1000, 'a')));
  CHECK(c->read_text().value_or("").size() == 1000);
  c->send_text(std::string(4096, 'b'));
  const auto code = c->wait_close();
  INFO(c->error());
  CHECK(code == 1009);
  auto why = g.handler.closed(g.handler.opened(0)->id());
  REQUIRE(why);
  CHECK(why->cause == close_cause::too_big);
}

TEST_CASE("gateway closes with 1003 on a binary frame", "[gateway]") {
  running_gateway g;
  auto c = g.connect();
  c->send_binary("\x01\x02");
  CHECK(c->wait_close() == 1003);
  CHECK(g.handler.closed(g.handler.opened(0)->id())->cause == close_cause::bad_data);
}

TEST_CASE("gateway sends the auth timeout frame then closes with 4001", "[gateway]") {
  auto o = test_options();
  o.auth_timeout_ms = 200;
  o.auth_timeout_frame = R"({"type":"error","code":"auth_failed","message":"no hello within 200 ms"})";
  running_gateway g(o);

  auto late = g.connect();
  CHECK(late->read_text(3s) == o.auth_timeout_frame);
  CHECK(late->wait_close() == 4001);
  CHECK(g.handler.closed(g.handler.opened(0)->id())->cause == close_cause::auth_timeout);

  auto prompt = g.connect();
  REQUIRE(prompt->send_text("hello"));
  CHECK(prompt->read_text() == "welcome");
  CHECK_FALSE(prompt->read_text(600ms));
  CHECK_FALSE(prompt->closed());
}

TEST_CASE("gateway drops a peer that stops answering pings after idle_timeout", "[gateway]") {
  auto o = test_options();
  o.idle_timeout = 1;
  running_gateway g(o);
  auto lively = g.connect();
  auto silent = g.connect();
  auto silent_conn = g.handler.opened(1);
  REQUIRE(silent_conn);
  CHECK_FALSE(lively->read_text(2500ms));  // reading answers the server's pings
  CHECK_FALSE(lively->closed());
  auto why = g.handler.closed(silent_conn->id(), 3s);  // never read: no pong
  REQUIRE(why);
  CHECK(why->cause == close_cause::timeout);
  REQUIRE(lively->send_text("alive"));
  CHECK(lively->read_text() == "alive");
}

TEST_CASE("gateway refuses upgrades past max_connections with 503", "[gateway]") {
  auto o = test_options();
  o.max_connections = 2;
  running_gateway g(o);
  auto a = g.connect();
  auto b = g.connect();
  int status = 0;
  std::string error;
  CHECK_FALSE(ws_client::connect(g.ws(), &error, &status));
  CHECK(status == 503);
  a->close();
  REQUIRE(g.handler.closed(g.handler.opened(0)->id()));
  CHECK(ws_client::connect(g.ws()));
}

TEST_CASE("gateway refuses upgrades past max_connections_per_address with 503; the handler sees only the others",
          "[gateway][quotas]") {
  auto o = test_options();
  o.max_connections_per_address = 2;
  running_gateway g(o);
  auto a = g.connect();
  auto b = g.connect();
  int status = 0;
  std::string error;
  CHECK_FALSE(ws_client::connect(g.ws(), &error, &status));
  CHECK(status == 503);
  // The echo handler works through the limiter as before.
  REQUIRE(a->send_text("ping"));
  CHECK(a->read_text() == "ping");
  a->close();
  const auto first = g.handler.opened(0);
  REQUIRE(first);
  REQUIRE(g.handler.closed(first->id()));
  auto c = ws_client::connect(g.ws());
  CHECK(c);
  CHECK_FALSE(g.handler.opened(3, 300ms));  // a, b and c only
}

TEST_CASE("gateway disconnects a slow consumer with 1008 and spares the others", "[gateway]") {
  auto o = test_options();
  o.slow_consumer_bytes = 1 << 20;
  o.close_timeout_ms = 10000;
  running_gateway g(o);
  auto stalled = g.connect();  // never reads until the end
  auto conn = g.handler.opened(0);
  auto healthy = g.connect();
  REQUIRE(conn);

  const auto chunk = frame(std::string(64 * 1024, 'x'));
  int accepted = 0;
  const auto start = std::chrono::steady_clock::now();
  while (conn->send(chunk) && accepted < 100000) ++accepted;  // never blocks; refuses once over
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  CHECK(accepted > 0);
  CHECK(accepted < 100000);
  CHECK_FALSE(conn->send(frame("more")));

  REQUIRE(healthy->send_text("still here"));
  CHECK(healthy->read_text() == "still here");

  CHECK(stalled->wait_close(10s) == 1008);
  CHECK(stalled->close_reason() == "slow consumer");
  auto why = g.handler.closed(conn->id());
  REQUIRE(why);
  CHECK(why->cause == close_cause::slow_consumer);
  CHECK(why->code == 1008);
  CHECK(conn->queued_bytes() == 0);
}

TEST_CASE("gateway coalesces queued frames into one batch frame", "[gateway]") {
  auto o = test_options();
  o.coalesce = [](std::span<const std::shared_ptr<const std::string>> frames) {
    std::string out = R"({"type":"batch","items":[)";
    for (std::size_t i = 0; i < frames.size(); ++i) out += (i ? "," : "") + *frames[i];
    return out + "]}";
  };
  o.coalesce_max_items = 3;
  running_gateway g(o);
  auto c = g.connect();
  REQUIRE(c->send_text("burst:4"));
  CHECK(c->read_text() == R"({"type":"batch","items":[{"n":0},{"n":1},{"n":2}]})");
  CHECK(c->read_text() == R"({"n":3})");
}

TEST_CASE("gateway sends frames one by one without a coalesce function", "[gateway]") {
  running_gateway g;
  auto c = g.connect();
  REQUIRE(c->send_text("burst:3"));
  CHECK(c->read_text() == R"({"n":0})");
  CHECK(c->read_text() == R"({"n":1})");
  CHECK(c->read_text() == R"({"n":2})");
}

TEST_CASE("connection close writes queued frames first and refuses later sends", "[gateway]") {
  running_gateway g;
  auto c = g.connect();
  REQUIRE(c->send_text("bye"));
  CHECK(c->read_text() == "last");
  CHECK(c->wait_close() == 4000);
  CHECK(c->close_reason() == "bye");
  CHECK_FALSE(g.handler.sent_after_close_.load());
  CHECK(g.handler.closed(g.handler.opened(0)->id())->cause == close_cause::server_closed);
}

TEST_CASE("gateway stop closes every client with 1001", "[gateway]") {
  running_gateway g;
  auto a = g.connect();
  auto b = g.connect();
  auto first = g.handler.opened(0);
  std::thread stopper([&] { g.gw.stop(); });
  const auto code_a = a->wait_close();
  const auto code_b = b->wait_close();
  INFO(a->error() << " / " << b->error());
  CHECK(code_a == 1001);
  CHECK(code_b == 1001);
  stopper.join();
  CHECK(g.handler.closed(first->id())->cause == close_cause::shutdown);
  CHECK_FALSE(first->send(frame("after stop")));
  CHECK(g.gw.connection_count() == 0);
  CHECK_FALSE(ws_client::connect(g.ws()));
}

TEST_CASE("gateway serves wss and https with a PEM certificate", "[gateway][tls]") {
  sealcast::test::throwaway_cert cert;
  REQUIRE(cert.ok());
  auto o = test_options();
  o.tls_cert = cert.cert();
  o.tls_key = cert.key();
  running_gateway g(o);
  ws_options w = g.ws({"sealcast.v2"});
  w.tls = true;
  std::string error;
  auto c = ws_client::connect(w, &error);
  INFO(error);
  REQUIRE(c);
  CHECK(c->subprotocol() == "sealcast.v2");
  REQUIRE(c->send_text("over tls"));
  CHECK(c->read_text() == "over tls");
  CHECK(sealcast::test::http_get("127.0.0.1", g.port, "/healthz", {}, true).status == 200);
  CHECK_FALSE(ws_client::connect(g.ws()));  // plain ws:// on a TLS listener fails
}

TEST_CASE("gateway start reports bad configuration as errors", "[gateway]") {
  echo_handler h;
  auto o = test_options();
  o.tls_cert = "/nonexistent/cert.pem";
  o.tls_key = "/nonexistent/key.pem";
  gateway bad_tls(o, h);
  CHECK_FALSE(bad_tls.start().ok());
  auto o2 = test_options();
  o2.listen = "nowhere";
  gateway bad_listen(o2, h);
  CHECK_FALSE(bad_listen.start().ok());
}
