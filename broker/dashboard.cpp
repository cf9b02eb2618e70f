#include "broker/dashboard.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace sealcast::broker {
namespace detail {
/// Defined in the source that broker/dashboard/embed.cmake generates from broker/dashboard/.
std::string_view dashboard_asset(std::string_view name);
}  // namespace detail

namespace {

// Scripts and styles only from this origin, API calls only to it, no framing: the page holds a
// token in its memory and must not run anyone else's code.
constexpr std::string_view content_security_policy =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// A strong validator for the embedded bytes: FNV-1a 64, quoted.
std::string etag_of(std::string_view bytes) {
  std::uint64_t h = 14695981039346656037ull;
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  static constexpr char digits[] = "0123456789abcdef";
  std::string out = "\"";
  for (int shift = 60; shift >= 0; shift -= 4) out += digits[(h >> shift) & 0xf];
  out += '"';
  return out;
}

/// Serves one embedded file. `no-cache` lets browsers keep a copy but revalidate it each time,
/// so a new broker version's page is picked up at once; the ETag makes that a 304.
void serve(http_server& server, std::string_view path, std::string_view asset, std::string content_type) {
  const auto bytes = detail::dashboard_asset(asset);
  auto etag = etag_of(bytes);
  server.route(
      "GET", path,
      [bytes, etag, content_type](const http_request& req, responder r) {
        header_list headers{{"Cache-Control", "no-cache"},
                            {"ETag", etag},
                            {"X-Content-Type-Options", "nosniff"},
                            {"Referrer-Policy", "no-referrer"},
                            {"Content-Security-Policy", std::string(content_security_policy)}};
        if (req.header("If-None-Match") == std::string_view(etag)) {
          r.respond(304, "", "", std::move(headers));
          return;
        }
        r.respond(200, content_type, std::string(bytes), std::move(headers));
      },
      false);
}

}  // namespace

void register_dashboard_routes(http_server& server) {
  serve(server, "/admin/", "index.html", "text/html; charset=utf-8");
  serve(server, "/admin/dashboard.js", "dashboard.js", "text/javascript; charset=utf-8");
  serve(server, "/admin/dashboard.css", "dashboard.css", "text/css; charset=utf-8");
  // Without the slash the page's relative asset links would resolve outside /admin/.
  server.route(
      "GET", "/admin",
      [](const http_request&, responder r) {
        r.respond(301, "text/plain; charset=utf-8", "see /admin/\n", {{"Location", "/admin/"}});
      },
      false);
}

}  // namespace sealcast::broker
