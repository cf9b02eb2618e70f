#include "cluster/node.hpp"

#include <thread>

#include "common/log.hpp"

namespace sealcast::cluster {

namespace {

using std::chrono::steady_clock;

constexpr auto retry_pause = std::chrono::milliseconds(250);

// Retries `attempt` while it answers errc::unavailable and the deadline allows.
template <class F>
auto until_deadline(steady_clock::time_point deadline, F attempt) {
  for (;;) {
    auto r = attempt();
    if (r || r.err().code != errc::unavailable || steady_clock::now() + retry_pause >= deadline) return r;
    std::this_thread::sleep_for(retry_pause);
  }
}

}  // namespace

node::node(cluster_config cfg, nats_client client, lease_table leases)
    : cfg_(std::move(cfg)), client_(std::move(client)), leases_(std::move(leases)) {}

node::~node() { stop(); }

result<std::unique_ptr<node>> node::connect(const cluster_config& cfg, std::chrono::milliseconds timeout) {
  const auto deadline = steady_clock::now() + timeout;
  connect_options co;
  co.servers = cfg.nats;
  co.name = "sealcastd " + cfg.node;
  auto client = until_deadline(deadline, [&] { return nats_client::connect(co); });
  if (!client)
    return error{client.err().code, "cannot connect to NATS (" + std::to_string(cfg.nats.size()) + " servers) within " +
                                        std::to_string(timeout.count()) + " ms: " + client.err().message};
  lease_options lo;
  lo.ttl = cfg.lease_ms;
  lo.margin = cfg.lease_margin_ms;
  lo.replicas = static_cast<int>(cfg.replicas);
  auto leases = until_deadline(deadline, [&] { return lease_table::open(*client, lo); });
  if (!leases) return std::move(leases).err();
  return std::unique_ptr<node>(new node(cfg, std::move(*client), std::move(*leases)));
}

status node::start(node_info self, std::function<std::uint64_t()> connections, partition_hook hook) {
  membership_options mo;
  mo.heartbeat = cfg_.heartbeat_ms;
  mo.replicas = static_cast<int>(cfg_.replicas);
  auto m = membership::open(client_, mo, std::move(self), std::move(connections));
  if (!m) return std::move(m).err();
  members_ = std::move(*m);
  if (auto st = members_->start(); !st) return st;
  partition_options po;
  po.node = cfg_.node;
  po.count = cfg_.partitions;
  po.tick = cfg_.heartbeat_ms;
  partitions_ = std::make_unique<partition_manager>(
      leases_, po, [m = members_.get()] { return m->names(); }, std::move(hook));
  partitions_->start();
  return {};
}

void node::stop() {
  // Leave first: the others drop this node from their rendezvous as soon as its heartbeat is
  // gone, so the leases released next are taken by their new owners in one round.
  if (members_) members_->stop();
  if (partitions_) partitions_->stop();
}

cluster_view node::view() const {
  cluster_view v;
  if (members_) {
    v.self = members_->self();
    v.nodes = members_->nodes();
  }
  if (partitions_) v.partitions = partitions_->snapshot();
  v.nats_server = client_.connected_url();
  return v;
}

}  // namespace sealcast::cluster
