#include "gateway/detail/net.hpp"

#include <chrono>
#include <charconv>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <openssl/ssl.h>

#include "common/asio_nothrow.hpp"
#include "common/log.hpp"

namespace sealcast::broker::detail {

result<tcp::endpoint> parse_listen(std::string_view listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string_view::npos) {
    return error{errc::config_error, "listen address '" + std::string(listen) + "' has no port"};
  }
  std::string_view host = listen.substr(0, colon);
  const std::string_view port_text = listen.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535) {
    return error{errc::config_error, "listen address '" + std::string(listen) + "' has a bad port"};
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty() || host == "localhost") host = "127.0.0.1";
  boost::system::error_code addr_ec;
  const auto address = asio::ip::make_address(std::string(host), addr_ec);
  if (addr_ec) {
    return error{errc::config_error, "listen host '" + std::string(host) + "' is not a numeric address"};
  }
  return tcp::endpoint(address, static_cast<std::uint16_t>(port));
}

result<std::shared_ptr<asio::ssl::context>> load_tls(const std::string& cert_file, const std::string& key_file,
                                                    std::string_view section) {
  if (cert_file.empty() != key_file.empty()) {
    const std::string s(section);
    return error{errc::config_error, s + ".tls_cert and " + s + ".tls_key must be set together"};
  }
  if (cert_file.empty()) return std::shared_ptr<asio::ssl::context>{};
  return make_server_tls(cert_file, key_file);
}

result<std::shared_ptr<asio::ssl::context>> make_server_tls(const std::string& cert_file,
                                                           const std::string& key_file) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  boost::system::error_code ec;
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use,
                   ec);
  if (!ec) ctx->use_certificate_chain_file(cert_file, ec);
  if (ec) return error{errc::config_error, "TLS certificate '" + cert_file + "': " + ec.message()};
  ctx->use_private_key_file(key_file, asio::ssl::context::pem, ec);
  if (ec) return error{errc::config_error, "TLS key '" + key_file + "': " + ec.message()};
  // Idle connections should not pin OpenSSL's 2 x 17 KB record buffers.
  SSL_CTX_set_mode(ctx->native_handle(), SSL_MODE_RELEASE_BUFFERS);
  return ctx;
}

namespace {

status open_acceptor(tcp::acceptor& acceptor, const tcp::endpoint& at) {
  boost::system::error_code ec;
  acceptor.open(at.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(at, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return error{errc::io_error, "cannot listen on " + at.address().to_string() + ":" +
                                     std::to_string(at.port()) + ": " + ec.message()};
  }
  return {};
}

/// Where the next accepted socket lives: a strand of the one context, or the next shard.
using place_fn = std::function<asio::any_io_executor()>;

asio::awaitable<void> accept_loop(std::shared_ptr<tcp::acceptor> acceptor, place_fn place,
                                  listener::accept_fn on_accept, std::string component) {
  asio::steady_timer backoff(acceptor->get_executor());
  for (;;) {
    auto [ec, socket] = co_await acceptor->async_accept(place(), use_nothrow);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
      log::warn(component, "accept failed", {{"error", ec.message()}});
      backoff.expires_after(std::chrono::milliseconds(50));  // e.g. out of descriptors: do not spin
      auto [wait_ec] = co_await backoff.async_wait(use_nothrow);
      (void)wait_ec;
      continue;
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    on_accept(tcp::socket(std::move(socket)));
  }
}

}  // namespace

result<endpoint> listener::start(const tcp::endpoint& at, unsigned threads, accept_fn on_accept) {
  auto& first = *contexts_.front();
  auto acceptor = std::make_shared<tcp::acceptor>(asio::make_strand(first));
  if (auto s = open_acceptor(*acceptor, at); !s) return s.err();
  boost::system::error_code ec;
  const auto bound = acceptor->local_endpoint(ec);
  acceptor_ = acceptor;
  for (auto* c : contexts_) work_.emplace_back(c->get_executor());
  place_fn place;
  if (sharded_) {
    place = [contexts = contexts_, next = std::size_t{0}]() mutable -> asio::any_io_executor {
      return contexts[next++ % contexts.size()]->get_executor();
    };
  } else {
    place = [&first]() -> asio::any_io_executor { return asio::make_strand(first); };
  }
  asio::co_spawn(acceptor->get_executor(), accept_loop(acceptor, std::move(place), std::move(on_accept), component_),
                 asio::detached);
  auto run = [this](asio::io_context* ioc) {
    for (;;) {
      try {
        ioc->run();
        return;
      } catch (const std::exception& e) {
        log::error(component_, "io thread caught an exception", {{"what", e.what()}});
      }
    }
  };
  if (sharded_) {
    for (auto* c : contexts_) threads_.emplace_back(run, c);
  } else {
    for (unsigned i = 0; i < (threads == 0 ? 1 : threads); ++i) threads_.emplace_back(run, &first);
  }
  return endpoint{bound.address().to_string(), bound.port()};
}

void listener::close_acceptor() {
  if (!acceptor_) return;
  asio::post(acceptor_->get_executor(), [a = acceptor_] {
    boost::system::error_code ignored;
    a->close(ignored);
  });
}

void listener::join() {
  if (threads_.empty()) return;
  close_acceptor();
  work_.clear();
  // With every exchange ended the io threads run out of work; do not wait forever if not.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  auto all_stopped = [this] {
    for (auto* c : contexts_)
      if (!c->stopped()) return false;
    return true;
  };
  while (!all_stopped() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (!all_stopped()) {
    log::warn(component_, "io threads still busy at shutdown; stopping them");
    for (auto* c : contexts_) c->stop();
  }
  for (auto& t : threads_) t.join();
  threads_.clear();
}

/// True when the comma-separated Sec-WebSocket-Protocol list offers `wanted` (case-sensitive).
bool list_offers(std::string_view list, std::string_view wanted) {
  while (!list.empty()) {
    const auto comma = list.find(',');
    auto token = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
    if (!wanted.empty() && token == wanted) return true;
  }
  return false;
}

std::string remote_string(const tcp::socket& socket) {
  boost::system::error_code ec;
  const auto ep = socket.remote_endpoint(ec);
  if (ec) return "?";
  return endpoint{ep.address().to_string(), ep.port()}.to_string();
}

}  // namespace sealcast::broker::detail
