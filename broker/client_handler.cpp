#include "broker/client_handler.hpp"

#include <caf/send.hpp>

#include <array>
#include <vector>

#include "actors/messages.hpp"
#include "common/log.hpp"
#include "common/time.hpp"
#include "crypto/auth.hpp"
#include "crypto/identity.hpp"
#include "crypto/random.hpp"
#include "crypto/sign.hpp"
#include "protocol/codec.hpp"

namespace sealcast::broker {

namespace {

/// Consecutive malformed frames after which a connection counts as abusive (close 1008).
constexpr int max_consecutive_errors = 50;
constexpr std::uint16_t close_auth_failed = 4001;
constexpr std::uint16_t close_policy = 1008;

void send_text(const std::shared_ptr<connection>& conn, std::string text) {
  conn->send(std::make_shared<const std::string>(std::move(text)));
}

}  // namespace

/// Per-connection state; touched only on the connection's strand.
struct client_handler::session {
  std::array<std::uint8_t, 32> nonce{};
  bool authenticated = false;
  id16 user;
  int consecutive_errors = 0;
  double tokens = 0;            ///< publish rate limiter (token bucket)
  std::uint64_t refill_ms = 0;
};

client_handler::client_handler(std::shared_ptr<actors::services> svc) : svc_(std::move(svc)) {}

std::shared_ptr<client_handler::session> client_handler::find(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : it->second;
}

std::string client_handler::coalesce(std::span<const std::shared_ptr<const std::string>> frames) {
  std::vector<std::string_view> items;
  items.reserve(frames.size());
  for (auto& f : frames) items.emplace_back(*f);
  return protocol::make_batch(items);
}

void client_handler::on_open(std::shared_ptr<connection> conn) {
  auto s = std::make_shared<session>();
  crypto::fill_random(s->nonce);
  s->tokens = svc_->cfg.limits.publish_rate;
  s->refill_ms = now_ms();
  {
    std::lock_guard lock(mutex_);
    sessions_.emplace(conn->id(), s);
  }
  svc_->counters.connections_current.fetch_add(1, std::memory_order_relaxed);
  svc_->counters.connections_total.fetch_add(1, std::memory_order_relaxed);
  log::info("gateway", "connection opened", {{"conn", conn->id()}, {"peer", conn->remote()}});
  protocol::server::challenge c;
  c.broker = svc_->broker_id;
  std::copy(svc_->broker->sign_pk().begin(), svc_->broker->sign_pk().end(), c.broker_pk.begin());
  c.nonce = s->nonce;
  send_text(conn, protocol::to_json(c));
}

void client_handler::on_hello(const std::shared_ptr<connection>& conn, session& s, std::string_view text) {
  auto fail = [&](std::string why) {
    log::info("gateway", "authentication failed", {{"conn", conn->id()}, {"peer", conn->remote()}, {"why", why}});
    send_text(conn, protocol::to_json(protocol::server::error{std::nullopt, errc::auth_failed, why}));
    conn->close(close_auth_failed, "auth failed");
  };
  auto parsed = protocol::parse_client_frame(text);
  if (!parsed) return fail("expected hello: " + parsed.err().message);
  auto* hello = std::get_if<protocol::client::hello>(&*parsed);
  if (!hello) return fail("expected hello, got " + std::string(protocol::type_of(*parsed)));
  crypto::public_identity pub{bytes(hello->sign_pk.begin(), hello->sign_pk.end()),
                              bytes(hello->kx_pk.begin(), hello->kx_pk.end()),
                              bytes(hello->kx_sig.begin(), hello->kx_sig.end())};
  // One verification rule (docs/protocol.md 2.1): a small-order or non-canonical sign_pk would
  // make every signature "by" it meaningless, so it never authenticates.
  if (!crypto::ed25519_public_key_ok(pub.sign_pk)) return fail("sign_pk is not a valid Ed25519 public key");
  if (auto v = pub.validate(); !v) return fail("bad keys: " + v.err().message);
  if (!crypto::verify_auth(pub.sign_pk, s.nonce, svc_->broker_id, hello->sig))
    return fail("the hello signature does not verify");
  if (hello->name && hello->name->size() > 128) return fail("name longer than 128 bytes");
  s.authenticated = true;
  s.user = pub.user_id();
  conn->mark_authenticated();
  persistence::user_record u;
  u.id = s.user;
  u.sign_pk = hello->sign_pk;
  u.kx_pk = hello->kx_pk;
  u.kx_sig = hello->kx_sig;
  u.name = hello->name.value_or("");
  log::info("gateway", "user authenticated", {{"conn", conn->id()}, {"user", s.user.hex()}});
  caf::anon_send(svc_->directory, actors::hello_done{conn, std::move(u)});
}

void client_handler::on_text(const std::shared_ptr<connection>& conn, std::string&& frame) {
  svc_->counters.bytes_in.fetch_add(frame.size(), std::memory_order_relaxed);
  auto s = find(conn->id());
  if (!s) return;
  if (!s->authenticated) return on_hello(conn, *s, frame);

  auto parsed = protocol::parse_client_frame(frame);
  if (!parsed) {
    send_text(conn, protocol::to_json(parsed.failure()));
    if (++s->consecutive_errors >= max_consecutive_errors) conn->close(close_policy, "too many malformed frames");
    return;
  }
  s->consecutive_errors = 0;
  if (auto* p = std::get_if<protocol::client::publish>(&*parsed); p && svc_->cfg.limits.publish_rate > 0) {
    const double rate = svc_->cfg.limits.publish_rate;
    const auto now = now_ms();
    s->tokens = std::min(rate, s->tokens + rate * static_cast<double>(now - s->refill_ms) / 1000.0);
    s->refill_ms = now;
    if (s->tokens < 1.0) {
      send_text(conn, protocol::to_json(protocol::server::error{
                          p->rid, errc::rate_limited,
                          "more than " + std::to_string(svc_->cfg.limits.publish_rate) + " publishes per second"}));
      return;
    }
    s->tokens -= 1.0;
  }
  // Directs have their own actor, off the directory's mailbox.
  const bool direct = std::holds_alternative<protocol::client::direct>(*parsed) ||
                      std::holds_alternative<protocol::client::ack_direct>(*parsed);
  caf::anon_send(direct ? svc_->directs : svc_->directory,
                 actors::client_request{conn, s->user, std::move(*parsed), std::nullopt});
}

void client_handler::on_close(const std::shared_ptr<connection>& conn, const close_reason& why) {
  std::shared_ptr<session> s;
  {
    std::lock_guard lock(mutex_);
    auto it = sessions_.find(conn->id());
    if (it != sessions_.end()) {
      s = std::move(it->second);
      sessions_.erase(it);
    }
  }
  svc_->counters.connections_current.fetch_sub(1, std::memory_order_relaxed);
  log::info("gateway", "connection closed",
            {{"conn", conn->id()}, {"cause", to_string(why.cause)}, {"code", why.code}});
  if (s && s->authenticated) caf::anon_send(svc_->directory, actors::conn_closed{conn, s->user});
}

}  // namespace sealcast::broker
