// /admin/events (history, filters, paging) and /admin/events/stream (live, heartbeats, resume).

#include <catch2/catch_test_macros.hpp>

#include <set>
#include <sstream>

#include "tests/admin/admin_fixtures.hpp"

using namespace sealcast;
using namespace sealcast::test;
using namespace std::chrono_literals;

namespace {

/// The `id:` values and `data:` JSON objects of an SSE body, in order.
struct sse_events {
  std::vector<std::uint64_t> ids;
  std::vector<json::object> data;
};

sse_events parse_sse(const std::string& body) {
  sse_events out;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("id: ")) out.ids.push_back(std::stoull(line.substr(4)));
    if (line.starts_with("data: ")) {
      boost::system::error_code ec;
      auto v = json::parse(line.substr(6), ec);
      if (!ec && v.is_object()) out.data.push_back(v.as_object());
    }
  }
  return out;
}

std::vector<json::object> events_of(const broker_fixture& f, const std::string& query) {
  auto r = admin_ok(f, "/admin/events" + query);
  std::vector<json::object> out;
  for (const auto& e : r.at("events").as_array()) out.push_back(e.as_object());
  return out;
}

}  // namespace

TEST_CASE("stored events are listed oldest first with filters, since and paging", "[admin][events]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  const auto g1 = make_group(*a, {b.get()}, "one");
  const auto g2 = make_group(*b, {}, "two");
  REQUIRE(a->publish(g1, "x").is_ok());
  std::vector<json::object> all;
  // Events are persisted in batches shortly after they happen.
  REQUIRE(eventually([&] {
    all = events_of(f, "?limit=1000");
    return !all.empty() && str(all.back().at("type")) == "message_published";
  }));
  REQUIRE(all.size() >= 8);
  for (std::size_t i = 1; i < all.size(); ++i) CHECK(num(all[i].at("seq")) > num(all[i - 1].at("seq")));
  for (const auto& e : all) {
    CHECK(e.contains("ts"));
    CHECK(e.contains("group"));
    CHECK(e.contains("user"));
    CHECK(e.contains("message"));
    CHECK(e.at("data").is_object());
  }

  auto created = events_of(f, "?type=group_created");
  REQUIRE(created.size() == 2);
  CHECK(str(created[0].at("group")) == g1.hex());
  CHECK(str(created[1].at("group")) == g2.hex());
  CHECK(str(created[0].at("data").at("name")) == "one");

  auto in_g2 = events_of(f, "?group=" + g2.hex());
  REQUIRE(!in_g2.empty());
  for (const auto& e : in_g2) CHECK(str(e.at("group")) == g2.hex());

  auto by_a = events_of(f, "?user=" + a->user_id().hex() + "&type=user_connected,message_published");
  REQUIRE(by_a.size() == 2);
  CHECK(str(by_a[0].at("type")) == "user_connected");
  CHECK(str(by_a[1].at("type")) == "message_published");

  const auto first = num(all[0].at("seq"));
  auto after_first = events_of(f, "?since=" + std::to_string(first));
  REQUIRE(!after_first.empty());
  CHECK(num(after_first[0].at("seq")) == num(all[1].at("seq")));  // since is exclusive
  CHECK(after_first.size() == all.size() - 1);

  // Page through with limit=3: every event once, in order, then next is null.
  std::vector<std::int64_t> paged;
  std::string since = "0";
  for (int i = 0; i < 100; ++i) {
    auto page = admin_ok(f, "/admin/events?limit=3&since=" + since);
    for (const auto& e : page.at("events").as_array()) paged.push_back(num(e.at("seq")));
    if (page.at("next").is_null()) break;
    since = std::to_string(num(page.at("next")));
  }
  REQUIRE(paged.size() >= all.size());
  for (std::size_t i = 0; i < all.size(); ++i) CHECK(paged[i] == num(all[i].at("seq")));

  for (const char* bad : {"/admin/events?type=nope", "/admin/events?limit=x", "/admin/events?limit=1001",
                          "/admin/events?since=-1", "/admin/events?group=zz", "/admin/events?user=12"}) {
    auto r = admin_get(f, bad);
    INFO(bad << " -> " << r.raw);
    CHECK(r.status == 400);
    CHECK(r.body.is_object());
  }
}

TEST_CASE("the event stream delivers an action within a second and heartbeats while idle", "[admin][events][sse]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  const auto g = make_group(*a, {b.get()}, "live");
  std::string error;
  auto s = http_stream_client::open("127.0.0.1", f.broker->admin_port(),
                                    "/admin/events/stream?type=message_published,message_delivered&heartbeat_ms=200",
                                    {}, &error);
  REQUIRE(s);
  CHECK(s->status() == 200);
  CHECK(s->header("Content-Type").starts_with("text/event-stream"));
  REQUIRE(s->read_until(": hb\n", 3s));  // idle: heartbeats only
  CHECK(s->body().find("data:") == std::string::npos);
  REQUIRE(eventually([&] { return stat(admin_ok(f, "/admin/stats"), "admin", "event_streams") == 1; }));

  auto p = a->publish(g, "watch this");
  REQUIRE(p.is_ok());
  CHECK(s->read_until("\"message_published\"", 1s));
  auto m = messages(*b, g, 1);
  REQUIRE(b->ack(g, m[0].seq));
  CHECK(s->read_until("\"message_delivered\"", 1s));  // not persisted by default, streamed live
  auto got = parse_sse(s->body());
  REQUIRE(got.data.size() == 2);
  CHECK(str(got.data[0].at("message")) == p.as<proto::publish_result>().id.hex());
  CHECK(str(got.data[1].at("user")) == b->user_id().hex());
  CHECK(got.ids.size() == 2);

  s.reset();  // the client goes away: the broker drops the stream and its subscription
  CHECK(eventually([&] { return stat(admin_ok(f, "/admin/stats"), "admin", "event_streams") == 0; }));
}

TEST_CASE("Last-Event-ID resumes from history without gaps or duplicates", "[admin][events][sse]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");
  const auto g = make_group(*a, {b.get()}, "resume");
  const std::string target = "/admin/events/stream?group=" + g.hex();

  // A first stream from the start of history sees the group's creation and two publishes.
  for (int i = 0; i < 2; ++i) REQUIRE(a->publish(g, "first " + std::to_string(i)).is_ok());
  auto s1 = http_stream_client::open("127.0.0.1", f.broker->admin_port(), target + "&since=0");
  REQUIRE(s1);
  // Wait until both publishes are in.
  REQUIRE(eventually(
      [&] {
        int n = 0;
        (void)s1->read_until("never-present", 50ms);
        for (const auto& e : parse_sse(s1->body()).data) n += str(e.at("type")) == "message_published";
        return n == 2;
      },
      5s));
  auto first = parse_sse(s1->body());
  CHECK(str(first.data.front().at("type")) == "group_created");
  const auto last_seen = first.ids.back();
  s1.reset();

  // Meanwhile: three more publishes.
  for (int i = 0; i < 3; ++i) REQUIRE(a->publish(g, "second " + std::to_string(i)).is_ok());
  auto s2 = http_stream_client::open("127.0.0.1", f.broker->admin_port(), target,
                                     {{"Last-Event-ID", std::to_string(last_seen)}});
  REQUIRE(s2);
  // Live while replaying: one more publish right after reconnecting.
  REQUIRE(a->publish(g, "live").is_ok());
  std::vector<std::string> published;
  REQUIRE(eventually(
      [&] {
        (void)s2->read_until("never-present", 50ms);
        published.clear();
        for (const auto& e : parse_sse(s2->body()).data)
          if (str(e.at("type")) == "message_published") published.push_back(str(e.at("message")));
        return published.size() >= 4;
      },
      5s));
  (void)s2->read_until("never-present", 300ms);  // anything extra (a duplicate) would show up now
  auto second = parse_sse(s2->body());
  REQUIRE(!second.ids.empty());
  CHECK(second.ids.front() > last_seen);
  for (std::size_t i = 1; i < second.ids.size(); ++i) CHECK(second.ids[i] > second.ids[i - 1]);
  std::set<std::uint64_t> unique(second.ids.begin(), second.ids.end());
  CHECK(unique.size() == second.ids.size());
  std::size_t pubs = 0;
  for (const auto& e : second.data) pubs += str(e.at("type")) == "message_published";
  CHECK(pubs == 4);

  CHECK(admin_get(f, "/admin/events/stream?type=bogus").status == 400);
  auto bad_id = http_call("127.0.0.1", f.broker->admin_port(), "GET", "/admin/events/stream",
                          {{"Last-Event-ID", "abc"}});
  CHECK(bad_id.status == 400);
  CHECK(admin_get(f, "/admin/events/stream?heartbeat_ms=5").status == 400);
}

TEST_CASE("a Last-Event-ID past the broker's current seq still gets live events", "[admin][events][sse]") {
  broker_fixture f;
  auto a = online(f.port(), "a");
  const auto g = make_group(*a, {}, "ahead");
  for (const char* id : {"999999999", "18446744073709551615"}) {
    INFO(id);
    auto s = http_stream_client::open("127.0.0.1", f.broker->admin_port(), "/admin/events/stream?group=" + g.hex(),
                                      {{"Last-Event-ID", id}});
    REQUIRE(s);
    REQUIRE(s->status() == 200);
    REQUIRE(s->read_until(": stream reset", 2s));
    auto p = a->publish(g, std::string("after ") + id);
    REQUIRE(p.is_ok());
    REQUIRE(s->read_until(p.as<proto::publish_result>().id.hex(), 2s));
    auto got = parse_sse(s->body());
    REQUIRE(got.ids.size() == 1);  // only the live event: nothing from history is replayed
    CHECK(str(got.data[0].at("type")) == "message_published");
  }
}

TEST_CASE("event seqs are not reused after a restart, and a resumed stream gets new events", "[admin][events][sse]") {
  // Delivered messages are kept, so nothing persisted follows the (streamed-only) delivery.
  broker_fixture f(sets({"pubsub.retain_delivered=3600"}));
  std::uint64_t last_seen = 0;
  {
    auto a = online(f.port(), "a");
    auto b = online(f.port(), "b");
    const auto g = make_group(*a, {b.get()}, "restart");
    auto s = http_stream_client::open("127.0.0.1", f.broker->admin_port(), "/admin/events/stream?since=0");
    REQUIRE(s);
    REQUIRE(a->publish(g, "one").is_ok());
    auto m = messages(*b, g, 1);
    // Let the publish's batch be written first, so the delivery's seq is the only unsaved one.
    std::this_thread::sleep_for(300ms);
    REQUIRE(b->ack(g, m[0].seq));
    // message_delivered is streamed, not persisted: its seq must still never come back.
    REQUIRE(s->read_until("\"message_delivered\"", 2s));
    (void)s->read_until("never-present", 300ms);
    auto got = parse_sse(s->body());
    REQUIRE(!got.ids.empty());
    last_seen = got.ids.back();
    CHECK(str(got.data.back().at("type")) == "message_delivered");
    // A crash after the bus saved its counter (it does within ~20 ms): no exit flush helps.
    std::this_thread::sleep_for(500ms);
    f.broker->kill_hard();
  }
  f.restart();

  auto s = http_stream_client::open("127.0.0.1", f.broker->admin_port(), "/admin/events/stream",
                                    {{"Last-Event-ID", std::to_string(last_seen)}});
  REQUIRE(s);
  auto c = online(f.port(), "c");
  REQUIRE(s->read_until(c->user_id().hex(), 2s));
  auto got = parse_sse(s->body());
  INFO("last seen " << last_seen << "; resumed stream: " << s->body());
  REQUIRE(!got.ids.empty());
  for (auto id : got.ids) CHECK(id > last_seen);
  CHECK(s->body().find(": stream reset") == std::string::npos);

  // The stored history is strictly increasing across the restart too (c's connection is
  // persisted a moment after it is streamed).
  std::vector<json::object> all;
  REQUIRE(eventually([&] {
    all = events_of(f, "?limit=1000");
    return !all.empty() && str(all.back().at("type")) == "user_connected" &&
           str(all.back().at("user")) == c->user_id().hex();
  }));
  for (std::size_t i = 1; i < all.size(); ++i) CHECK(num(all[i].at("seq")) > num(all[i - 1].at("seq")));
  CHECK(num(all.back().at("seq")) > static_cast<std::int64_t>(last_seen));
}
