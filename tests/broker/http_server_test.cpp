// The admin HTTP server against real sockets on 127.0.0.1.

#include "gateway/http_server.hpp"

#include <catch2/catch_test_macros.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "tests/broker/test_tls.hpp"
#include "tests/support/ws_client.hpp"

using namespace sealcast::broker;
using namespace std::chrono_literals;
using sealcast::test::http_get;
using sealcast::test::http_call;

namespace {

http_server_options test_options() {
  http_server_options o;
  o.listen = "127.0.0.1:0";
  return o;
}

/// Registers the routes the tests use. The handlers answer synchronously unless noted.
void add_routes(http_server& s) {
  s.route("GET", "/healthz", [](const http_request&, responder r) { r.respond(200, "text/plain", "ok\n"); }, false);
  s.route("GET", "/admin/groups/{id}", [](const http_request& req, responder r) {
    r.respond(200, "application/json", R"({"group":")" + std::string(req.param("id")) + R"("})",
              {{"X-Route", "group"}});
  });
  s.route("POST", "/admin/groups/{id}/rotate", [](const http_request& req, responder r) {
    r.respond(202, "text/plain", "rotating " + std::string(req.param("id")) + " body=" + req.body);
  });
  s.route("GET", "/admin/events", [](const http_request& req, responder r) {
    std::string out;
    for (const auto& [k, v] : req.query) out += k + "=" + v + ";";
    r.respond(200, "text/plain", out + "path=" + req.path);
  });
  s.route("GET", "/admin/later", [](const http_request&, responder r) {
    std::thread([r] {  // an actor answering later, on another thread
      std::this_thread::sleep_for(50ms);
      r.respond(200, "text/plain", "answered later");
    }).detach();
  });
  s.route("GET", "/admin/dropped", [](const http_request&, responder) {});
  s.route("GET", "/admin/never", [](const http_request&, responder r) {
    static std::vector<responder> kept;  // kept forever: the server must time out
    kept.push_back(std::move(r));
  });
}

struct running_server {
  explicit running_server(http_server_options o = test_options()) : server(std::move(o)) {
    add_routes(server);
    auto ep = server.start();
    REQUIRE(ep.ok());
    port = ep->port;
  }
  http_server server;
  std::uint16_t port = 0;
};

}  // namespace

TEST_CASE("http server routes by method and path with parameters", "[http]") {
  running_server s;
  auto health = http_get("127.0.0.1", s.port, "/healthz");
  CHECK(health.status == 200);
  CHECK(health.body == "ok\n");
  auto group = http_get("127.0.0.1", s.port, "/admin/groups/abc123");
  CHECK(group.status == 200);
  CHECK(group.body == R"({"group":"abc123"})");
  CHECK(group.header("content-type") == "application/json");
  CHECK(group.header("x-route") == "group");
  auto rotate = http_call("127.0.0.1", s.port, "POST", "/admin/groups/g1/rotate", {}, "now");
  CHECK(rotate.status == 202);
  CHECK(rotate.body == "rotating g1 body=now");
}

TEST_CASE("http server decodes query parameters", "[http]") {
  running_server s;
  auto r = http_get("127.0.0.1", s.port, "/admin/events?type=member_joined&group=a%20b&limit=5");
  CHECK(r.status == 200);
  CHECK(r.body == "type=member_joined;group=a b;limit=5;path=/admin/events");
}

TEST_CASE("http server answers 404 for unknown paths and 405 with Allow for wrong methods", "[http]") {
  running_server s;
  CHECK(http_get("127.0.0.1", s.port, "/nope").status == 404);
  CHECK(http_get("127.0.0.1", s.port, "/admin/groups").status == 404);
  auto wrong = http_call("127.0.0.1", s.port, "DELETE", "/admin/groups/g1");
  CHECK(wrong.status == 405);
  CHECK(wrong.header("allow") == "GET");
  auto post_only = http_get("127.0.0.1", s.port, "/admin/groups/g1/rotate");
  CHECK(post_only.status == 405);
  CHECK(post_only.header("allow") == "POST");
  // Both with a JSON error body, like every other refusal of the API.
  for (const auto& r : {http_get("127.0.0.1", s.port, "/nope"), wrong}) {
    CHECK(r.header("content-type") == "application/json");
    CHECK(r.body.starts_with("{\"error\":\""));
  }
}

TEST_CASE("http server answers a bad request target with 400 JSON", "[http]") {
  running_server s;
  for (const char* target : {"/admin/events?type=%zz", "/admin/gr%g1oups/x"}) {
    INFO(target);
    auto r = http_get("127.0.0.1", s.port, target);
    CHECK(r.status == 400);
    CHECK(r.header("content-type") == "application/json");
    CHECK(r.body == "{\"error\":\"bad request target\"}\n");
  }
}

TEST_CASE("http server lets handlers respond later from another thread", "[http]") {
  running_server s;
  auto r = http_get("127.0.0.1", s.port, "/admin/later");
  CHECK(r.status == 200);
  CHECK(r.body == "answered later");
}

TEST_CASE("http server answers 503 JSON when a handler drops the responder and 504 when it never answers", "[http]") {
  auto o = test_options();
  o.handler_timeout_ms = 200;
  running_server s(o);
  auto dropped = http_get("127.0.0.1", s.port, "/admin/dropped");
  CHECK(dropped.status == 503);
  CHECK(dropped.header("content-type") == "application/json");
  CHECK(dropped.body.find("\"error\"") != std::string::npos);
  CHECK(http_get("127.0.0.1", s.port, "/admin/never").status == 504);
}

TEST_CASE("http server keeps connections alive across requests", "[http]") {
  running_server s;
  auto all = sealcast::test::http_keep_alive("127.0.0.1", s.port, {"/healthz", "/admin/later", "/nope", "/healthz"});
  REQUIRE(all.size() == 4);
  CHECK(all[0].status == 200);
  CHECK(all[1].body == "answered later");
  CHECK(all[2].status == 404);
  CHECK(all[3].status == 200);
}

TEST_CASE("http server requires the bearer token when one is set", "[http]") {
  auto o = test_options();
  o.admin_token = "s3cret";
  running_server s(o);
  auto none = http_get("127.0.0.1", s.port, "/admin/groups/g1");
  CHECK(none.status == 401);
  CHECK(none.header("www-authenticate") == "Bearer");
  CHECK(http_get("127.0.0.1", s.port, "/admin/groups/g1", {{"Authorization", "Bearer wrong"}}).status == 401);
  CHECK(http_get("127.0.0.1", s.port, "/nope").status == 401);  // no hint about which paths exist
  // The token is checked before the target is parsed: a bad one reveals nothing either.
  CHECK(http_get("127.0.0.1", s.port, "/admin/events?type=%zz").status == 401);
  CHECK(http_get("127.0.0.1", s.port, "/admin/groups/%zz").status == 401);
  CHECK(http_get("127.0.0.1", s.port, "/admin/events?type=%zz", {{"Authorization", "Bearer s3cret"}}).status == 400);
  CHECK(http_get("127.0.0.1", s.port, "/admin/groups/g1", {{"Authorization", "Bearer s3cret"}}).status == 200);
  CHECK(http_get("127.0.0.1", s.port, "/healthz").status == 200);  // probes need no token
}

TEST_CASE("http server refuses bodies over the limit with 413", "[http]") {
  auto o = test_options();
  o.body_limit = 16;
  running_server s(o);
  CHECK(http_call("127.0.0.1", s.port, "POST", "/admin/groups/g/rotate", {}, std::string(64, 'x')).status == 413);
  CHECK(http_call("127.0.0.1", s.port, "POST", "/admin/groups/g/rotate", {}, "small").status == 202);
}

TEST_CASE("http server streams Server-Sent Events as they are written", "[http][sse]") {
  http_server server(test_options());
  std::mutex mu;
  std::condition_variable cv;
  std::shared_ptr<event_stream> stream;
  server.route("GET", "/admin/events/stream", [&](const http_request&, responder r) {
    auto s = r.stream({{"X-Accel-Buffering", "no"}});
    const std::lock_guard<std::mutex> lock(mu);
    stream = std::move(s);
    cv.notify_all();
  });
  auto ep = server.start();
  REQUIRE(ep.ok());
  std::string error;
  auto client = sealcast::test::http_stream_client::open("127.0.0.1", ep->port, "/admin/events/stream", {}, &error);
  INFO(error);
  REQUIRE(client);
  CHECK(client->status() == 200);
  CHECK(client->header("content-type") == "text/event-stream");
  CHECK(client->header("x-accel-buffering") == "no");
  {
    std::unique_lock<std::mutex> lock(mu);
    REQUIRE(cv.wait_for(lock, 5s, [&] { return stream != nullptr; }));
  }
  CHECK(stream->write("data: one\n\n"));
  CHECK(client->read_until("data: one\n\n"));
  std::thread([s = stream] { s->write("data: two\n\n"); }).join();
  CHECK(client->read_until("data: two\n\n"));
  stream->close();
  CHECK_FALSE(stream->is_open());
  CHECK(client->read_to_eof());
  CHECK(client->body() == "data: one\n\ndata: two\n\n");
  CHECK_FALSE(stream->write("data: three\n\n"));
}

TEST_CASE("http server marks a stream closed when the client goes away", "[http][sse]") {
  http_server server(test_options());
  std::shared_ptr<event_stream> stream;
  std::mutex mu;
  server.route("GET", "/stream", [&](const http_request&, responder r) {
    const std::lock_guard<std::mutex> lock(mu);
    stream = r.stream();
  });
  auto ep = server.start();
  REQUIRE(ep.ok());
  auto client = sealcast::test::http_stream_client::open("127.0.0.1", ep->port, "/stream");
  REQUIRE(client);
  auto current = [&] {
    const std::lock_guard<std::mutex> lock(mu);
    return stream;
  };
  for (int i = 0; i < 100 && !current(); ++i) std::this_thread::sleep_for(10ms);
  REQUIRE(current());
  client.reset();
  for (int i = 0; i < 200 && current()->is_open(); ++i) std::this_thread::sleep_for(10ms);
  CHECK_FALSE(current()->is_open());
  server.stop();
}

TEST_CASE("http server stop ends open streams", "[http][sse]") {
  http_server server(test_options());
  std::shared_ptr<event_stream> stream;
  std::mutex mu;
  server.route("GET", "/stream", [&](const http_request&, responder r) {
    const std::lock_guard<std::mutex> lock(mu);
    stream = r.stream();
  });
  auto ep = server.start();
  REQUIRE(ep.ok());
  auto client = sealcast::test::http_stream_client::open("127.0.0.1", ep->port, "/stream");
  REQUIRE(client);
  const auto start = std::chrono::steady_clock::now();
  server.stop();
  CHECK(std::chrono::steady_clock::now() - start < 3s);
  CHECK(client->read_to_eof());
  const std::lock_guard<std::mutex> lock(mu);
  REQUIRE(stream);
  CHECK_FALSE(stream->is_open());
}

TEST_CASE("http server serves https with a PEM certificate", "[http][tls]") {
  sealcast::test::throwaway_cert cert;
  REQUIRE(cert.ok());
  auto o = test_options();
  o.tls_cert = cert.cert();
  o.tls_key = cert.key();
  running_server s(o);
  auto r = http_get("127.0.0.1", s.port, "/admin/groups/g9", {}, true);
  CHECK(r.status == 200);
  CHECK(r.body == R"({"group":"g9"})");
}

TEST_CASE("host_allow_list: loopback names, the listen address, allowed_hosts", "[http][host]") {
  SECTION("a loopback listener") {
    host_allow_list hosts("127.0.0.1:7801", {});
    CHECK(hosts.bad_entry().empty());
    for (const char* h : {"127.0.0.1:7801", "127.0.0.1", "127.0.0.1:9", "127.9.8.7", "localhost", "LOCALHOST:7801",
                          "[::1]", "[::1]:7801", "[0:0::1]:7801", "[::ffff:127.0.0.1]:7801"}) {
      INFO(h);
      CHECK(hosts.host_allowed(h, 7801));
    }
    for (const char* h : {"", "evil.example", "evil.example:7801", "localhost.evil.example", "127.0.0.1.evil.example",
                          "127.0.0.1:7801@evil.example", "127.0.0.1:", "127.0.0.1:70000", "127.0.0.1:7801:1",
                          "[::1", "[::2]:7801", "::1", "local host", "localhost.", "10.0.0.1:7801"}) {
      INFO(h);
      CHECK_FALSE(hosts.host_allowed(h, 7801));
    }
  }
  SECTION("a listener on another address: that address, without a port or with the listening one") {
    host_allow_list hosts("10.1.2.3:7801", {});
    CHECK(hosts.host_allowed("10.1.2.3", 7801));
    CHECK(hosts.host_allowed("10.1.2.3:7801", 7801));
    CHECK_FALSE(hosts.host_allowed("10.1.2.3:7802", 7801));
    CHECK_FALSE(hosts.host_allowed("10.1.2.4:7801", 7801));
    CHECK(hosts.host_allowed("localhost:7801", 7801));
    host_allow_list v6("[FD00::1]:7801", {});
    CHECK(v6.host_allowed("[fd00::1]:7801", 7801));
    CHECK(v6.host_allowed("[fd00:0::1]", 7801));
    CHECK_FALSE(v6.host_allowed("[fd00::2]:7801", 7801));
  }
  SECTION("port 0 in listen: the port the connection arrived on") {
    host_allow_list hosts("10.1.2.3:0", {});
    CHECK(hosts.host_allowed("10.1.2.3:40123", 40123));
    CHECK(hosts.host_allowed("10.1.2.3", 40123));
    CHECK_FALSE(hosts.host_allowed("10.1.2.3:40124", 40123));
    CHECK_FALSE(hosts.host_allowed("10.1.2.3:0", 40123));
  }
  SECTION("allowed_hosts: a name alone matches any port, a name with a port that port") {
    host_allow_list hosts("127.0.0.1:7801", {"Admin.Example.com", "ops.example.com:8443", "web.example.com:443",
                                             "[fd00::7]"});
    REQUIRE(hosts.bad_entry().empty());
    for (const char* h : {"admin.example.com", "ADMIN.EXAMPLE.COM:1", "ops.example.com:8443", "web.example.com",
                          "web.example.com:443", "[fd00::7]:80"}) {
      INFO(h);
      CHECK(hosts.host_allowed(h, 7801));
    }
    for (const char* h : {"ops.example.com", "ops.example.com:8444", "web.example.com:8443", "example.com",
                          "admin.example.com.evil.example", "xadmin.example.com"}) {
      INFO(h);
      CHECK_FALSE(hosts.host_allowed(h, 7801));
    }
  }
  SECTION("entries that are not host or host:port are reported") {
    CHECK(host_allow_list("127.0.0.1:7801", {"ok.example", "http://x.example"}).bad_entry() == "http://x.example");
    CHECK(host_allow_list("127.0.0.1:7801", {"x.example:0"}).bad_entry() == "x.example:0");
    CHECK(host_allow_list("127.0.0.1:7801", {"x.example/admin"}).bad_entry() == "x.example/admin");
  }
}

TEST_CASE("host_allow_list: an Origin is the request's own or an allowed_hosts entry's", "[http][origin]") {
  host_allow_list hosts("127.0.0.1:7801", {"admin.example.com"});
  CHECK(hosts.origin_allowed("http://127.0.0.1:7801", "127.0.0.1:7801"));
  CHECK(hosts.origin_allowed("HTTP://LOCALHOST:7801", "localhost:7801"));
  CHECK(hosts.origin_allowed("https://127.0.0.1:7801", "127.0.0.1:7801"));
  CHECK(hosts.origin_allowed("http://localhost", "localhost:80"));
  CHECK(hosts.origin_allowed("https://localhost:443", "localhost"));
  CHECK(hosts.origin_allowed("https://admin.example.com", "127.0.0.1:7801"));  // behind a proxy
  CHECK(hosts.origin_allowed("http://[::1]:7801", "[::1]:7801"));
  for (const char* o : {"http://evil.example", "http://127.0.0.1:3000", "http://localhost:7801", "http://127.0.0.1",
                        "null", "", "127.0.0.1:7801", "ftp://127.0.0.1:7801", "http://127.0.0.1:7801/",
                        "http://user@127.0.0.1:7801", "https://admin.example.com.evil.example"}) {
    INFO(o);
    CHECK_FALSE(hosts.origin_allowed(o, "127.0.0.1:7801"));
  }
}

TEST_CASE("http server refuses a foreign Host with 421 and a cross-site POST with 403, JSON both", "[http][host]") {
  auto o = test_options();
  o.allowed_hosts = {"admin.example.com"};
  http_server server(o);
  add_routes(server);
  server.probe("/readyz", [](const http_request&, responder r) { r.respond(200, "text/plain", "ready\n"); });
  auto ep = server.start();
  REQUIRE(ep.ok());
  const auto port = ep->port;
  const std::string self = "127.0.0.1:" + std::to_string(port);

  auto foreign = http_get("127.0.0.1", port, "/admin/groups/g1", {{"Host", "evil.example:" + std::to_string(port)}});
  CHECK(foreign.status == 421);
  CHECK(foreign.header("content-type") == "application/json");
  CHECK(foreign.body.starts_with("{\"error\":\""));
  CHECK(foreign.body.find("\"code\":\"forbidden_host\"") != std::string::npos);
  CHECK(http_get("127.0.0.1", port, "/nope", {{"Host", "evil.example"}}).status == 421);  // before routing
  CHECK(http_get("127.0.0.1", port, "/admin/groups/g1", {{"Host", "admin.example.com"}}).status == 200);
  CHECK(http_get("127.0.0.1", port, "/admin/groups/g1").status == 200);
  CHECK(http_get("127.0.0.1", port, "/readyz", {{"Host", "evil.example"}}).status == 200);  // a probe

  auto cross = http_call("127.0.0.1", port, "POST", "/admin/groups/g1/rotate", {{"Origin", "http://evil.example"}}, "x");
  CHECK(cross.status == 403);
  CHECK(cross.header("content-type") == "application/json");
  CHECK(cross.body.find("\"code\":\"forbidden_origin\"") != std::string::npos);
  CHECK(http_call("127.0.0.1", port, "POST", "/admin/groups/g1/rotate", {{"Sec-Fetch-Site", "cross-site"}}, "x")
            .status == 403);
  CHECK(http_call("127.0.0.1", port, "POST", "/admin/groups/g1/rotate", {{"Sec-Fetch-Site", "same-site"}}, "x")
            .status == 403);
  CHECK(http_call("127.0.0.1", port, "POST", "/admin/groups/g1/rotate",
                  {{"Origin", "http://" + self}, {"Sec-Fetch-Site", "same-origin"}}, "x")
            .status == 202);
  CHECK(http_call("127.0.0.1", port, "POST", "/admin/groups/g1/rotate", {}, "x").status == 202);
  // A GET from another site is a read the browser hides from the page: served.
  CHECK(http_get("127.0.0.1", port, "/admin/groups/g1", {{"Origin", "http://evil.example"}, {"Sec-Fetch-Site", "cross-site"}})
            .status == 200);
}

TEST_CASE("http server does not start with a bad allowed_hosts entry", "[http][host]") {
  auto o = test_options();
  o.allowed_hosts = {"https://admin.example.com"};
  http_server server(o);
  auto ep = server.start();
  REQUIRE_FALSE(ep.ok());
  CHECK(ep.err().code == sealcast::errc::config_error);
  CHECK(ep.err().message.find("https://admin.example.com") != std::string::npos);
}
