#include "tests/client/hostile_broker.hpp"

#include <algorithm>
#include <deque>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "crypto/auth.hpp"
#include "crypto/group_key.hpp"
#include "crypto/message.hpp"
#include "crypto/random.hpp"
#include "crypto/ratchet.hpp"
#include "protocol/codec.hpp"

namespace sealcast::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

key32 k32(byte_view b) {
  key32 out{};
  std::copy_n(b.begin(), std::min<std::size_t>(b.size(), 32), out.begin());
  return out;
}

sig64 s64(byte_view b) {
  sig64 out{};
  std::copy_n(b.begin(), std::min<std::size_t>(b.size(), 64), out.begin());
  return out;
}

protocol::change wire_change(const crypto::change& c) {
  protocol::change w;
  w.action = c.action;
  w.user = c.user;
  if (c.action == change_action::add || c.action == change_action::join) w.kx_pk = c.kx_pk;
  w.role = c.role;
  w.by = c.by;
  w.by_pk = c.by_pk;
  w.sig = c.sig;
  return w;
}

}  // namespace

// -- group_sim -----------------------------------------------------------------------------------

group_sim::group_sim(id16 group, key_custody custody, group_policy policy, const crypto::identity& broker)
    : group_(group), custody_(custody), policy_(policy), broker_(broker) {}

crypto::change group_sim::proposed(const crypto::identity& proposer, std::uint64_t epoch, crypto::change c) const {
  c.by = proposer.user_id();
  c.by_pk = k32(proposer.sign_pk());
  c.sig = crypto::sign_proposal(proposer.signer(), group_, epoch, c);
  return c;
}

crypto::change group_sim::add_of(const crypto::identity& who, member_role role) {
  crypto::change c;
  c.action = change_action::add;
  c.user = who.user_id();
  c.kx_pk = k32(who.kx_pk());
  c.role = role;
  return c;
}

crypto::change group_sim::remove_of(const id16& who) {
  crypto::change c;
  c.action = change_action::remove;
  c.user = who;
  return c;
}

const sim_epoch& group_sim::genesis(const crypto::identity& owner, const std::vector<const crypto::identity*>& others) {
  std::vector<crypto::change> changes;
  auto first = add_of(owner, member_role::owner);
  first.by = owner.user_id();
  changes.push_back(first);
  for (const auto* o : others) {
    auto c = add_of(*o);
    c.by = owner.user_id();
    changes.push_back(c);
  }
  if (custody_ == key_custody::client) return commit(owner, changes, {}, owner.user_id());
  return commit(broker_, changes, {}, broker_.user_id());
}

const sim_epoch& group_sim::commit(const crypto::identity& signer, std::vector<crypto::change> changes,
                                   std::optional<key_custody> custody, std::optional<id16> issuer) {
  sim_epoch ep;
  ep.epoch = current() + 1;
  if (const auto prev = epochs_.find(ep.epoch - 1); prev != epochs_.end()) ep.members = prev->second.members;
  for (const auto& c : changes) (void)crypto::apply_change(ep.members, c);  // best effort: hostile commits too
  ep.changes = std::move(changes);
  ep.key = crypto::generate_group_key();
  auto& m = ep.man;
  m.group = group_;
  m.epoch = ep.epoch;
  m.key_id = crypto::key_id(group_, ep.epoch, ep.key);
  m.alg = aead_alg::aes_256_gcm;
  m.custody = custody.value_or(custody_);
  m.policy = policy_;
  m.issuer = issuer.value_or(signer.user_id());
  if (const auto prev = epochs_.find(ep.epoch - 1); prev != epochs_.end()) m.prev_hash = prev->second.man.hash();
  m.changes_hash = crypto::changes_hash(ep.changes);
  m.members_hash = crypto::members_hash(ep.members);
  ep.sig = m.sign(signer.signer());
  if (m.custody == key_custody::client) ep.issuer_pk = k32(signer.sign_pk());
  return epochs_[ep.epoch] = std::move(ep);
}

protocol::server::key group_sim::key_frame(std::uint64_t e, byte_view member_kx) const {
  const auto& ep = epochs_.at(e);
  protocol::server::key k;
  k.group = group_;
  k.epoch = e;
  k.key_id = ep.man.key_id;
  k.alg = ep.man.alg;
  k.custody = ep.man.custody;
  k.policy = ep.man.policy;
  k.issuer = ep.man.issuer;
  k.issuer_pk = ep.issuer_pk;
  k.sig = ep.sig;
  for (const auto& c : ep.changes) k.changes.push_back(wire_change(c));
  auto w = crypto::wrap_group_key(member_kx, group_, e, ep.key);
  if (w && w->size() == k.wrapped.size()) std::copy(w->begin(), w->end(), k.wrapped.begin());
  return k;
}

protocol::manifest_entry group_sim::entry(std::uint64_t e) const {
  const auto& ep = epochs_.at(e);
  protocol::manifest_entry m;
  m.epoch = e;
  m.key_id = ep.man.key_id;
  m.alg = ep.man.alg;
  m.custody = ep.man.custody;
  m.policy = ep.man.policy;
  m.issuer = ep.man.issuer;
  m.issuer_pk = ep.issuer_pk;
  m.sig = ep.sig;
  for (const auto& c : ep.changes) m.changes.push_back(wire_change(c));
  return m;
}

protocol::server::message group_sim::message(const crypto::identity& sender, std::uint64_t e, std::uint32_t index,
                                             std::string_view text, std::uint64_t seq) const {
  const auto& ep = epochs_.at(e);
  auto chain = crypto::initial_chain(ep.key, sender.user_id());
  for (std::uint32_t i = 0; i < index; ++i) chain = crypto::chain_advance(chain);
  const auto mk = crypto::chain_message_key(chain);
  const crypto::message_context ctx{group_, e, sender.user_id(), index, ep.man.alg};
  const bytes pt(text.begin(), text.end());
  auto sealed = crypto::encrypt_message(sender.signer(), mk, ctx, pt);
  protocol::server::message m;
  m.group = group_;
  m.seq = seq;
  m.id = crypto::random_id();
  m.sender = sender.user_id();
  m.epoch = e;
  m.index = index;
  m.alg = ep.man.alg;
  if (sealed) {
    m.nonce = sealed->nonce;
    m.ct = sealed->ct;
    m.sig = s64(sealed->sig);
  }
  m.ts = 1;
  return m;
}

// -- the server ------------------------------------------------------------------------------------

struct hostile_broker::impl {
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::thread thread;
  std::atomic<bool> finished{false};
  mutable std::mutex mu;
  std::vector<std::string> failures;
  std::map<id16, crypto::public_identity> known;
  std::vector<std::pair<const group_sim*, std::string>> groups;

  void fail(std::string why) {
    std::lock_guard lock(mu);
    failures.push_back(std::move(why));
  }
};

namespace {

class conn_impl final : public hostile_conn {
 public:
  conn_impl(hostile_broker::impl& b, const crypto::identity& broker, tcp::socket s)
      : b_(b), broker_(broker), ws_(std::move(s)) {}

  bool handshake() {
    beast::error_code ec;
    ws_.accept(ec);
    if (ec) return b_.fail("websocket accept: " + ec.message()), false;
    ws_.text(true);
    protocol::server::challenge ch;
    ch.broker = broker_.user_id();
    ch.broker_pk = k32(broker_.sign_pk());
    const auto nonce = crypto::random_bytes(32);
    ch.nonce = k32(nonce);
    send(protocol::to_json(ch));
    auto text = read_text(5s);
    if (!text) return b_.fail("no hello"), false;
    auto f = protocol::parse_client_frame(*text);
    const auto* h = f ? std::get_if<protocol::client::hello>(&*f) : nullptr;
    if (!h) return b_.fail("expected hello, got: " + *text), false;
    client_ = crypto::public_identity{bytes(h->sign_pk.begin(), h->sign_pk.end()), bytes(h->kx_pk.begin(), h->kx_pk.end()),
                                      bytes(h->kx_sig.begin(), h->kx_sig.end())};
    if (!crypto::verify_auth(client_.sign_pk, nonce, broker_.user_id(), h->sig)) return b_.fail("bad hello sig"), false;
    protocol::server::welcome w;
    w.user = client_.user_id();
    {
      std::lock_guard lock(b_.mu);
      for (const auto& [sim, name] : b_.groups) {
        auto role = member_role::member;
        if (sim->current() > 0) {
          const auto& set = sim->at(sim->current()).members;
          if (auto it = set.find(w.user); it != set.end()) role = it->second.role;
        }
        w.groups.push_back({sim->id(), name, sim->current(), role});
      }
    }
    send(protocol::to_json(w));
    return true;
  }

  void send(const std::string& json) override {
    beast::error_code ec;
    ws_.write(asio::buffer(json), ec);
    if (ec) b_.fail("write: " + ec.message());
  }

  std::optional<protocol::client_frame> recv(std::chrono::milliseconds timeout) override {
    if (!backlog_.empty()) {
      auto f = std::move(backlog_.front());
      backlog_.pop_front();
      return f;
    }
    auto text = read_text(timeout);
    if (!text) return std::nullopt;
    auto f = protocol::parse_client_frame(*text);
    if (!f) {
      b_.fail("client sent a malformed frame: " + *text);
      return std::nullopt;
    }
    return std::move(*f);
  }

  const crypto::public_identity& client() const override { return client_; }

  void serve(std::chrono::milliseconds d) override {
    const auto deadline = std::chrono::steady_clock::now() + d;
    while (true) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return;
      auto text = read_text(left);
      if (!text) {
        if (closed_) return;
        continue;
      }
      auto f = protocol::parse_client_frame(*text);
      if (!f) continue;
      if (!answer(*f)) {
        unanswered_.push_back(*f);
        backlog_.push_back(std::move(*f));  // recv() hands them to the script next
      }
    }
  }

  std::vector<protocol::client_frame> unanswered() override { return std::exchange(unanswered_, {}); }

 private:
  const group_sim* sim_of(const id16& g) {
    std::lock_guard lock(b_.mu);
    for (const auto& [sim, name] : b_.groups)
      if (sim->id() == g) return sim;
    return nullptr;
  }

  bool answer(const protocol::client_frame& f) {
    namespace pc = protocol::client;
    if (std::holds_alternative<pc::ack>(f) || std::holds_alternative<pc::ack_direct>(f)) return true;
    if (const auto* r = std::get_if<pc::user_keys>(&f)) {
      std::optional<crypto::public_identity> pub;
      {
        std::lock_guard lock(b_.mu);
        if (auto it = b_.known.find(r->user); it != b_.known.end()) pub = it->second;
      }
      if (!pub) {
        send(protocol::to_json(protocol::server::error{r->rid, errc::unknown_user, "unknown"}));
        return true;
      }
      send(protocol::make_ok(r->rid, protocol::user_keys_result{k32(pub->sign_pk), k32(pub->kx_pk), s64(pub->kx_sig)}));
      return true;
    }
    if (const auto* r = std::get_if<pc::manifests>(&f)) {
      const auto* sim = sim_of(r->group);
      if (!sim) return send(protocol::to_json(protocol::server::error{r->rid, errc::not_found, "unknown group"})), true;
      protocol::manifests_result res;
      const auto limit = r->limit.value_or(64);
      std::uint64_t e = r->from_epoch;
      for (; e <= sim->current() && res.manifests.size() < limit; ++e) res.manifests.push_back(sim->entry(e));
      if (e <= sim->current()) res.next = e;
      send(protocol::make_ok(r->rid, res));
      return true;
    }
    if (const auto* r = std::get_if<pc::keys>(&f)) {
      const auto* sim = sim_of(r->group);
      protocol::keys_result res;
      if (sim)
        for (std::uint64_t e = std::max<std::uint64_t>(1, r->from_epoch); e <= sim->current(); ++e)
          if (sim->at(e).members.contains(client_.user_id())) res.keys.push_back(sim->key_frame(e, client_.kx_pk));
      send(protocol::make_ok(r->rid, res));
      return true;
    }
    if (const auto* r = std::get_if<pc::group_info>(&f)) {
      const auto* sim = sim_of(r->group);
      if (!sim || sim->current() == 0)
        return send(protocol::to_json(protocol::server::error{r->rid, errc::not_found, "unknown group"})), true;
      protocol::group_info_result res;
      res.name = "g";
      const auto& ep = sim->at(sim->current());
      res.custody = ep.man.custody;
      res.policy = ep.man.policy;
      res.epoch = ep.epoch;
      res.key_id = ep.man.key_id;
      for (const auto& [u, m] : ep.members) res.members.push_back({u, m.role, false});
      send(protocol::make_ok(r->rid, res));
      return true;
    }
    if (const auto* r = std::get_if<pc::list_groups>(&f)) {
      send(protocol::make_ok(r->rid, protocol::list_groups_result{}));
      return true;
    }
    if (const auto* r = std::get_if<pc::list_users>(&f)) {
      send(protocol::make_ok(r->rid, protocol::list_users_result{}));
      return true;
    }
    return false;
  }

  std::optional<std::string> read_text(std::chrono::milliseconds timeout) {
    if (closed_) return std::nullopt;
    if (!reading_) {
      reading_ = true;
      ws_.async_read(buf_, [this](beast::error_code ec, std::size_t) {
        reading_ = false;
        if (ec) {
          closed_ = true;
          return;
        }
        got_.push_back(beast::buffers_to_string(buf_.data()));
        buf_.consume(buf_.size());
      });
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (got_.empty() && !closed_ && std::chrono::steady_clock::now() < deadline) {
      if (b_.ioc.stopped()) b_.ioc.restart();
      b_.ioc.run_one_for(std::chrono::milliseconds(10));
    }
    if (got_.empty()) return std::nullopt;
    auto t = std::move(got_.front());
    got_.pop_front();
    return t;
  }

  hostile_broker::impl& b_;
  const crypto::identity& broker_;
  websocket::stream<tcp::socket> ws_;
  beast::flat_buffer buf_;
  bool reading_ = false;
  bool closed_ = false;
  std::deque<std::string> got_;
  std::deque<protocol::client_frame> backlog_;
  std::vector<protocol::client_frame> unanswered_;
  crypto::public_identity client_;
};

}  // namespace

hostile_broker::hostile_broker() : broker_(crypto::identity::generate()), impl_(std::make_unique<impl>()) {
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen();
  port_ = impl_->acceptor.local_endpoint().port();
}

hostile_broker::~hostile_broker() {
  beast::error_code ec;
  impl_->acceptor.close(ec);
  if (impl_->thread.joinable()) impl_->thread.join();
}

void hostile_broker::know(const crypto::identity& id) {
  std::lock_guard lock(impl_->mu);
  impl_->known[id.user_id()] = id.public_part();
}

void hostile_broker::add_group(const group_sim* sim, std::string name) {
  std::lock_guard lock(impl_->mu);
  impl_->groups.emplace_back(sim, std::move(name));
}

void hostile_broker::run(std::function<void(hostile_conn&)> script) {
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->finished = false;
  impl_->thread = std::thread([this, script = std::move(script)] {
    auto& b = *impl_;
    std::optional<tcp::socket> sock;
    b.acceptor.async_accept([&](beast::error_code ec, tcp::socket s) {
      if (!ec) sock.emplace(std::move(s));
    });
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!sock && std::chrono::steady_clock::now() < deadline) {
      if (b.ioc.stopped()) b.ioc.restart();
      b.ioc.run_one_for(std::chrono::milliseconds(10));
    }
    if (!sock) {
      b.fail("no client connected");
      b.finished = true;
      return;
    }
    conn_impl c(b, broker_, std::move(*sock));
    if (c.handshake()) script(c);
    b.finished = true;
    // Let the client see the close rather than a reset.
    beast::error_code ec;
    (void)ec;
  });
}

bool hostile_broker::wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!impl_->finished && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
  return impl_->finished;
}

std::vector<std::string> hostile_broker::failures() const {
  std::lock_guard lock(impl_->mu);
  return impl_->failures;
}

}  // namespace sealcast::test
