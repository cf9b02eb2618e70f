// TLS through the real sealcastd: gateway.tls_cert/tls_key switch the client listener to wss://
// and admin.tls_cert/tls_key the admin listener to https://. The certificate is a throwaway one
// made at test time with the openssl CLI; none is committed.

#include <filesystem>
#include <thread>

#include "tests/broker/test_tls.hpp"
#include "tests/integration/fixtures.hpp"
#include "tests/support/ws_client.hpp"

using namespace sealcast;
using namespace sealcast::test;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> tls_args(const throwaway_cert& cert) {
  return sets({"gateway.tls_cert=" + cert.cert(), "gateway.tls_key=" + cert.key(), "admin.tls_cert=" + cert.cert(),
               "admin.tls_key=" + cert.key()});
}

std::unique_ptr<test_client> online_tls(std::uint16_t port, const std::string& name) {
  auto c = std::make_unique<test_client>();
  c->connect(port, {}, true);
  c->hello(name);
  settle(*c);
  return c;
}

}  // namespace

TEST_CASE("with a certificate both listeners serve TLS and the ready line says wss and https", "[integration][tls]") {
  throwaway_cert cert;
  REQUIRE(cert.ok());
  broker_fixture f(tls_args(cert));
  CHECK(f.broker->ready_line().find("client=wss://") != std::string::npos);
  CHECK(f.broker->ready_line().find("admin=https://") != std::string::npos);

  auto health = http_get("127.0.0.1", f.broker->admin_port(), "/healthz", {}, true);
  CHECK(health.status == 200);
  CHECK(health.body == "ok\n");
  auto ready = http_get("127.0.0.1", f.broker->admin_port(), "/readyz", {}, true);
  CHECK(ready.status == 200);
}

TEST_CASE("two clients exchange an end-to-end encrypted message over wss", "[integration][tls]") {
  throwaway_cert cert;
  REQUIRE(cert.ok());
  broker_fixture f(tls_args(cert));
  auto a = online_tls(f.port(), "alice");
  auto b = online_tls(f.port(), "bob");
  const auto g = make_group(*a, {b.get()});
  REQUIRE(a->publish(g, "over tls").is_ok());
  auto got = messages(*b, g, 1);
  CHECK(plain(*b, got[0]) == "over tls");
  CHECK(got[0].sender == a->user_id());
}

TEST_CASE("plain ws and http are refused on TLS listeners without harming the broker", "[integration][tls]") {
  throwaway_cert cert;
  REQUIRE(cert.ok());
  broker_fixture f(tls_args(cert));

  ws_options plain_ws;
  plain_ws.port = f.port();
  plain_ws.timeout = 2s;
  std::string err;
  CHECK(ws_client::connect(plain_ws, &err) == nullptr);
  CHECK_FALSE(err.empty());

  auto plain_http = http_get("127.0.0.1", f.broker->admin_port(), "/healthz", {}, false, 2s);
  CHECK(plain_http.status != 200);

  // The broker still serves TLS clients afterwards.
  auto a = online_tls(f.port(), "after");
  CHECK(a->request(proto::client::list_groups{}).is_ok());
  CHECK(http_get("127.0.0.1", f.broker->admin_port(), "/healthz", {}, true).status == 200);
}

TEST_CASE("a missing or unreadable certificate stops start-up with a clear error", "[integration][tls]") {
  temp_dir dir;
  auto r = run_program(bin_path("sealcastd"),
                       sets({"broker.data_dir=" + (dir.path() / "data").string(), "gateway.listen=127.0.0.1:0",
                             "admin.listen=127.0.0.1:0", "gateway.tls_cert=" + (dir.path() / "none.pem").string(),
                             "gateway.tls_key=" + (dir.path() / "none.key").string()}),
                       20s);
  CHECK(r.exit_code != 0);
  INFO(r.err);
  CHECK(r.err.find("none.pem") != std::string::npos);
}

TEST_CASE("the admin API answers over https: stats and a live event on the SSE stream", "[integration][tls][admin]") {
  throwaway_cert cert;
  REQUIRE(cert.ok());
  broker_fixture f(tls_args(cert));
  const auto port = f.broker->admin_port();
  auto a = online_tls(f.port(), "alice");
  auto b = online_tls(f.port(), "bob");
  const auto g = make_group(*a, {b.get()}, "secure");

  auto stats = http_get("127.0.0.1", port, "/admin/stats", {}, true);
  REQUIRE(stats.status == 200);
  CHECK(stats.header("Content-Type") == "application/json");
  CHECK(stats.body.find("\"groups_created\":1") != std::string::npos);
  CHECK(stats.body.find("\"current\":2") != std::string::npos);

  // The stream through an independent TLS client (curl), while the test publishes.
  const std::filesystem::path curl = "/usr/bin/curl";
  if (!std::filesystem::exists(curl)) SKIP("curl is not installed: the https event stream is not checked");
  run_result streamed;
  std::thread reader([&] {
    streamed = run_program(curl.string(), {"-sS", "-k", "-N", "--max-time", "4", "https://127.0.0.1:" +
                                           std::to_string(port) + "/admin/events/stream?type=message_published"},
                           10s);
  });
  // Publish once the stream is open (the broker counts it).
  const bool open = [&] {
    for (int i = 0; i < 150; ++i) {
      auto s = http_get("127.0.0.1", port, "/admin/stats", {}, true);
      if (s.body.find("\"event_streams\":1") != std::string::npos) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }();
  auto p = a->publish(g, "watched over tls");
  reader.join();
  REQUIRE(open);
  REQUIRE(p.is_ok());
  INFO(streamed.out << streamed.err);
  CHECK(streamed.out.find(": sealcast event stream") != std::string::npos);
  CHECK(streamed.out.find("\"type\":\"message_published\"") != std::string::npos);
  CHECK(streamed.out.find(p.as<proto::publish_result>().id.hex()) != std::string::npos);
}
