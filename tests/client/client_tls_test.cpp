// The library client over wss://: with the broker's certificate as trust anchor it verifies and
// talks; an untrusted certificate is refused unless verification is turned off.

#include "tests/broker/test_tls.hpp"
#include "tests/client/client_support.hpp"

namespace sealcast::test {
namespace {

asio::awaitable<void> over_tls(std::uint16_t port, std::string ca_file) {
  auto ex = co_await asio::this_coro::executor;
  const auto url = "wss://localhost:" + std::to_string(port) + "/ws";

  auto o = test_options(port, "alice");
  o.url = url;
  o.tls_ca_file = ca_file;
  party alice(ex, o);
  auto bo = test_options(port, "bob");
  bo.url = url;
  bo.tls_verify = false;
  party bob(ex, bo);
  co_await connect_ok(*alice);
  co_await connect_ok(*bob);
  co_await known(*alice, bob->user_id());
  sc::group_spec spec;
  spec.name = "tls";
  spec.members = {bob->user_id()};
  auto g = co_await alice->create_group(spec);
  REQUIRE(g.ok());
  CO_REQUIRE((co_await alice->publish(g->group, std::string_view("over wss"))).ok());
  CO_REQUIRE(co_await until([&] { return bob.rec.messages.size() == 1; }));
  CHECK(bob.rec.messages[0].text() == "over wss");

  // Verification on, but the self-signed certificate is not trusted: refused, clearly.
  auto mo = test_options(port, "mallory");
  mo.url = url;
  mo.reconnect = false;
  sc::client untrusted(ex, crypto::identity::generate(), mo);
  auto r = co_await untrusted.connect();
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().message.find("tls handshake") != std::string::npos);

  // Plain ws:// to a TLS listener fails without hanging.
  auto po = test_options(port, "plain");
  po.connect_timeout = 2s;
  sc::client plain(ex, crypto::identity::generate(), po);
  auto pr = co_await plain.connect();
  CHECK_FALSE(pr.ok());
}

TEST_CASE("the client speaks wss:// and verifies the broker's certificate", "[client][tls]") {
  throwaway_cert cert;
  REQUIRE(cert.ok());
  temp_dir dir;
  broker_process broker(dir.path() / "data",
                        sets({"gateway.tls_cert=" + cert.cert(), "gateway.tls_key=" + cert.key()}));
  io_harness io;
  io.run(over_tls(broker.client_port(), cert.cert()));
  io.spin(50ms);
}

}  // namespace
}  // namespace sealcast::test
