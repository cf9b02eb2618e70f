#pragma once

#include "gateway/http_server.hpp"

namespace sealcast::broker {

/// Registers the dashboard page on the admin listener: GET /admin/ (and /admin, redirected),
/// /admin/dashboard.js and /admin/dashboard.css, served from bytes embedded at build time.
/// The page and its assets are the same static bytes for everyone and carry no data, so they
/// are served without the admin token (a browser cannot send a bearer header when it navigates);
/// every number the page shows comes from the token-protected API, which its script calls with
/// the token taken from the URL fragment (#token=...) or typed into the page.
void register_dashboard_routes(http_server& server);

}  // namespace sealcast::broker
