// The connections-per-address bookkeeping of the gateway (gateway/detail/address_limits.hpp),
// without sockets: address keys, the three checks, and what the wrapped handler sees.

#include "gateway/detail/address_limits.hpp"

#include <catch2/catch_test_macros.hpp>

#include <vector>

using namespace sealcast::broker;
using sealcast::broker::detail::address_key;
using sealcast::broker::detail::address_limiter;

namespace {

class fake_connection final : public connection {
 public:
  fake_connection(std::uint64_t id, std::string remote) : connection(id, std::move(remote), "") {}
  bool send(std::shared_ptr<const std::string>) override { return true; }
  void close(std::uint16_t code, std::string reason) override {
    close_code = code;
    close_text = std::move(reason);
  }
  offer_result offer(std::shared_ptr<const std::string>) override { return offer_result::sent; }
  offer_result offer(std::shared_ptr<const std::string>, outbox&) override { return offer_result::sent; }
  void take_staged(std::shared_ptr<const std::string>) override {}
  void start_writing() override {}
  void when_ready(std::function<void()> ready) override { ready(); }
  [[nodiscard]] bool closing() const noexcept override { return close_code != 0; }
  void mark_authenticated() override {}
  std::uint16_t close_code = 0;
  std::string close_text;
};

class recording_handler final : public connection_handler {
 public:
  void on_open(std::shared_ptr<connection> c) override { opened.push_back(c->id()); }
  void on_text(const std::shared_ptr<connection>& c, std::string&&) override { texts.push_back(c->id()); }
  void on_close(const std::shared_ptr<connection>& c, const close_reason&) override { closed.push_back(c->id()); }
  std::vector<std::uint64_t> opened, texts, closed;
};

}  // namespace

TEST_CASE("address_key: IPv4 as is, IPv6 by /64, IPv4-mapped as IPv4", "[gateway][quotas]") {
  CHECK(address_key("192.0.2.7:4242") == "192.0.2.7");
  CHECK(address_key("[2001:db8:1:2:aaaa:bbbb:cccc:dddd]:80") == "2001:db8:1:2::/64");
  CHECK(address_key("[2001:db8:1:2::1]:81") == address_key("[2001:db8:1:2:ffff::9]:82"));
  CHECK(address_key("[2001:db8:1:3::1]:81") != address_key("[2001:db8:1:2::1]:81"));
  CHECK(address_key("[::ffff:192.0.2.7]:1") == "192.0.2.7");
  CHECK(address_key("?").empty());
}

TEST_CASE("address_limiter: 503 at the limit, drops at twice it, closes racing opens", "[gateway][quotas]") {
  recording_handler inner;
  address_limiter lim(inner, 2);
  const std::string a = "192.0.2.1";
  // Pre-upgrade exchanges count towards twice the limit.
  CHECK(lim.on_accept(a));
  CHECK(lim.on_accept(a));
  CHECK(lim.on_accept(a));
  CHECK(lim.on_accept(a));
  CHECK_FALSE(lim.on_accept(a));
  CHECK(lim.on_accept("192.0.2.2"));  // another address is not affected
  for (int i = 0; i < 4; ++i) lim.on_exchange_end(a);
  CHECK(lim.may_upgrade(a));

  // Sessions: two open, the third (racing past the upgrade check) is closed and never seen.
  auto c1 = std::make_shared<fake_connection>(1, a + ":1");
  auto c2 = std::make_shared<fake_connection>(2, a + ":2");
  auto c3 = std::make_shared<fake_connection>(3, a + ":3");
  lim.on_open(c1);
  lim.on_open(c2);
  CHECK_FALSE(lim.may_upgrade(a));
  lim.on_open(c3);
  CHECK(c3->close_code == 1008);
  CHECK(c3->close_text == "too many connections from this address");
  std::string text = "x";
  lim.on_text(c3, std::move(text));
  lim.on_text(c1, std::string("y"));
  lim.on_close(c3, close_reason{close_cause::server_closed, 1008, ""});
  CHECK(inner.opened == std::vector<std::uint64_t>{1, 2});
  CHECK(inner.texts == std::vector<std::uint64_t>{1});
  CHECK(inner.closed.empty());
  // Open sessions and pending exchanges add up at accept: 2 open + 2 pending = 4.
  CHECK(lim.on_accept(a));
  CHECK(lim.on_accept(a));
  CHECK_FALSE(lim.on_accept(a));
  lim.on_exchange_end(a);
  lim.on_exchange_end(a);

  // A session that ends frees its place.
  lim.on_close(c1, close_reason{close_cause::peer_closed, 1000, ""});
  CHECK(inner.closed == std::vector<std::uint64_t>{1});
  CHECK(lim.may_upgrade(a));
  auto c4 = std::make_shared<fake_connection>(4, a + ":4");
  lim.on_open(c4);
  CHECK(c4->close_code == 0);
  CHECK(inner.opened == std::vector<std::uint64_t>{1, 2, 4});
}
