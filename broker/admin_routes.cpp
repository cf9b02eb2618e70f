#include "broker/admin_routes.hpp"

namespace sealcast::broker {

void register_admin_routes(http_server& server, std::shared_ptr<actors::services> svc) {
  server.route("GET", "/healthz", [](const http_request&, responder r) { r.respond(200, "text/plain", "ok\n"); },
               false);
  server.route(
      "GET", "/readyz",
      [svc](const http_request&, responder r) {
        // Ready once the actors run: the directory handle is set before the listeners start.
        if (svc->directory)
          r.respond(200, "text/plain", "ready\n");
        else
          r.respond(503, "text/plain", "starting\n");
      },
      false);
}

}  // namespace sealcast::broker
