#pragma once

// The admin API's view of the cluster (docs/cluster.md, "The admin view"): GET /admin/cluster and
// the cluster gauges of /admin/stats and /metrics. Registered only when [cluster] is configured.

#include <vector>

#include "broker/metrics.hpp"
#include "cluster/node.hpp"
#include "gateway/http_server.hpp"

namespace sealcast::broker {

/// Registers GET /admin/cluster: this node, the live nodes and every partition's owner and
/// revision. `node` must outlive the server.
void register_cluster_routes(http_server& server, const cluster::node* node);

/// Appends sealcast_cluster_nodes and sealcast_cluster_partitions_owned (section "cluster").
void append_cluster_stats(const cluster::node& node, std::vector<admin::stat_value>& out);

/// The /admin/cluster body.
[[nodiscard]] std::string cluster_json(const cluster::cluster_view& v, const cluster_config& cfg);

}  // namespace sealcast::broker
