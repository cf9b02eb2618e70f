// The admin API against hostile web pages: a Host allow-list against DNS rebinding (a page on
// another site whose name now resolves to the admin listener reads it under that name) and an
// Origin / Sec-Fetch-Site check against cross-site POSTs; curl, sealcastctl and the dashboard
// keep working.

#include <catch2/catch_test_macros.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "tests/admin/admin_fixtures.hpp"

using namespace sealcast;
using namespace sealcast::test;

namespace {

/// Sends `request` as written (for what http_call cannot send: no Host, two Hosts) and returns
/// the status code of the answer, 0 when there is none.
int raw_status(std::uint16_t port, const std::string& request) {
  namespace asio = boost::asio;
  asio::io_context ioc;
  asio::ip::tcp::socket s(ioc);
  s.connect({asio::ip::make_address("127.0.0.1"), port});
  asio::write(s, asio::buffer(request));
  std::string answer;
  boost::system::error_code ec;
  asio::read(s, asio::dynamic_buffer(answer), ec);  // Connection: close, so until EOF
  if (answer.size() < 12 || answer.compare(0, 5, "HTTP/") != 0) return 0;
  return std::stoi(answer.substr(9, 3));
}

/// The answer to GET `target` with `host` as the Host header.
admin_answer get_as(const broker_fixture& f, const std::string& host, const std::string& target = "/admin/stats",
                    header_pairs extra = {}) {
  extra.emplace_back("Host", host);
  return admin_get(f, target, extra);
}

/// True when `a` is the refusal of a foreign Host: 421 with the API's JSON error and its code.
bool is_host_refusal(const admin_answer& a) {
  return a.status == 421 && a.body.is_object() && a.body.as_object().contains("error") &&
         str(a.body.at("code")) == "forbidden_host";
}

/// True when `a` is the refusal of a cross-site request: 403 with the JSON error and its code.
bool is_origin_refusal(const admin_answer& a) {
  return a.status == 403 && a.body.is_object() && a.body.as_object().contains("error") &&
         str(a.body.at("code")) == "forbidden_origin";
}

/// The current epoch of group `g` according to the API.
std::int64_t epoch_of(const broker_fixture& f, const id16& g) {
  return num(admin_ok(f, "/admin/groups/" + g.hex()).at("epoch"));
}

}  // namespace

TEST_CASE("a foreign Host is refused on every admin route, token or not", "[admin][access][host]") {
  broker_fixture f(sets({"admin.token=s3cret-token"}));
  const auto port = f.broker->admin_port();
  const std::string p = ":" + std::to_string(port);
  const header_pairs good{{"Authorization", "Bearer s3cret-token"}};
  REQUIRE(get_as(f, "127.0.0.1" + p, "/admin/stats", good).status == 200);

  // DNS rebinding: the browser sends the attacker's name, with the right token or none.
  for (const auto& host : std::vector<std::string>{"evil.example" + p, "evil.example", "127.0.0.1.nip.io" + p,
                                                   "localhost.evil.example" + p, "127.0.0.1" + p + "@evil.example", "",
                                                   "evil.example:" + std::to_string(port + 1)}) {
    INFO("Host: " << host);
    auto r = get_as(f, host, "/admin/stats", good);
    INFO(r.raw);
    CHECK(is_host_refusal(r));
    CHECK(r.raw.find("\"pubsub\"") == std::string::npos);
  }
  for (const char* path : {"/admin/stats", "/metrics", "/admin/groups", "/admin/events", "/admin/events/stream",
                           "/admin/", "/admin/dashboard.js", "/admin", "/admin/nothing"}) {
    INFO(path);
    CHECK(is_host_refusal(get_as(f, "evil.example" + p, path, good)));
    CHECK(is_host_refusal(get_as(f, "evil.example" + p, path)));
  }
  CHECK(is_host_refusal(admin_call(f, "POST", "/admin/groups/00000000000000000000000000000001/rotate",
                                   {{"Host", "evil.example" + p}, {"Authorization", "Bearer s3cret-token"}})));
  // No Host at all (HTTP/1.0), and two of them: refused too.
  CHECK(raw_status(port, "GET /admin/stats HTTP/1.0\r\nAuthorization: Bearer s3cret-token\r\n\r\n") == 421);
  CHECK(raw_status(port, "GET /admin/stats HTTP/1.1\r\nHost: 127.0.0.1" + p + "\r\nHost: evil.example" + p +
                             "\r\nAuthorization: Bearer s3cret-token\r\nConnection: close\r\n\r\n") == 421);
  // The probes answer any Host: orchestrators address them by IP, and they reveal nothing.
  CHECK(get_as(f, "10.1.2.3" + p, "/healthz").status == 200);
  CHECK(get_as(f, "10.1.2.3" + p, "/readyz").status == 200);
}

TEST_CASE("loopback names and addresses are accepted as Host, with or without a port", "[admin][access][host]") {
  broker_fixture f;
  const std::string p = ":" + std::to_string(f.broker->admin_port());
  for (const auto& host :
       std::vector<std::string>{"127.0.0.1" + p, "127.0.0.1", "localhost" + p, "localhost", "LocalHost" + p,
                                "[::1]" + p, "[::1]", "[0:0:0:0:0:0:0:1]" + p, "127.0.0.2:8080"}) {
    INFO("Host: " << host);
    auto r = get_as(f, host);
    INFO(r.raw);
    CHECK(r.status == 200);
  }
  CHECK(is_host_refusal(get_as(f, "evil.example" + p)));
}

TEST_CASE("admin.allowed_hosts adds names to the Host allow-list", "[admin][access][host]") {
  SECTION("without the key the names are refused") {
    broker_fixture f;
    CHECK(is_host_refusal(get_as(f, "admin.example.com")));
    CHECK(is_host_refusal(get_as(f, "ops.example.com:8443")));
  }
  SECTION("with it they are served: a name alone with any port, a name with a port with that one") {
    broker_fixture f(sets({"admin.allowed_hosts=Admin.Example.com, ops.example.com:8443, [fd00::7]"}));
    for (const char* host : {"admin.example.com", "admin.example.com:9999", "ADMIN.example.com:7801",
                             "ops.example.com:8443", "[fd00::7]", "[fd00::7]:7801"}) {
      INFO("Host: " << host);
      CHECK(get_as(f, host).status == 200);
    }
    for (const char* host : {"ops.example.com", "ops.example.com:8444", "example.com", "evil.example",
                             "admin.example.com.evil.example", "[fd00::8]"}) {
      INFO("Host: " << host);
      CHECK(is_host_refusal(get_as(f, host)));
    }
    // Loopback names still work alongside the list.
    CHECK(get_as(f, "localhost").status == 200);
  }
}

TEST_CASE("a cross-site POST is refused and changes nothing; same-origin and header-less POSTs rotate",
          "[admin][access][origin]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  const auto g = make_group(*a, {b.get()}, "rot");
  REQUIRE(epoch_of(f, g) == 1);
  const std::string self = "127.0.0.1:" + std::to_string(f.broker->admin_port());
  const std::string rotate = "/admin/groups/" + g.hex() + "/rotate";

  // What a page on another site sends with fetch(..., {method: "POST"}) or a <form>.
  for (const header_pairs& h :
       {header_pairs{{"Origin", "http://evil.example"}},
        header_pairs{{"Origin", "http://evil.example"}, {"Sec-Fetch-Site", "cross-site"}},
        header_pairs{{"Sec-Fetch-Site", "cross-site"}},
        header_pairs{{"Sec-Fetch-Site", "same-site"}, {"Origin", "http://127.0.0.1:3000"}},  // another port
        header_pairs{{"Origin", "http://127.0.0.1:3000"}},
        header_pairs{{"Origin", "http://localhost:" + std::to_string(f.broker->admin_port())}},  // another host name
        header_pairs{{"Origin", "null"}},  // a sandboxed frame, a data: or file: page
        header_pairs{{"Origin", "http://" + self}, {"Sec-Fetch-Site", "cross-site"}},
        header_pairs{{"Origin", "ftp://" + self}}, header_pairs{{"Origin", "http://" + self + "/admin"}}}) {
    std::string shown;
    for (const auto& [k, v] : h) shown += k + ": " + v + "; ";
    INFO(shown);
    auto r = admin_call(f, "POST", rotate, h);
    INFO(r.raw);
    CHECK(is_origin_refusal(r));
  }
  // Any state-changing method, also where the path has no such route (no 405 oracle).
  CHECK(is_origin_refusal(admin_call(f, "DELETE", "/admin/groups", {{"Origin", "http://evil.example"}})));
  CHECK(is_origin_refusal(admin_call(f, "PUT", rotate, {{"Sec-Fetch-Site", "cross-site"}})));
  CHECK(epoch_of(f, g) == 1);
  CHECK(stat(admin_ok(f, "/admin/stats"), "encryption", "key_rotations") == 0);

  // Reads from another site stay as they were (a browser does not let the page read them).
  CHECK(admin_get(f, "/admin/stats", {{"Origin", "http://evil.example"}, {"Sec-Fetch-Site", "cross-site"}}).status ==
        200);

  // The page's own origin, as a browser sends it, rotates.
  auto same = admin_call(f, "POST", rotate, {{"Origin", "http://" + self}, {"Sec-Fetch-Site", "same-origin"}});
  INFO(same.raw);
  REQUIRE(same.status == 200);
  CHECK(num(same.body.at("epoch")) == 2);
  CHECK(admin_call(f, "POST", rotate, {{"Origin", "http://" + self}}).status == 200);
  CHECK(admin_call(f, "POST", rotate, {{"Sec-Fetch-Site", "same-origin"}}).status == 200);
  // curl and sealcastctl send neither header.
  CHECK(admin_call(f, "POST", rotate).status == 200);
  CHECK(epoch_of(f, g) == 5);
}

TEST_CASE("an Origin named in admin.allowed_hosts may POST (a reverse proxy that rewrites Host)",
          "[admin][access][origin]") {
  broker_fixture f(sets({"admin.allowed_hosts=admin.example.com"}));
  auto a = online(f.port(), "a");
  const auto g = make_group(*a, {}, "proxied");
  const std::string rotate = "/admin/groups/" + g.hex() + "/rotate";
  // The proxy forwards to 127.0.0.1 with that Host; the browser's Origin is the public name.
  CHECK(admin_call(f, "POST", rotate, {{"Origin", "https://admin.example.com"}, {"Sec-Fetch-Site", "same-origin"}})
            .status == 200);
  CHECK(
      admin_call(f, "POST", rotate, {{"Host", "admin.example.com"}, {"Origin", "https://admin.example.com"}}).status ==
      200);
  CHECK(is_origin_refusal(admin_call(f, "POST", rotate, {{"Origin", "https://evil.example"}})));
  CHECK(is_origin_refusal(admin_call(f, "POST", rotate, {{"Origin", "https://admin.example.com.evil.example"}})));
  CHECK(epoch_of(f, g) == 3);
}

TEST_CASE("the dashboard loads under an accepted Host and not under a foreign one", "[admin][access][dashboard]") {
  broker_fixture f(sets({"admin.token=s3cret-token"}));
  const std::string p = ":" + std::to_string(f.broker->admin_port());
  // The page as a browser fetches it: a navigation (Sec-Fetch-Site: none) and its script.
  for (const char* path : {"/admin/", "/admin/dashboard.js", "/admin/dashboard.css"}) {
    INFO(path);
    auto ok = get_as(f, "127.0.0.1" + p, path, {{"Sec-Fetch-Site", "none"}});
    CHECK(ok.status == 200);
    CHECK(get_as(f, "localhost" + p, path, {{"Sec-Fetch-Site", "same-origin"}}).status == 200);
    // Linked from another site: still a page load, served.
    CHECK(get_as(f, "localhost" + p, path, {{"Sec-Fetch-Site", "cross-site"}}).status == 200);
    CHECK(is_host_refusal(get_as(f, "evil.example" + p, path)));
  }
  // Its API calls: same origin, with the token.
  CHECK(get_as(f, "127.0.0.1" + p, "/admin/stats",
               {{"Authorization", "Bearer s3cret-token"}, {"Sec-Fetch-Site", "same-origin"}})
            .status == 200);
}
