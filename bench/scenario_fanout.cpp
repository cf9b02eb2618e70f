// fanout: G publishers, each the owner of a group of M members, publish real end-to-end
// encrypted, signed messages; every member checks order, verifies, decrypts and acks. Latency
// starts at the intended send time (open loop: the schedule, not the actual send), so a broker
// that stalls is charged for the messages that queued behind the stall (no coordinated omission).
// The send time travels in the first 8 bytes of the plaintext (steady clock, same machine).

#include <algorithm>
#include <unordered_map>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "bench/fanout_common.hpp"
#include "bench/paced_loop.hpp"
#include "bench/scenarios.hpp"
#include "common/detail/coroutine_frame_warning.hpp"
#include "crypto/message.hpp"
#include "crypto/random.hpp"

namespace sealcast::bench {

namespace {

namespace asio = boost::asio;

/// A publisher's hooks: it only needs to know that its key arrived.
class publisher_hooks final : public client_hooks {
 public:
  explicit publisher_hooks(fanout_stats& st) : st_(st) {}
  void on_key(bench_client&, const protocol::server::key&, std::uint64_t, std::size_t) override {
    st_.keys.fetch_add(1);
  }
  void on_closed(bench_client&, const std::string&) override {
    if (!st_.closing.load()) st_.disconnects.fetch_add(1);
  }

 private:
  fanout_stats& st_;
};

/// Every publisher's signing key by user id; filled before the run, read-only afterwards.
using sender_keys = std::unordered_map<id16, bytes, id16_hash>;

/// A member: order check, signature and decryption, latency, cumulative acks. Runs on its
/// client's thread only (its io_context's), so its own state needs no locking.
class member_hooks final : public client_hooks {
 public:
  member_hooks(fanout_stats& st, const bench_options& o, const sender_keys& senders)
      : st_(st), o_(o), senders_(senders) {}

  void on_key(bench_client&, const protocol::server::key&, std::uint64_t, std::size_t) override {
    st_.keys.fetch_add(1);
  }
  void on_closed(bench_client&, const std::string&) override {
    if (!st_.closing.load()) st_.disconnects.fetch_add(1);
  }

  void on_message(bench_client& c, protocol::server::message& m, std::uint64_t recv_ns) override {
    if (m.seq <= last_seq_) {
      st_.duplicates.fetch_add(1, std::memory_order_relaxed);  // a redelivery
      return;
    }
    // With --all-publish a member's own publishes are holes in its seq (the broker does not
    // deliver a message to its sender): only the delivery count checks for losses then.
    if (m.seq > last_seq_ + 1 && !o_.all_publish) st_.gaps.fetch_add(m.seq - last_seq_ - 1, std::memory_order_relaxed);
    last_seq_ = m.seq;
    group_ = m.group;
    st_.delivery(recv_ns, open(c, m));
    if (last_seq_ - acked_seq_ >= o_.ack_every) ack(c);
  }

  /// Acks whatever is delivered and not acked yet.
  void ack(bench_client& c) {
    if (last_seq_ <= acked_seq_) return;
    acked_seq_ = last_seq_;
    c.send(protocol::to_json(protocol::client::ack{group_, acked_seq_}));
  }

 private:
  /// The send time in the plaintext, or nullopt when the message does not verify or decrypt.
  /// Section 7.3's order: the signature first (unless --no-verify), then the sender's ratchet
  /// index (a repeated index is a replay), then the AEAD.
  std::optional<std::uint64_t> open(bench_client& c, protocol::server::message& m) {
    if (!c.key(m.group, m.epoch)) {
      st_.missing_key.fetch_add(1, std::memory_order_relaxed);
      return std::nullopt;
    }
    const auto sender = senders_.find(m.sender);
    if (sender == senders_.end()) {
      st_.verify_failures.fetch_add(1, std::memory_order_relaxed);
      return std::nullopt;
    }
    crypto::message_context ctx;
    ctx.group = m.group;
    ctx.epoch = m.epoch;
    ctx.sender = m.sender;
    ctx.index = m.index;
    ctx.alg = m.alg;
    // The frame's buffers go into the sealed message and come back afterwards (the client
    // reuses them for the next frame); the signature buffer is this member's own.
    sig_.assign(m.sig.begin(), m.sig.end());
    crypto::sealed_message sealed{std::move(m.nonce), std::move(m.ct), std::move(sig_)};
    auto sent = open_sealed(c, m, ctx, sealed, sender->second);
    m.nonce = std::move(sealed.nonce);
    m.ct = std::move(sealed.ct);
    sig_ = std::move(sealed.sig);
    if (!sent) st_.verify_failures.fetch_add(1, std::memory_order_relaxed);
    return sent;
  }

  std::optional<std::uint64_t> open_sealed(bench_client& c, const protocol::server::message& m,
                                           const crypto::message_context& ctx, const crypto::sealed_message& sealed,
                                           const bytes& sign_pk) {
    if (o_.verify && !crypto::verify_message_sig(sign_pk, ctx, sealed)) return std::nullopt;
    auto key = c.take_message_key(m.group, m.epoch, m.sender, m.index);
    if (!key) return std::nullopt;
    auto pt = crypto::decrypt_message(*key, ctx, sealed);
    if (!pt || pt->size() < 8) return std::nullopt;
    return get_u64be(pt->data());
  }

  fanout_stats& st_;
  const bench_options& o_;
  const sender_keys& senders_;
  id16 group_;
  bytes sig_;
  std::uint64_t last_seq_ = 0;
  std::uint64_t acked_seq_ = 0;
};

/// One publisher and its group: seals with its client's own ratchet, and a publish is answered
/// by the broker's ok (stored, and with storage.sync synced) or error. On its client's thread only.
class sealcast_publisher final : public paced_publisher {
 public:
  sealcast_publisher(std::shared_ptr<bench_client> c, const bench_options& o)
      : client_(std::move(c)), plaintext_(crypto::random_bytes(o.size)), alg_(o.alg) {}

  void set_group(const id16& group, std::uint64_t epoch) {
    group_ = group;
    epoch_ = epoch;
  }
  [[nodiscard]] const std::shared_ptr<bench_client>& client() const { return client_; }
  [[nodiscard]] const boost::asio::any_io_executor& executor() const override { return client_->executor(); }
  [[nodiscard]] bool is_open() const override { return client_->is_open(); }

  status publish(std::uint64_t intended, publish_done done) override {
    auto& c = *client_;
    if (!c.key(group_, epoch_)) return error{errc::not_found, "the publisher holds no key"};
    for (int i = 0; i < 8; ++i) plaintext_[i] = static_cast<std::uint8_t>(intended >> (56 - 8 * i));
    auto next_key = c.next_message_key(group_, epoch_);  // the next index of the own ratchet
    if (!next_key) return error{next_key.err().code, "ratchet: " + next_key.err().message};
    crypto::message_context ctx;
    ctx.group = group_;
    ctx.epoch = epoch_;
    ctx.sender = c.user_id();
    ctx.alg = alg_;
    ctx.index = next_key->first;
    auto sealed = crypto::encrypt_message(c.identity().signer(), next_key->second, ctx, plaintext_);
    if (!sealed) return error{sealed.err().code, "encrypt: " + sealed.err().message};
    protocol::client::publish f;
    f.group = group_;
    f.epoch = epoch_;
    f.index = ctx.index;
    f.alg = alg_;
    f.nonce = std::move(sealed->nonce);
    f.ct = std::move(sealed->ct);
    std::copy(sealed->sig.begin(), sealed->sig.end(), f.sig.begin());
    c.request(std::move(f), [done = std::move(done)](reply&& r) {
      const auto now_ns = steady_ns();
      if (r.is_ok())
        done(true, now_ns, {});
      else
        done(false, now_ns, r.describe());
    });
    return {};
  }

 private:
  std::shared_ptr<bench_client> client_;
  bytes plaintext_;
  aead_alg alg_;
  id16 group_;
  std::uint64_t epoch_ = 0;
};

/// The members whose clients run on one io_context (one thread).
struct ack_sweep_set {
  std::vector<std::pair<std::shared_ptr<bench_client>, member_hooks*>> members;
};

/// Acks, every --ack-delay-ms, what the count-based acks left over: one timer per io thread that
/// sweeps that thread's members (rather than a timer per member re-armed every period). Runs on
/// the io_context of its members, the only thread that touches their state.
asio::awaitable<void> ack_sweeper(std::shared_ptr<ack_sweep_set> set, fanout_stats& st,
                                  std::chrono::milliseconds period) {
  while (!st.stop_acks.load(std::memory_order_relaxed)) {
    co_await sleep_for(period);
    for (auto& [c, h] : set->members)
      if (c->is_open()) h->ack(*c);
  }
  for (auto& [c, h] : set->members)
    if (c->is_open()) h->ack(*c);
}

}  // namespace

asio::awaitable<status> run_fanout(bench_context& ctx, report& out) {
  const auto& o = ctx.options();
  // Per group: the owner, then the members (fanout_shape).
  const auto [per_group, recipients, total] = start_fanout(ctx, out);

  // Everything clients and handlers touch lives as long as the io_context (see bench_context::keep).
  struct fanout_run {
    std::shared_ptr<fanout_stats> stats = std::make_shared<fanout_stats>();
    std::vector<std::unique_ptr<sealcast_publisher>> pubs;
    std::vector<std::unique_ptr<client_hooks>> hooks;
    std::vector<member_hooks*> members;  ///< per client: its member hooks, or null for a publishing-only owner
    std::vector<std::shared_ptr<bench_client>> clients;
    sender_keys senders;
  };
  auto run = std::make_shared<fanout_run>();
  ctx.keep(run);
  auto& st = *run->stats;
  auto& pubs = run->pubs;
  auto& clients = run->clients;
  for (std::size_t g = 0; g < o.groups; ++g) {
    for (std::size_t k = 0; k < per_group; ++k) {
      if (k == 0 && !o.all_publish) {
        run->hooks.push_back(std::make_unique<publisher_hooks>(st));
        run->members.push_back(nullptr);
      } else {
        auto h = std::make_unique<member_hooks>(st, o, run->senders);
        run->members.push_back(h.get());
        run->hooks.push_back(std::move(h));
      }
      clients.push_back(ctx.make_client(run->hooks.back().get()));
      if (k == 0 || o.all_publish) {
        pubs.push_back(std::make_unique<sealcast_publisher>(clients.back(), o));
        run->senders.emplace(clients.back()->user_id(), clients.back()->identity().sign_pk());
      }
    }
  }
  ctx.set_progress(fanout_progress(run->stats, total));

  auto logins = co_await login_all(ctx, clients, 0, &st.logins);
  out.add("connections", double(logins.ok), "", "connections authenticated");
  out.add("login_seconds", logins.seconds, "s", "time to log all in");
  if (logins.failed > 0)
    co_return error{errc::internal, std::to_string(logins.failed) + " logins failed, first: " + logins.first_error};

  st.phase = "create";
  for (std::size_t g = 0; g < o.groups; ++g) {
    protocol::client::create_group cg;
    cg.name = "bench-fanout-" + std::to_string(g);
    for (std::size_t k = 1; k < per_group; ++k) cg.members.push_back(clients[g * per_group + k]->user_id());
    auto c = clients[g * per_group];
    auto r = co_await on_client(c, c->call(std::move(cg), o.timeout));
    auto res = r.ok ? protocol::parse_ok_result<protocol::create_group_result>(*r.ok)
                    : result<protocol::create_group_result>(errc::internal, r.describe());
    if (!res) co_return error{errc::internal, "create_group failed: " + res.err().message};
    // The group's publishers: its owner, or (--all-publish) all its per_group clients.
    const std::size_t first = o.all_publish ? g * per_group : g, count = o.all_publish ? per_group : 1;
    for (std::size_t i = first; i < first + count; ++i) pubs[i]->set_group(res->group, res->epoch);
  }
  if (!co_await wait_until([&] { return st.keys.load() >= total; }, o.timeout))
    co_return error{errc::internal, "only " + std::to_string(st.keys.load()) + " of " + std::to_string(total) +
                                        " clients received the group key"};

  // One ack sweep per io thread over the members whose clients run there.
  const auto ack_period = std::chrono::milliseconds(o.ack_delay_ms);
  std::vector<std::pair<asio::any_io_executor, std::shared_ptr<ack_sweep_set>>> sweeps;
  for (std::size_t i = 0; i < clients.size(); ++i) {
    if (!run->members[i]) continue;
    auto it = std::find_if(sweeps.begin(), sweeps.end(), [&](auto& s) { return s.first == clients[i]->executor(); });
    if (it == sweeps.end()) it = sweeps.insert(sweeps.end(), {clients[i]->executor(), std::make_shared<ack_sweep_set>()});
    it->second->members.emplace_back(clients[i], run->members[i]);
  }
  for (auto& [ex, set] : sweeps) asio::co_spawn(ex, ack_sweeper(set, st, ack_period), asio::detached);
  const auto start = open_run_window(st, o);
  const double per_publisher = o.rate ? *o.rate / static_cast<double>(pubs.size()) : 0;
  for (std::size_t i = 0; i < pubs.size(); ++i)
    asio::co_spawn(pubs[i]->executor(),
                   paced_publish_loop(*pubs[i], st, o, per_publisher, double(i) / double(pubs.size()), start,
                                      st.window_end.load()),
                   asio::detached);
  const auto [cpu, drained] = co_await measure_and_drain(st, o, pubs.size(), recipients);
  st.stop_acks = true;
  co_await sleep_for(2 * ack_period);  // the sweeps send their last acks
  st.phase = "close";
  st.closing = true;
  co_await close_all(clients, std::chrono::seconds(5));

  std::uint64_t client_errors = 0;
  for (auto& c : clients) {
    client_errors += c->counters().parse_errors.load() + c->counters().key_errors.load();
    st.server_errors.fetch_add(c->counters().stray_errors.load());
  }
  fanout_report(out, st, o, recipients, client_errors, cpu, drained, logins);
  co_return status{};
}

}  // namespace sealcast::bench
