#include <catch2/catch_test_macros.hpp>

#include "config/config.hpp"

using namespace sealcast;

TEST_CASE("listen values split into host and port", "[config][endpoint]") {
  struct example {
    const char* listen;
    const char* host;
    std::uint16_t port;
  };
  for (auto [listen, host, port] :
       {example{"127.0.0.1:7800", "127.0.0.1", 7800}, example{"0.0.0.0:0", "0.0.0.0", 0},
        example{"[::1]:7801", "::1", 7801}, example{"[::]:65535", "::", 65535},
        example{"localhost:80", "localhost", 80},
        example{"broker-1.example.org:443", "broker-1.example.org", 443}}) {
    INFO(listen);
    auto ep = parse_endpoint(listen);
    REQUIRE(ep);
    CHECK(ep->host == host);
    CHECK(ep->port == port);
  }
}

TEST_CASE("malformed listen values are refused with a reason", "[config][endpoint]") {
  struct example {
    const char* listen;
    const char* reason;
  };
  for (auto [listen, reason] : {
           example{"", "empty address"},
           example{"localhost", "missing ':PORT'"},
           example{":7800", "missing host; use 0.0.0.0 or [::] for every interface"},
           example{"::1:7800", "an IPv6 address needs brackets, as in [::1]:7800"},
           example{"[::1]", "missing ':PORT'"},
           example{"[::1:7800", "missing ']' after the IPv6 address"},
           example{"[nothex]:1", "'nothex' is not an IPv6 address"},
           example{"256.0.0.1:1", "'256.0.0.1' is not an IPv4 address"},
           example{"1.2.3:1", "'1.2.3' is not an IPv4 address"},
           example{"-bad-.com:1", "'-bad-.com' is not a valid host name"},
           example{"a b:1", "'a b' is not a valid host name"},
           example{"host:", "port '' is not a number 0..65535"},
           example{"host:http", "port 'http' is not a number 0..65535"},
           example{"host:-1", "port '-1' is not a number 0..65535"},
           example{"host:65536", "port 65536 is above 65535"},
           example{"host:123456", "port '123456' is not a number 0..65535"},
       }) {
    INFO(listen);
    auto ep = parse_endpoint(listen);
    REQUIRE_FALSE(ep);
    CHECK(ep.err().message == reason);
  }
}

TEST_CASE("loopback hosts are 127.0.0.0/8, ::1 and localhost", "[config][endpoint]") {
  for (auto host :
       {"127.0.0.1", "127.255.0.9", "::1", "[::1]", "localhost", "LocalHost", "::ffff:127.0.0.1"}) {
    INFO(host);
    CHECK(is_loopback(host));
  }
  for (auto host : {"0.0.0.0", "::", "10.0.0.1", "128.0.0.1", "localhost.example.org", "::2", "",
                    "example.org"}) {
    INFO(host);
    CHECK_FALSE(is_loopback(host));
  }
}
