// The admin server's listener, start and stop. Sessions are in http_session.cpp.

#include "broker/http_server.hpp"

#include <chrono>

#include "broker/detail/http_server_state.hpp"
#include "broker/detail/net.hpp"

namespace sealcast::broker {

using tcp = boost::asio::ip::tcp;
using detail::http_server_state;

struct http_server::impl {
  explicit impl(std::shared_ptr<http_server_state> state) : st(std::move(state)), listener(st->ioc, "admin") {}
  std::shared_ptr<http_server_state> st;
  detail::listener listener;
  bool started = false;
  bool stopped = false;
};

http_server::http_server(http_server_options options)
    : impl_(std::make_unique<impl>(std::make_shared<http_server_state>(std::move(options)))) {}

http_server::~http_server() { stop(); }

void http_server::route(std::string method, std::string_view pattern, http_handler handler, bool needs_token) {
  impl_->st->router.add(std::move(method), pattern, std::move(handler), needs_token);
}

result<endpoint> http_server::start() {
  auto& st = *impl_->st;
  if (impl_->started) return error{errc::internal, "admin server already started"};
  const auto& opt = st.options;
  auto at = detail::parse_listen(opt.listen);
  if (!at) return std::move(at).err();
  auto tls = detail::load_tls(opt.tls_cert, opt.tls_key, "admin");
  if (!tls) return std::move(tls).err();
  st.tls = std::move(*tls);
  auto bound = impl_->listener.start(*at, opt.io_threads, [state = impl_->st](tcp::socket s) {
    detail::start_http_session(state, std::move(s));
  });
  if (bound) impl_->started = true;
  return bound;
}

void http_server::stop() {
  if (!impl_->started || impl_->stopped) return;
  impl_->stopped = true;
  auto& st = *impl_->st;
  st.live.begin_stop();
  impl_->listener.close_acceptor();
  st.live.for_each(false);
  if (!st.live.wait_idle(std::chrono::seconds(3))) st.live.for_each(true);
  (void)st.live.wait_idle(std::chrono::seconds(1));
  impl_->listener.join();
}

}  // namespace sealcast::broker
