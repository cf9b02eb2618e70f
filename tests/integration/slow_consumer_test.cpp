// A member that stops reading is disconnected (its stream waits for room, and its queue does not
// move for limits.stall_timeout_ms); the others keep receiving everything.

#include <atomic>
#include <thread>

#include "tests/integration/fixtures.hpp"

using namespace sealcast;
using namespace sealcast::test;
using namespace std::chrono_literals;

TEST_CASE("a member that never reads is disconnected; the others get every message", "[integration][slow]") {
  broker_fixture f(sets({"limits.slow_consumer_bytes=65536", "limits.max_inflight=100000", "storage.sync=false",
                         "limits.stall_timeout_ms=1000"}));
  auto a = online(f.port(), "a");
  auto b = online(f.port(), "b");  // stops reading after its key
  auto c = online(f.port(), "c");
  const auto g = make_group(*a, {b.get(), c.get()});
  c->know(*a);

  // c reads, acks and decrypts on its own thread; it also notices b going offline.
  std::atomic<bool> b_offline{false}, stop{false};
  std::atomic<std::uint64_t> c_count{0}, c_last_seq{0}, c_bad{0};
  std::thread reader([&] {
    while (!stop) {
      auto x = c->wait_for([](const proto::server_frame&) { return true; }, 200ms);
      if (!x) continue;
      if (auto* p = std::get_if<srv::presence>(&*x); p && p->user == b->user_id() && !p->online) b_offline = true;
      if (auto* m = std::get_if<srv::message>(&*x)) {
        if (m->seq != c_last_seq + 1 || !c->decrypt(*m).ok()) ++c_bad;
        c_last_seq = m->seq;
        ++c_count;
        c->ack(g, m->seq);
      }
    }
  });
  struct joiner {  // a failed REQUIRE must not leave a joinable thread behind
    std::atomic<bool>& stop;
    std::thread& t;
    ~joiner() {
      stop = true;
      if (t.joinable()) t.join();
    }
  } join_reader{stop, reader};

  // A few publishes in flight at a time: c's queue must stay far below the limit (the limit
  // counts bytes queued in the broker, so a burst bigger than it would cut off any reader),
  // while b's grows once the kernel buffers toward it are full.
  const std::string payload(4096, 'p');
  constexpr int window = 4;
  constexpr std::uint64_t total = 2000;  // ~11 MB toward b: more than the kernel buffers hold
  std::uint64_t published = 0;
  while (published < total) {
    for (int i = 0; i < window; ++i) {
      auto p = a->make_publish(g, payload);
      p.rid = proto::request_id::from_number(1000000 + published + static_cast<std::uint64_t>(i));
      REQUIRE(a->send_raw(proto::to_json(p)));
    }
    for (int i = 0; i < window; ++i) {
      auto ok = a->next_push<srv::ok>(10s);
      REQUIRE(ok);
      ++published;
    }
  }
  INFO("published " << published << ", c received " << c_count.load());
  // b's stream waits for room; its queue has not moved: the stall check closes it.
  std::this_thread::sleep_for(3s);
  // b reads what the kernel buffered for it, then meets the close (or, past the close timeout,
  // the dropped socket).
  const auto code = b->socket()->wait_close(15s);
  CHECK((code == 1008 || (code == 0 && b->socket()->closed())));
  for (int i = 0; i < 200 && !b_offline; ++i) std::this_thread::sleep_for(50ms);
  CHECK(b_offline.load());  // the others are told

  for (int i = 0; i < 200 && c_count < published; ++i) std::this_thread::sleep_for(50ms);
  stop = true;
  reader.join();
  CHECK(c_count.load() == published);
  CHECK(c_last_seq.load() == published);
  CHECK(c_bad.load() == 0);
  CHECK(c->request(cli::list_groups{}).is_ok());
}
