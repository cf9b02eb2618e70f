#pragma once

#include <memory>

#include "actors/services.hpp"
#include "broker/http_server.hpp"

namespace sealcast::broker {

/// Registers the admin API on the admin listener: health and readiness probes now; stats,
/// groups, messages, events, rotation, metrics and the dashboard are built on the same routes.
void register_admin_routes(http_server& server, std::shared_ptr<actors::services> svc);

}  // namespace sealcast::broker
