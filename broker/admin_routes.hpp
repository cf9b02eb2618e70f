#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "actors/services.hpp"
#include "broker/metrics.hpp"
#include "gateway/http_server.hpp"

namespace sealcast::broker {

/// What the admin API keeps running besides its routes: a worker thread for store reads and the
/// open event streams. Call stop() after the admin server stops and before the store closes.
class admin_api {
 public:
  virtual ~admin_api() = default;
  /// Ends the event streams and the worker thread. Idempotent.
  virtual void stop() = 0;
};

/// Adds values to /admin/stats and /metrics (the cluster's gauges); runs on the admin worker.
using stats_extension = std::function<void(std::vector<admin::stat_value>&)>;

/// Registers the admin API on the admin listener: probes, stats, groups, users, messages,
/// events and their stream, rotation and Prometheus metrics.
std::shared_ptr<admin_api> register_admin_routes(http_server& server, std::shared_ptr<actors::services> svc,
                                                 stats_extension extra_stats = {});

}  // namespace sealcast::broker
