#pragma once

// A small blocking HTTP/1.1 client for the admin API, plain or TLS, every step bounded by a
// timeout. Free of Asio and Beast; the implementation is in http_client.cpp.

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace sealcast::ctl {

/// A parsed http:// or https:// base URL.
struct base_url {
  bool tls = false;
  std::string host;    ///< without brackets for IPv6 literals
  std::string port;    ///< "80"/"443" when the URL has none
  std::string prefix;  ///< path before /admin/..., without the trailing slash ("" usually)
};

/// Parses http://HOST[:PORT][/PREFIX] or https://...; bad_request naming the problem otherwise.
[[nodiscard]] result<base_url> parse_base_url(std::string_view url);

/// How to reach the broker.
struct client_options {
  base_url url;
  std::string token;                         ///< sent as "Authorization: Bearer <token>" when not empty
  bool insecure = false;                     ///< https: do not verify the certificate
  std::string cacert;                        ///< https: trust this PEM file instead of the system store
  std::chrono::milliseconds timeout{10000};  ///< connect, TLS, and the whole exchange
};

/// A complete answer.
struct http_answer {
  unsigned status = 0;
  std::string content_type;
  std::string body;
};

/// Failures before any answer (no connection, TLS refused, broken response) come back with
/// errc::io_error and a lowercase reason such as "connection refused".
[[nodiscard]] result<http_answer> http_request(const client_options& options, std::string_view method,
                                               const std::string& target);

/// A GET whose 200 body is handed to `on_data` piece by piece as it arrives, with no time limit
/// once the header is in, until the server closes; the returned answer then has an empty body.
/// Any other status is read whole and returned as from http_request. A non-empty
/// `last_event_id` is sent as Last-Event-ID (resuming a stream).
[[nodiscard]] result<http_answer> http_stream(const client_options& options, const std::string& target,
                                              const std::function<void(std::string_view)>& on_data,
                                              const std::string& last_event_id = {});

}  // namespace sealcast::ctl
