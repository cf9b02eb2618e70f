#include "broker/client_handler.hpp"

#include <caf/send.hpp>

#include <array>
#include <concepts>
#include <optional>
#include <variant>
#include <vector>

#include "actors/group_routes.hpp"
#include "actors/messages.hpp"
#include "common/log.hpp"
#include "common/time.hpp"
#include "common/token_bucket.hpp"
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

/// Which per-connection bucket a request draws from (docs/operations.md, "Limits and quotas").
enum class bucket { request, publish, direct, ack };

/// Links kept per connection before the idle ones are dropped (a client naming many groups, or
/// unknown ones, cannot grow its session without bound; a dropped link is resolved again).
constexpr std::size_t max_links = 1024;

/// The group a frame is for, if it is a group frame (create_group names a group that does not
/// exist yet: it is the directory's).
std::optional<id16> group_of(const protocol::client_frame& f) {
  return std::visit(
      [](const auto& x) -> std::optional<id16> {
        if constexpr (requires { { x.group } -> std::same_as<const id16&>; })
          return x.group;
        else
          return std::nullopt;
      },
      f);
}

bucket bucket_of(const protocol::client_frame& f) {
  if (std::holds_alternative<protocol::client::publish>(f)) return bucket::publish;
  if (std::holds_alternative<protocol::client::direct>(f)) return bucket::direct;
  if (std::holds_alternative<protocol::client::ack>(f) || std::holds_alternative<protocol::client::ack_direct>(f))
    return bucket::ack;
  return bucket::request;
}

}  // namespace

/// Per-connection state, kept on the connection itself (connection::context): touched only by
/// the handler's calls, which run on the connection's io shard, so no lock and no lookup.
struct client_handler::session {
  std::array<std::uint8_t, 32> nonce{};
  bool authenticated = false;
  id16 user;
  int consecutive_errors = 0;
  bool counted = false;   ///< counts in user_conns_ (connections_per_user)
  bool refused = false;   ///< hello refused: nothing more is read
  bool logged_limit = false;  ///< "rate limited" logged once per connection
  token_bucket requests;  ///< limits.request_rate / request_burst
  token_bucket publishes;  ///< limits.publish_rate
  token_bucket directs;    ///< limits.direct_rate
  token_bucket acks;       ///< limits.ack_rate
  /// The groups this connection has reached, and whether the directory has finished its hello.
  std::shared_ptr<actors::connection_routes> routes = std::make_shared<actors::connection_routes>();
};

client_handler::client_handler(std::shared_ptr<actors::services> svc) : svc_(std::move(svc)) {}

std::string client_handler::coalesce(std::span<const std::shared_ptr<const std::string>> frames) {
  std::vector<std::string_view> items;
  items.reserve(frames.size());
  for (auto& f : frames) items.emplace_back(*f);
  return protocol::make_batch(items);
}

void client_handler::on_open(std::shared_ptr<connection> conn) {
  auto s = std::make_shared<session>();
  crypto::fill_random(s->nonce);
  conn->set_context(s);
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
  const auto user = pub.user_id();
  if (const auto limit = svc_->cfg.limits.connections_per_user; limit != 0) {
    bool over = false;
    {
      std::lock_guard lock(mutex_);
      auto& n = user_conns_[user];
      over = n >= limit;
      if (!over) ++n;
    }
    if (over) {
      const auto why = "this user already has " + std::to_string(limit) +
                       " connections, the most limits.connections_per_user allows";
      log::info("gateway", "connection refused", {{"conn", conn->id()}, {"user", user.hex()}, {"why", why}});
      s.refused = true;
      send_text(conn, protocol::to_json(protocol::server::error{std::nullopt, errc::rate_limited, why}));
      conn->close(close_policy, "too many connections for this user");
      return;
    }
    s.counted = true;
  }
  s.authenticated = true;
  s.user = user;
  conn->mark_authenticated();
  persistence::user_record u;
  u.id = s.user;
  u.sign_pk = hello->sign_pk;
  u.kx_pk = hello->kx_pk;
  u.kx_sig = hello->kx_sig;
  u.name = hello->name.value_or("");
  log::info("gateway", "user authenticated", {{"conn", conn->id()}, {"user", s.user.hex()}});
  caf::anon_send(svc_->directory, actors::hello_done{conn, std::move(u), s.routes});
}

void client_handler::on_text(const std::shared_ptr<connection>& conn, std::string&& frame) {
  svc_->counters.bytes_in.fetch_add(frame.size(), std::memory_order_relaxed);
  auto* s = static_cast<session*>(conn->context());
  if (!s || s->refused) return;
  if (!s->authenticated) return on_hello(conn, *s, frame);

  auto parsed = protocol::parse_client_frame(frame);
  if (!parsed) {
    send_text(conn, protocol::to_json(parsed.failure()));
    if (++s->consecutive_errors >= max_consecutive_errors) conn->close(close_policy, "too many malformed frames");
    return;
  }
  s->consecutive_errors = 0;
  if (!admit(conn, *s, *parsed)) return;
  if (auto group = group_of(*parsed)) return to_group(conn, *s, *group, std::move(*parsed));
  // Directs have their own actor, off the directory's mailbox.
  const bool direct = std::holds_alternative<protocol::client::direct>(*parsed) ||
                      std::holds_alternative<protocol::client::ack_direct>(*parsed);
  actors::client_request req{conn, s->user, std::move(*parsed), std::nullopt, nullptr};
  if (direct)
    caf::anon_send(svc_->directs, std::move(req));
  else
    caf::anon_send(svc_->directory, std::move(req));
}

void client_handler::to_group(const std::shared_ptr<connection>& conn, session& s, const id16& group,
                              protocol::client_frame&& f) {
  auto& links = s.routes->links;
  auto it = links.find(group);
  if (it == links.end()) {
    if (links.size() >= max_links)
      std::erase_if(links, [](const auto& kv) { return kv.second->in_directory.load(std::memory_order_acquire) == 0; });
    if (links.size() >= max_links) {
      // Every link still has a frame in the directory's hands: this frame goes through it
      // without a link (any direct send for the group left before it, so the order holds), and
      // the map stays at its bound.
      caf::anon_send(svc_->directory, actors::client_request{conn, s.user, std::move(f), std::nullopt, nullptr});
      return;
    }
    it = links.emplace(group, std::make_shared<actors::group_link>()).first;
  }
  auto& link = *it->second;
  // Straight to the group's actor when the directory has handed over its route, has nothing of
  // this connection's for the group still to forward, and is done with the hello; add_member and
  // join always go through it (it looks up the user they bring in).
  const bool via_directory = std::holds_alternative<protocol::client::add_member>(f) ||
                             std::holds_alternative<protocol::client::join>(f);
  if (!via_directory && s.routes->ready.load(std::memory_order_acquire) &&
      link.in_directory.load(std::memory_order_acquire) == 0 && link.route && link.route->count()) {
    caf::anon_send(link.route->actor(), actors::client_request{conn, s.user, std::move(f), std::nullopt, nullptr});
    return;
  }
  link.in_directory.fetch_add(1, std::memory_order_relaxed);
  caf::anon_send(svc_->directory, actors::client_request{conn, s.user, std::move(f), std::nullopt, it->second});
}

bool client_handler::admit(const std::shared_ptr<connection>& conn, session& s, const protocol::client_frame& f) {
  const auto& lim = svc_->cfg.limits;
  const auto now = steady_us();
  const auto kind = bucket_of(f);
  bool ok = true;
  std::string why;
  switch (kind) {
    case bucket::request:
      ok = s.requests.take(lim.request_rate, std::max(lim.request_burst, 1u), now);
      if (!ok)
        why = "rate limited: more than " + std::to_string(lim.request_rate) +
              " requests per second on this connection (limits.request_rate, burst limits.request_burst = " +
              std::to_string(lim.request_burst) + ")";
      break;
    case bucket::publish:
      ok = s.publishes.take(lim.publish_rate, lim.publish_rate, now);
      if (!ok)
        why = "rate limited: more than " + std::to_string(lim.publish_rate) +
              " publishes per second on this connection (limits.publish_rate)";
      break;
    case bucket::direct:
      ok = s.directs.take(lim.direct_rate, lim.direct_rate, now);
      if (!ok)
        why = "rate limited: more than " + std::to_string(lim.direct_rate) +
              " direct messages per second on this connection (limits.direct_rate)";
      break;
    case bucket::ack:
      ok = s.acks.take(lim.ack_rate, lim.ack_rate, now);
      if (!ok)
        why = "more than " + std::to_string(lim.ack_rate) + " acks per second on this connection (limits.ack_rate)";
      break;
  }
  if (ok) return true;
  if (!s.logged_limit) {
    s.logged_limit = true;
    log::info("gateway", "connection rate limited",
              {{"conn", conn->id()}, {"user", s.user.hex()}, {"type", protocol::type_of(f)}, {"why", why}});
  }
  // Acks have no rid and no reply: the excess is dropped (a later cumulative ack or the resend
  // of the delivery covers it). Every other request gets its error; the connection stays open.
  if (kind != bucket::ack)
    send_text(conn, protocol::to_json(protocol::server::error{protocol::rid_of(f), errc::rate_limited, std::move(why)}));
  return false;
}

void client_handler::on_close(const std::shared_ptr<connection>& conn, const close_reason& why) {
  auto* s = static_cast<session*>(conn->context());
  if (s && s->counted) {
    std::lock_guard lock(mutex_);
    if (auto it = user_conns_.find(s->user); it != user_conns_.end() && --it->second == 0) user_conns_.erase(it);
  }
  svc_->counters.connections_current.fetch_sub(1, std::memory_order_relaxed);
  log::info("gateway", "connection closed",
            {{"conn", conn->id()}, {"cause", to_string(why.cause)}, {"code", why.code}});
  if (s && s->authenticated) caf::anon_send(svc_->directory, actors::conn_closed{conn, s->user});
  conn->set_context(nullptr);  // the broker may hold the connection longer than its session
}

}  // namespace sealcast::broker
