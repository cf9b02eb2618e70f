#include "broker/admin_cluster.hpp"

#include <boost/json.hpp>

#include <chrono>

#include "broker/admin_support.hpp"

namespace sealcast::broker {

namespace {

namespace json = boost::json;
using std::chrono::steady_clock;

json::object node_json(const cluster::node_info& n, bool self) {
  return json::object{
      {"name", n.name}, {"client_url", n.client_url},   {"admin_url", n.admin_url}, {"started", n.started_ms},
      {"pid", n.pid},   {"connections", n.connections}, {"heartbeat", n.beat_ms},   {"self", self}};
}

std::int64_t ms_from_now(steady_clock::time_point t, steady_clock::time_point now) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t - now).count();
}

}  // namespace

std::string cluster_json(const cluster::cluster_view& v, const cluster_config& cfg) {
  const auto now = steady_clock::now();
  json::array nodes;
  for (const auto& n : v.nodes) nodes.push_back(node_json(n, n.name == v.self.name));
  json::array owners;
  for (std::size_t p = 0; p < v.partitions.owners.size(); ++p) {
    const auto& o = v.partitions.owners[p];
    json::object e{{"partition", p},
                   {"owner", o.node.empty() ? json::value(nullptr) : json::value(o.node)},
                   {"revision", o.revision}};
    if (o.mine) e["valid_ms"] = ms_from_now(o.valid_until, now);  // how long this node may still act
    owners.push_back(std::move(e));
  }
  const bool read = v.partitions.refreshed != steady_clock::time_point{};
  json::object o{
      {"node", node_json(v.self, true)},
      {"nats", json::object{{"connected", !v.nats_server.empty()}, {"server", v.nats_server}}},
      {"nodes", std::move(nodes)},
      {"partitions", json::object{{"count", cfg.partitions},
                                  {"owned", v.partitions.owned()},
                                  {"read_ms_ago", read ? json::value(-ms_from_now(v.partitions.refreshed, now))
                                                       : json::value(nullptr)},
                                  {"owners", std::move(owners)}}},
      {"lease_ms", cfg.lease_ms.count()},
      {"lease_margin_ms", cfg.lease_margin_ms.count()},
      {"heartbeat_ms", cfg.heartbeat_ms.count()}};
  return json::serialize(o);
}

void register_cluster_routes(http_server& server, const cluster::node* node) {
  // The view is copied from memory under short locks: nothing here waits on NATS.
  server.route("GET", "/admin/cluster", [node](const http_request&, responder r) {
    admin::respond_json(r, cluster_json(node->view(), node->config()));
  });
}

void append_cluster_stats(const cluster::node& node, std::vector<admin::stat_value>& out) {
  const auto v = node.view();
  out.push_back({"cluster", "nodes", "sealcast_cluster_nodes", "Live nodes of the cluster as this node sees them.",
                 false, v.nodes.size()});
  out.push_back({"cluster", "partitions_owned", "sealcast_cluster_partitions_owned",
                 "Partitions whose lease this node holds.", false, v.partitions.owned()});
}

}  // namespace sealcast::broker
