#pragma once

// Hand-off from the HTTP phase (gateway.cpp) to a WebSocket session (ws_session.cpp), so that
// only ws_session.cpp compiles Beast's WebSocket templates.

#include <memory>

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "gateway/detail/gateway_state.hpp"

namespace sealcast::broker::detail {

namespace beast = boost::beast;
using upgrade_request = beast::http::request<beast::http::string_body>;

/// Accepts the upgrade `req` on `stream` and runs the session until it ends. The caller has
/// already checked the path and max_connections and counted this session in ws_count.
void start_ws_session(std::shared_ptr<gateway_state> state, beast::tcp_stream stream, upgrade_request req);
/// The same over TLS (the TLS handshake is done).
void start_ws_session(std::shared_ptr<gateway_state> state, beast::ssl_stream<beast::tcp_stream> stream,
                      upgrade_request req);

}  // namespace sealcast::broker::detail
