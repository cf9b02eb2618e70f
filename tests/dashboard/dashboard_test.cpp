// The dashboard as a browser sees it: sealcastd serves /admin/, headless Chromium runs the page's
// script against the live API, and the DOM it dumps must show the numbers of the traffic the
// test made. Skipped (with a warning) only where Chromium is not installed.

#include <catch2/catch_test_macros.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <optional>
#include <regex>

#include "tests/integration/fixtures.hpp"

using namespace sealcast;
using namespace sealcast::test;

namespace {

constexpr const char* chromium = "/usr/bin/chromium";

bool have_chromium() {
  if (std::filesystem::exists(chromium)) return true;
  WARN("skipped: " << chromium << " is not installed, the dashboard cannot be loaded in a browser");
  return false;
}

/// Loads `url` in a fresh headless Chromium profile, lets the page run for `budget_ms` of
/// virtual time, and returns the DOM it ends with. `resolve` maps host names for the browser
/// ("MAP evil.example 127.0.0.1"), as a DNS rebinding attacker's name server would.
std::string dump_dom(const std::string& url, int budget_ms = 5000, const std::string& resolve = "") {
  temp_dir profile;
  std::vector<std::string> args{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                                "--user-data-dir=" + profile.path().string(),
                                "--virtual-time-budget=" + std::to_string(budget_ms)};
  if (!resolve.empty()) args.push_back("--host-resolver-rules=" + resolve);
  args.insert(args.end(), {"--dump-dom", url});
  auto r = run_program(chromium, args, std::chrono::seconds(90));
  INFO("chromium stderr: " << r.err.substr(0, 2000));
  REQUIRE(r.exit_code == 0);
  REQUIRE(r.out.find("</html>") != std::string::npos);
  return r.out;
}

/// With SEALCAST_DASHBOARD_SCREENSHOT=<file.png> set, also saves what the page looks like (for
/// a person to look at; nothing is asserted on it).
void maybe_screenshot(const std::string& url) {
  const char* path = std::getenv("SEALCAST_DASHBOARD_SCREENSHOT");
  if (!path || !*path) return;
  temp_dir profile;
  (void)run_program(chromium,
                    {"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--hide-scrollbars", "--user-data-dir=" + profile.path().string(), "--window-size=1280,1000",
                     "--virtual-time-budget=5000", std::string("--screenshot=") + path, url},
                    std::chrono::seconds(90));
}

/// The text of the element with this id, or nullopt.
std::optional<std::string> text_of(const std::string& dom, const std::string& id) {
  const std::regex re("<[a-z]+[^>]* id=\"" + id + "\"[^>]*>([^<]*)<");
  std::smatch m;
  if (!std::regex_search(dom, m, re)) return std::nullopt;
  return m[1].str();
}

/// The value of `attr` on the element with this id, or nullopt.
std::optional<std::string> attr_of(const std::string& dom, const std::string& id, const std::string& attr) {
  const std::regex re("<[a-z]+[^>]* id=\"" + id + "\"[^>]*>");
  std::smatch m;
  if (!std::regex_search(dom, m, re)) return std::nullopt;
  const std::regex a(" " + attr + "=\"([^\"]*)\"");
  std::smatch v;
  const std::string tag = m[0].str();
  if (!std::regex_search(tag, v, a)) return std::nullopt;
  return v[1].str();
}

/// A web server of another site: answers every request with `page` (text/html), on 127.0.0.1.
class foreign_site {
 public:
  explicit foreign_site(std::string page)
      : page_(std::move(page)), acceptor_(ioc_, {boost::asio::ip::make_address("127.0.0.1"), 0}),
        thread_([this] { serve(); }) {}
  ~foreign_site() {
    stop_ = true;
    boost::system::error_code ec;
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::socket wake(ioc);
    wake.connect(acceptor_.local_endpoint(), ec);  // unblocks accept()
    thread_.join();
  }
  foreign_site(const foreign_site&) = delete;
  foreign_site& operator=(const foreign_site&) = delete;
  [[nodiscard]] std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  void serve() {
    while (!stop_) {
      boost::system::error_code ec;
      boost::asio::ip::tcp::socket s(ioc_);
      acceptor_.accept(s, ec);
      if (ec || stop_) break;
      std::string request;
      boost::asio::read_until(s, boost::asio::dynamic_buffer(request), "\r\n\r\n", ec);
      if (ec) continue;
      const std::string answer = "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: " +
                                 std::to_string(page_.size()) + "\r\nConnection: close\r\n\r\n" + page_;
      boost::asio::write(s, boost::asio::buffer(answer), ec);
    }
  }

  std::string page_;
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

/// Polls `pred` for up to 5 s.
bool eventually_true(const std::function<bool()>& pred) {
  for (int i = 0; i < 250; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

/// GET on the admin listener, parsed; fails the test unless it is a 200 with JSON.
boost::json::value admin_json(std::uint16_t port, const std::string& target, const header_pairs& headers = {}) {
  auto r = http_get("127.0.0.1", port, target, headers);
  INFO(target << " -> " << r.status << " " << r.body);
  REQUIRE(r.status == 200);
  return boost::json::parse(r.body);
}

std::uint64_t pubsub_count(std::uint16_t port, const char* name, const header_pairs& headers = {}) {
  auto v = admin_json(port, "/admin/stats", headers);
  return boost::json::value_to<std::uint64_t>(v.at("pubsub").at(name));
}

/// Waits until the API counts `n` messages published and `n` delivered (to the one other
/// member): the counters follow the acks closely, but not in the same instant.
void await_counts(std::uint16_t port, std::uint64_t n, const header_pairs& headers = {}) {
  for (int i = 0; i < 250; ++i) {
    if (pubsub_count(port, "messages_published", headers) >= n &&
        pubsub_count(port, "messages_delivered", headers) >= n)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  REQUIRE(pubsub_count(port, "messages_published", headers) == n);
  REQUIRE(pubsub_count(port, "messages_delivered", headers) == n);
}

/// Two members, one group, `n` messages published by one and read by the other.
struct traffic {
  std::unique_ptr<test_client> alice, bob;
  id16 group;

  traffic(std::uint16_t client_port, int n) {
    alice = online(client_port, "alice");
    bob = online(client_port, "bob");
    group = make_group(*alice, {bob.get()}, "dash-room");
    for (int i = 0; i < n; ++i) REQUIRE(alice->publish(group, "hello " + std::to_string(i)).is_ok());
    const auto got = messages(*bob, group, static_cast<std::size_t>(n));
    if (!got.empty()) REQUIRE(bob->ack(group, got.back().seq));
  }
};

}  // namespace

TEST_CASE("the dashboard assets are served with their content types and cache headers", "[dashboard]") {
  broker_fixture f;
  const auto port = f.broker->admin_port();
  auto page = http_get("127.0.0.1", port, "/admin/");
  REQUIRE(page.status == 200);
  CHECK(page.header("Content-Type") == "text/html; charset=utf-8");
  CHECK(page.header("Cache-Control") == "no-cache");
  CHECK(page.header("Content-Security-Policy").find("script-src 'self'") != std::string::npos);
  CHECK(page.body.find("<script src=\"dashboard.js\"></script>") != std::string::npos);
  CHECK(page.body.find("http://") == std::string::npos);  // nothing from other origins
  CHECK(page.body.find("https://") == std::string::npos);

  auto js = http_get("127.0.0.1", port, "/admin/dashboard.js");
  REQUIRE(js.status == 200);
  CHECK(js.header("Content-Type") == "text/javascript; charset=utf-8");
  CHECK(js.body.find("/admin/events/stream") != std::string::npos);
  auto css = http_get("127.0.0.1", port, "/admin/dashboard.css");
  REQUIRE(css.status == 200);
  CHECK(css.header("Content-Type") == "text/css; charset=utf-8");

  SECTION("a matching ETag gets 304 without a body") {
    const auto etag = page.header("ETag");
    REQUIRE_FALSE(etag.empty());
    auto again = http_get("127.0.0.1", port, "/admin/", {{"If-None-Match", etag}});
    CHECK(again.status == 304);
    CHECK(again.body.empty());
  }
  SECTION("/admin redirects to /admin/ so that relative asset links resolve") {
    auto r = http_get("127.0.0.1", port, "/admin");
    CHECK(r.status == 301);
    CHECK(r.header("Location") == "/admin/");
  }
  SECTION("POST is not a method of the page") { CHECK(http_call("127.0.0.1", port, "POST", "/admin/").status == 405); }
}

TEST_CASE("the dashboard in headless Chromium shows the live counters and events and the group's epoch",
          "[dashboard][browser]") {
  if (!have_chromium()) SKIP("chromium is not installed");
  broker_fixture f;
  const auto admin = f.broker->admin_port();
  constexpr int n = 7;
  traffic t(f.port(), n);
  await_counts(admin, n);
  const auto group = admin_json(admin, "/admin/groups/" + t.group.hex());
  const auto epoch = boost::json::value_to<std::uint64_t>(group.at("epoch"));

  const auto dom = dump_dom("http://127.0.0.1:" + std::to_string(admin) + "/admin/");
  maybe_screenshot("http://127.0.0.1:" + std::to_string(admin) + "/admin/");
  INFO(dom.substr(0, 6000));
  CHECK(attr_of(dom, "status", "data-state") == "live");
  CHECK(text_of(dom, "stat-published") == std::to_string(n));
  CHECK(attr_of(dom, "stat-published", "data-value") == std::to_string(n));
  CHECK(text_of(dom, "stat-delivered") == std::to_string(n));
  // Pending drops as the reaper cleans delivered messages: a number, not a fixed one.
  CHECK(std::regex_match(text_of(dom, "stat-pending").value_or(""), std::regex("[0-9]+")));
  CHECK(std::regex_match(text_of(dom, "stat-latency-p99").value_or(""), std::regex("[0-9]+\\.[0-9]{2}")));
  CHECK(text_of(dom, "stat-connections") == "2");  // alice and bob are still connected
  CHECK(text_of(dom, "stat-groups") == "1");
  // The rate charts have samples: the page polled more than once.
  const auto points = attr_of(dom, "chart-rates", "data-points");
  REQUIRE(points);
  CHECK(std::stoi(*points) >= 1);
  // The events table has the publishes, from history, with the group on them.
  CHECK(std::regex_search(dom, std::regex("<tr data-testid=\"event-row\" data-seq=\"[0-9]+\" "
                                          "data-type=\"message_published\" data-group=\"" +
                                          t.group.hex() + "\"")));
  // The group row carries the epoch the API reports.
  CHECK(std::regex_search(dom, std::regex("<tr data-testid=\"group-row\" data-group=\"" + t.group.hex() +
                                          "\" data-epoch=\"" + std::to_string(epoch) + "\"")));
  CHECK(dom.find("dash-room") != std::string::npos);
}

TEST_CASE("the dashboard in headless Chromium shows an event that happens while the page is open",
          "[dashboard][browser]") {
  if (!have_chromium()) SKIP("chromium is not installed");
  broker_fixture f;
  const auto admin = f.broker->admin_port();
  traffic t(f.port(), 1);
  await_counts(admin, 1);
  // A second group created while Chromium runs reaches the page through the live stream only
  // if the page is already past its history load; either way it must be on the page. Chromium
  // runs the page on virtual time, so it may finish before a group made in real time exists:
  // up to three pages, each with its own late group created as soon as its live stream opens.
  test_client carol;
  carol.login(f.port(), "carol");
  bool shown = false;
  std::string dom;
  for (int attempt = 0; attempt < 3 && !shown; ++attempt) {
    const std::string name = "late-room-" + std::to_string(attempt);
    std::string late_error;
    std::jthread later([&] {
      // No Catch2 assertions off the main thread: failures are reported through late_error.
      try {
        for (int i = 0; i < 4000; ++i) {  // the page's stream is open, or 20 s
          auto st = http_get("127.0.0.1", admin, "/metrics");
          if (st.body.find("\nsealcast_admin_event_streams 0") == std::string::npos &&
              st.body.find("\nsealcast_admin_event_streams ") != std::string::npos)
            break;
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        (void)carol.create_group(name, {});
      } catch (const std::exception& e) {
        late_error = e.what();
      }
    });
    dom = dump_dom("http://127.0.0.1:" + std::to_string(admin) + "/admin/", 8000);
    later.join();
    REQUIRE(late_error.empty());
    shown = dom.find(name) != std::string::npos;
  }
  INFO(dom.substr(0, 6000));
  CHECK(shown);
  CHECK(std::regex_search(dom, std::regex("data-type=\"group_created\"")));
}

TEST_CASE("the dashboard renders with a required admin token passed in the URL fragment", "[dashboard][browser]") {
  if (!have_chromium()) SKIP("chromium is not installed");
  broker_fixture f(sets({"admin.token=s3cret-token"}));
  const auto admin = f.broker->admin_port();
  const header_pairs auth = {{"Authorization", "Bearer s3cret-token"}};
  constexpr int n = 3;
  traffic t(f.port(), n);
  await_counts(admin, n, auth);
  REQUIRE(http_get("127.0.0.1", admin, "/admin/stats").status == 401);
  const std::string page = "http://127.0.0.1:" + std::to_string(admin) + "/admin/";

  SECTION("with the token the numbers show") {
    const auto dom = dump_dom(page + "#token=s3cret-token");
    INFO(dom.substr(0, 6000));
    CHECK(attr_of(dom, "status", "data-state") == "live");
    CHECK(text_of(dom, "stat-published") == std::to_string(n));
    CHECK(dom.find("data-group=\"" + t.group.hex() + "\"") != std::string::npos);
    CHECK(std::regex_search(dom, std::regex("<section id=\"auth\" data-testid=\"auth\" hidden")));
  }
  SECTION("without it the page asks for the token and shows no numbers") {
    const auto dom = dump_dom(page);
    INFO(dom.substr(0, 6000));
    CHECK(attr_of(dom, "status", "data-state") == "unauthorized");
    CHECK(text_of(dom, "stat-published") == "–");
    CHECK_FALSE(std::regex_search(dom, std::regex("<section id=\"auth\" data-testid=\"auth\" hidden")));
  }
  SECTION("with a wrong token the page asks again") {
    const auto dom = dump_dom(page + "#token=wrong");
    CHECK(attr_of(dom, "status", "data-state") == "unauthorized");
  }
}

TEST_CASE("the dashboard in headless Chromium loads under a loopback name but not under a rebound one",
          "[dashboard][browser][host]") {
  if (!have_chromium()) SKIP("chromium is not installed");
  broker_fixture f;
  const auto admin = f.broker->admin_port();
  traffic t(f.port(), 2);
  await_counts(admin, 2);

  // The same page under localhost: its API calls go to the same origin and are answered.
  const auto dom = dump_dom("http://localhost:" + std::to_string(admin) + "/admin/");
  INFO(dom.substr(0, 6000));
  CHECK(attr_of(dom, "status", "data-state") == "live");
  CHECK(text_of(dom, "stat-published") == "2");

  // DNS rebinding: an attacker's name resolving to the listener. The browser calls that origin
  // its own and would let the page read every answer; the broker serves nothing under it.
  const auto rebound = dump_dom("http://evil.example:" + std::to_string(admin) + "/admin/", 5000,
                                "MAP evil.example 127.0.0.1");
  INFO(rebound.substr(0, 2000));
  CHECK(rebound.find("forbidden_host") != std::string::npos);
  CHECK(rebound.find("stat-published") == std::string::npos);
}

TEST_CASE("a page on another site cannot rotate a group key from a browser", "[dashboard][browser][origin]") {
  if (!have_chromium()) SKIP("chromium is not installed");
  broker_fixture f;
  const auto admin = f.broker->admin_port();
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  const auto g = make_group(*a, {b.get()}, "target");
  const std::string rotate = "http://127.0.0.1:" + std::to_string(admin) + "/admin/groups/" + g.hex() + "/rotate";
  // A simple request (no preflight): the browser sends it and only hides the answer from the page.
  foreign_site evil(
      "<!doctype html><html><body><script>"
      "fetch('" + rotate + "', {method: 'POST', mode: 'no-cors', body: 'now'})"
      ".then(() => document.body.setAttribute('data-sent', 'yes'),"
      "      (e) => document.body.setAttribute('data-sent', 'failed ' + e));"
      "</script></body></html>");
  const auto dom = dump_dom("http://evil.example:" + std::to_string(evil.port()) + "/", 3000,
                            "MAP evil.example 127.0.0.1");
  INFO(dom.substr(0, 2000));
  REQUIRE(dom.find("data-sent=\"yes\"") != std::string::npos);
  // It reached the broker, which refused it: no rotation, and the log says why.
  CHECK(eventually_true([&] { return f.broker->log().find("cross-site request refused") != std::string::npos; }));
  CHECK(f.broker->log().find("evil.example") != std::string::npos);
  const auto group = admin_json(admin, "/admin/groups/" + g.hex());
  CHECK(boost::json::value_to<std::uint64_t>(group.at("epoch")) == 1);
  const auto stats = admin_json(admin, "/admin/stats");
  CHECK(boost::json::value_to<std::uint64_t>(stats.at("encryption").at("key_rotations")) == 0);
}
