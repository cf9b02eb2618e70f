#include "bench/mqtt_client.hpp"

#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "bench/bench_client.hpp"
#include "common/asio_nothrow.hpp"
#include "common/detail/coroutine_frame_warning.hpp"

namespace sealcast::bench {

namespace asio = boost::asio;

namespace {

/// Seconds between PINGREQs when nothing else is sent (the broker allows 1.5 times as long).
constexpr int keepalive_s = 60;
/// Packets read before the reader lets other connections on its thread run.
constexpr int read_batch = 256;

std::string mosq_error(int rc) {
  return rc == MOSQ_ERR_ERRNO ? std::string("system error: ") + std::strerror(errno) : mosquitto_strerror(rc);
}

}  // namespace

mqtt_client::mqtt_client(asio::any_io_executor executor, hooks* h) : executor_(std::move(executor)), hooks_(h) {
  static std::once_flag init;
  std::call_once(init, [] { mosquitto_lib_init(); });
}

mqtt_client::~mqtt_client() {
  if (socket_) {
    boost::system::error_code ec;
    socket_->close(ec);
  }
  if (mosq_) mosquitto_destroy(mosq_);
}

asio::awaitable<std::string> mqtt_client::connect(ws_target target, std::optional<asio::ip::address> source,
                                                  std::chrono::milliseconds timeout, std::string client_id,
                                                  std::uint32_t session_expiry_s) {
  // Clean start off: Mosquitto saves only such sessions (and what is queued for them) to its store.
  mosq_ = mosquitto_new(client_id.c_str(), false, this);
  if (!mosq_) co_return "mosquitto_new failed";
  mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
  mosquitto_int_option(mosq_, MOSQ_OPT_TCP_NODELAY, 1);
  // No client-side cap on unacknowledged publishes (libmosquitto's default is 20): the bench's
  // window and the broker's receive maximum (its CONNACK) are the limits.
  mosquitto_int_option(mosq_, MOSQ_OPT_SEND_MAXIMUM, 0);
  mosquitto_connect_v5_callback_set(mosq_, &mqtt_client::on_connect);
  mosquitto_disconnect_v5_callback_set(mosq_, &mqtt_client::on_disconnect);
  mosquitto_publish_v5_callback_set(mosq_, &mqtt_client::on_publish);
  mosquitto_message_v5_callback_set(mosq_, &mqtt_client::on_message);
  mosquitto_subscribe_v5_callback_set(mosq_, &mqtt_client::on_subscribe);

  mosquitto_property* props = nullptr;
  mosquitto_property_add_int32(&props, MQTT_PROP_SESSION_EXPIRY_INTERVAL, session_expiry_s);
  const auto bind = source ? source->to_string() : std::string();
  // A blocking connect: on loopback it completes (or is refused) within the call.
  const int rc = mosquitto_connect_bind_v5(mosq_, target.host.c_str(), target.port, keepalive_s,
                                           source ? bind.c_str() : nullptr, props);
  mosquitto_property_free_all(&props);
  if (rc != MOSQ_ERR_SUCCESS) co_return "connect: " + mosq_error(rc);
  // Asio waits on a duplicate, so that libmosquitto closing its descriptor never leaves Asio with
  // a number the kernel may already have given to another socket.
  const int fd = ::dup(mosquitto_socket(mosq_));
  if (fd < 0) co_return std::string("dup: ") + std::strerror(errno);
  socket_.emplace(executor_, fd);
  open_ = true;
  asio::steady_timer timer(executor_);
  waiter_ = &timer;
  answer_.reset();
  auto self = shared_from_this();
  asio::co_spawn(executor_, read_loop(self), asio::detached);
  asio::co_spawn(executor_, keepalive_loop(self), asio::detached);
  want_write();  // the CONNECT, if libmosquitto could not write all of it
  timer.expires_after(timeout);
  co_await timer.async_wait(use_nothrow);
  waiter_ = nullptr;
  if (!answer_) co_return "no CONNACK within the timeout";
  co_return *answer_;
}

asio::awaitable<std::string> mqtt_client::subscribe(std::string filter, bool no_local,
                                                    std::chrono::milliseconds timeout) {
  if (!open_) co_return "not connected";
  int mid = 0;
  const int rc = mosquitto_subscribe_v5(mosq_, &mid, filter.c_str(), 1, no_local ? MQTT_SUB_OPT_NO_LOCAL : 0, nullptr);
  if (rc != MOSQ_ERR_SUCCESS) co_return "subscribe: " + mosq_error(rc);
  want_write();
  asio::steady_timer timer(executor_);
  waiter_ = &timer;
  waiting_mid_ = mid;
  answer_.reset();
  timer.expires_after(timeout);
  co_await timer.async_wait(use_nothrow);
  waiter_ = nullptr;
  if (!answer_) co_return "no SUBACK within the timeout";
  co_return *answer_;
}

void mqtt_client::publish(const std::string& topic, std::string_view payload, puback_handler done) {
  if (!open_) {
    done(false, 0, "not connected");
    return;
  }
  int mid = 0;
  const int rc = mosquitto_publish_v5(mosq_, &mid, topic.c_str(), static_cast<int>(payload.size()), payload.data(), 1,
                                      false, nullptr);
  if (rc != MOSQ_ERR_SUCCESS) {
    done(false, 0, "publish: " + mosq_error(rc));
    return;
  }
  pubacks_.emplace(mid, std::move(done));
  want_write();
}

void mqtt_client::close() {
  if (!mosq_ || ended_) return;
  open_ = false;
  // Writes the DISCONNECT now if the socket takes it, then closes libmosquitto's descriptor.
  mosquitto_disconnect_v5(mosq_, 0, nullptr);
  if (mosquitto_socket(mosq_) < 0 && socket_) {
    boost::system::error_code ec;
    socket_->cancel(ec);
  } else {
    want_write();
  }
}

void mqtt_client::answer(std::string error) {
  answer_ = std::move(error);
  if (waiter_) waiter_->cancel();
}

void mqtt_client::on_connect(mosquitto*, void* obj, int rc, int, const mosquitto_property*) {
  auto& self = *static_cast<mqtt_client*>(obj);
  self.answer(rc == 0 ? std::string() : std::string("CONNACK: ") + mosquitto_reason_string(rc));
}

void mqtt_client::on_subscribe(mosquitto*, void* obj, int mid, int count, const int* granted,
                               const mosquitto_property*) {
  auto& self = *static_cast<mqtt_client*>(obj);
  if (mid != self.waiting_mid_) return;
  if (count == 1 && granted[0] == 1) return self.answer({});
  self.protocol_errors_.fetch_add(1);
  self.answer("SUBACK: " + std::string(count == 1 ? mosquitto_reason_string(granted[0]) : "unexpected count"));
}

void mqtt_client::on_publish(mosquitto*, void* obj, int mid, int reason, const mosquitto_property*) {
  const auto now = steady_ns();
  auto& self = *static_cast<mqtt_client*>(obj);
  const auto it = self.pubacks_.find(mid);
  if (it == self.pubacks_.end()) return;
  auto done = std::move(it->second);
  self.pubacks_.erase(it);
  // Reason codes below 0x80 are successes (0x10: no subscriber matched).
  if (reason < 0x80)
    done(true, now, {});
  else
    done(false, now, std::string("PUBACK: ") + mosquitto_reason_string(reason));
}

void mqtt_client::on_message(mosquitto*, void* obj, const mosquitto_message* msg, const mosquitto_property*) {
  const auto now = steady_ns();
  auto& self = *static_cast<mqtt_client*>(obj);
  if (self.hooks_)
    self.hooks_->on_message(self, msg->topic ? std::string_view(msg->topic) : std::string_view(),
                            std::string_view(static_cast<const char*>(msg->payload), std::size_t(msg->payloadlen)),
                            now);
}

void mqtt_client::on_disconnect(mosquitto*, void* obj, int rc, const mosquitto_property*) {
  auto& self = *static_cast<mqtt_client*>(obj);
  self.ended(rc == MOSQ_ERR_SUCCESS ? "closed" : mosq_error(rc));
}

void mqtt_client::ended(const std::string& why) {
  if (ended_) return;
  ended_ = true;
  const bool was_open = open_.exchange(false);
  if (socket_) {
    boost::system::error_code ec;
    socket_->cancel(ec);
  }
  if (keepalive_) keepalive_->cancel();
  auto pending = std::move(pubacks_);
  pubacks_.clear();
  for (auto& [mid, done] : pending) done(false, 0, "the connection ended before the PUBACK");
  answer(why.empty() ? "the connection ended" : why);
  if (hooks_) hooks_->on_closed(*this, was_open ? why : "closed");
}

bool mqtt_client::read_ready(bool& drained) {
  drained = false;
  for (int i = 0; i < read_batch; ++i) {
    // loop_read handles at most a few packets and does not say whether the socket is empty:
    // errno EAGAIN after it does (or a write would have blocked, hence the peek). Asio waits
    // edge-triggered, so the socket must be read until it is empty before waiting again.
    errno = 0;
    const int rc = mosquitto_loop_read(mosq_, 1);
    if (rc != MOSQ_ERR_SUCCESS) {
      if (rc != MOSQ_ERR_CONN_LOST && rc != MOSQ_ERR_NO_CONN) protocol_errors_.fetch_add(1);
      ended(mosq_error(rc));  // libmosquitto has closed its descriptor already
      return false;
    }
    if (ended_) return false;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      char byte = 0;
      const auto n = ::recv(socket_->native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n < 0) {
        drained = true;
        return true;
      }
    }
  }
  return true;
}

void mqtt_client::want_write() {
  if (writing_ || ended_ || !mosq_ || !mosquitto_want_write(mosq_)) return;
  writing_ = true;
  asio::co_spawn(executor_, write_loop(shared_from_this()), asio::detached);
}

asio::awaitable<void> mqtt_client::read_loop(std::shared_ptr<mqtt_client> self) {
  bool drained = true;
  while (!self->ended_) {
    if (drained) {
      auto [ec] = co_await self->socket_->async_wait(asio::posix::stream_descriptor::wait_read, use_nothrow);
      if (ec || self->ended_) break;
    } else {
      co_await asio::post(self->executor_, asio::use_awaitable);  // let the strand's other work run
    }
    if (!self->read_ready(drained)) break;
    self->want_write();  // PUBACKs libmosquitto queued while in a callback
  }
  self->ended(self->open_ ? "the connection ended" : "closed");
}

asio::awaitable<void> mqtt_client::write_loop(std::shared_ptr<mqtt_client> self) {
  while (!self->ended_ && mosquitto_want_write(self->mosq_)) {
    auto [ec] = co_await self->socket_->async_wait(asio::posix::stream_descriptor::wait_write, use_nothrow);
    if (ec || self->ended_) break;
    const int rc = mosquitto_loop_write(self->mosq_, 1);
    if (rc != MOSQ_ERR_SUCCESS) {
      self->ended(mosq_error(rc));
      break;
    }
  }
  self->writing_ = false;
}

asio::awaitable<void> mqtt_client::keepalive_loop(std::shared_ptr<mqtt_client> self) {
  asio::steady_timer timer(self->executor_);
  self->keepalive_ = &timer;
  while (!self->ended_) {
    timer.expires_after(std::chrono::seconds(5));
    co_await timer.async_wait(use_nothrow);
    if (self->ended_) break;
    if (const int rc = mosquitto_loop_misc(self->mosq_); rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN) {
      self->ended(mosq_error(rc));
      break;
    }
    self->want_write();
  }
  self->keepalive_ = nullptr;
}

}  // namespace sealcast::bench
