// sealcastd: loads the configuration, opens the store, starts the actors and both listeners,
// prints the ready line, and shuts down cleanly on SIGINT or SIGTERM.

#include <algorithm>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/send.hpp>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <pthread.h>
#include <unistd.h>
#include <thread>

#include "common/cpu.hpp"

#include "actors/directory.hpp"
#include "actors/directs.hpp"
#include "actors/reaper.hpp"
#include "actors/scheduler.hpp"
#include "actors/ephemeral_pool.hpp"
#include "actors/event_bus.hpp"
#include "actors/events.hpp"
#include "cluster/node.hpp"
#include "actors/services.hpp"
#include "actors/storage_writer.hpp"
#include "broker/admin_cluster.hpp"
#include "broker/admin_routes.hpp"
#include "broker/broker_key.hpp"
#include "broker/client_handler.hpp"
#include "gateway/gateway.hpp"
#include "gateway/http_server.hpp"
#include "common/log.hpp"
#include "config/command_line.hpp"
#include "config/config.hpp"
#include "persistence/store.hpp"

using namespace sealcast;

namespace {

constexpr int exit_config = 2;
constexpr int exit_runtime = 1;
/// How long start-up waits for NATS (servers still starting, no JetStream leader yet).
constexpr auto nats_startup_timeout = std::chrono::seconds(15);

int fail(std::string_view what, const error& e) {
  log::error("sealcastd", what, {{"error", e.message}});
  return exit_runtime;
}

/// Blocks SIGINT and SIGTERM in this thread and every thread started after it, so that the
/// main thread alone receives them through sigwait.
sigset_t block_shutdown_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  return set;
}

void fill_services(actors::services& svc) {
  for (auto& name : svc.cfg.encryption.allowed_algorithms)
    if (auto a = protocol::parse_aead_alg(name)) svc.allowed_algs.push_back(*a);
  if (auto a = protocol::parse_aead_alg(svc.cfg.encryption.default_algorithm)) svc.default_alg = *a;
  svc.persist_event.assign(actors::event_type_count, false);
  for (auto& name : svc.cfg.events.persist) {
    actors::event_type t;
    if (actors::parse_event_type(name, t)) svc.persist_event[static_cast<std::size_t>(t)] = true;
  }
}

// Partition changes become events (docs/cluster.md); they run on the partition manager's thread.
cluster::partition_hook partition_events(const std::shared_ptr<actors::services>& svc, std::string node) {
  return [svc, node = std::move(node)](const cluster::partition_change& c) {
    actors::event e;
    e.type = c.gained ? actors::event_type::partition_gained : actors::event_type::partition_lost;
    e.data = c.gained ? actors::event_data({{"partition", std::uint64_t{c.partition}},
                                            {"node", std::string_view(node)},
                                            {"revision", c.revision}})
                      : actors::event_data({{"partition", std::uint64_t{c.partition}},
                                            {"node", std::string_view(node)},
                                            {"revision", c.revision},
                                            {"reason", std::string_view(c.reason)}});
    svc->emit(std::move(e));
  };
}

std::int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Joins the cluster once both listeners are bound: the heartbeat carries their URLs.
status start_cluster(cluster::node* n, const std::shared_ptr<actors::services>& svc, const broker::endpoint& client,
                     const broker::endpoint& admin, std::int64_t started_ms) {
  if (n == nullptr) return {};
  const auto& cfg = svc->cfg;
  cluster::node_info self;
  self.name = cfg.cluster.node;
  self.client_url = !cfg.cluster.advertise.empty()
                        ? cfg.cluster.advertise
                        : std::string(cfg.gateway.tls_cert.empty() ? "ws" : "wss") + "://" + client.to_string() + "/ws";
  self.admin_url = std::string(cfg.admin.tls_cert.empty() ? "http" : "https") + "://" + admin.to_string();
  self.started_ms = started_ms;
  self.pid = static_cast<std::int64_t>(::getpid());
  auto connections = [svc] { return svc->counters.connections_current.load(std::memory_order_relaxed); };
  if (auto st = n->start(self, connections, partition_events(svc, self.name)); !st) return st;
  const auto v = n->view();
  log::info("sealcastd", "joined the cluster",
            {{"node", self.name}, {"nodes", v.nodes.size()}, {"partitions_owned", v.partitions.owned()}});
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  auto cl = parse_command_line(argc, argv);
  if (!cl) {
    std::cerr << "sealcastd: " << cl.err().message << "\n" << usage("sealcastd");
    return exit_config;
  }
  if (cl->help) {
    std::cout << usage("sealcastd");
    return 0;
  }
  if (cl->version) {
    std::cout << "sealcastd " << version() << "\n";
    return 0;
  }
  auto loaded = load_config(*cl);
  if (!loaded) {
    std::cerr << "sealcastd: " << loaded.err().message << "\n";
    return exit_config;
  }
  auto svc = std::make_shared<actors::services>();
  svc->cfg = std::move(*loaded);
  const auto& cfg = svc->cfg;
  log::configure(log::parse_level(cfg.log.level).value_or(log::level::info),
                 log::parse_format(cfg.log.format).value_or(log::format::text));
  log::info("sealcastd", "starting", {{"version", version()},
                                      {"config", cl->config_path.empty() ? "(built-in defaults)" : cl->config_path}});
  log::info("sealcastd", "configuration", {{"summary", describe(cfg)}});
  fill_services(*svc);

  const auto sigs = block_shutdown_signals();
  const auto started_ms = unix_ms_now();

  // The cluster's NATS first: a node that cannot reach it should fail before it opens anything.
  std::unique_ptr<cluster::node> cluster_node;
  if (cfg.cluster.enabled()) {
    auto n = cluster::node::connect(cfg.cluster, nats_startup_timeout);
    if (!n) return fail("cannot join the cluster", n.err());
    cluster_node = std::move(*n);
    log::info("sealcastd", "connected to NATS", {{"node", cfg.cluster.node}, {"server", cluster_node->view().nats_server}});
  }

  // <data_dir>/db holds RocksDB; <data_dir>/broker.key the broker's identity.
  const std::filesystem::path data_dir = cfg.broker.data_dir;
  const auto db_dir = data_dir / "db";
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return fail("cannot create the data directory", {errc::io_error, data_dir.string() + ": " + ec.message()});
  auto store = persistence::store::open({db_dir.string(), cfg.storage.sync,
                                         static_cast<std::uint32_t>(cfg.storage.write_buffer_mb), true});
  if (!store) return fail("cannot open the store", store.err());
  log::info("sealcastd", "store opened", {{"path", db_dir.string()}, {"sync", cfg.storage.sync}});

  auto key = broker::load_or_create_broker_key(data_dir);
  if (!key) return fail("cannot load the broker key", key.err());
  svc->broker = std::make_shared<const crypto::identity>(std::move(*key));
  svc->broker_id = svc->broker->user_id();
  svc->store = store->get();

  actors::storage_writer writer(**store, cfg.storage.sync);
  svc->writer = &writer;
  // Enough precomputed HPKE ephemerals for two rotations of a full group.
  actors::ephemeral_pool ephemerals(std::min<std::size_t>(2 * cfg.pubsub.max_members, 8192));
  svc->ephemerals = &ephemerals;

  caf::actor_system_config caf_cfg;
  const auto workers = cfg.broker.worker_threads ? cfg.broker.worker_threads
                                                 : std::max(2u, usable_cpus());
  // At least two: measured pinned to one core (bench/README.md), two workers take the 100 groups
  // x 10 shape from 27k to 41k deliveries/s and cost the 1 -> 1000 shape nothing; more workers
  // than usable CPUs only fight over the sharing policy's queue.
  caf_cfg.set("scheduler.max-threads", static_cast<std::size_t>(workers));
  // The work-stealing policy polls: after ~25 ms without work its workers sleep 10 ms between
  // polls, so a message from an io thread can wait that long per actor hop. The sharing policy
  // wakes a worker through a condition variable at once, which is what a broker's latency needs.
  caf_cfg.set("scheduler.policy", caf::atom("sharing"));
  caf_cfg.set("logger.verbosity", caf::atom("quiet"));
  auto system = std::make_unique<caf::actor_system>(caf_cfg);
  svc->event_bus = actors::spawn_event_bus(*system, svc);
  svc->directs = actors::spawn_directs(*system, svc);
  svc->directory = actors::spawn_directory(*system, svc);
  const auto reaper = actors::spawn_reaper(*system, svc);
  const auto scheduler = actors::spawn_scheduler(*system, svc);

  broker::client_handler handler(svc);
  broker::gateway_options gw;
  gw.listen = cfg.gateway.listen;
  gw.io_threads = cfg.gateway.io_threads ? cfg.gateway.io_threads : usable_cpus();
  gw.max_frame_bytes = cfg.gateway.max_frame_bytes;
  gw.auth_timeout_ms = static_cast<std::uint32_t>(cfg.gateway.auth_timeout_ms.count());
  gw.idle_timeout = static_cast<std::uint32_t>(cfg.gateway.idle_timeout.count());
  gw.max_connections = cfg.gateway.max_connections;
  gw.max_connections_per_address = cfg.limits.connections_per_address;
  gw.slow_consumer_bytes = cfg.limits.slow_consumer_bytes;
  // The window leaves room below the hard bound for replies and pushes queued meanwhile.
  gw.send_window_bytes = std::min<std::uint64_t>(cfg.limits.send_window_bytes, cfg.limits.slow_consumer_bytes / 2);
  gw.stall_timeout_ms = static_cast<std::uint32_t>(cfg.limits.stall_timeout_ms.count());
  gw.tls_cert = cfg.gateway.tls_cert;
  gw.tls_key = cfg.gateway.tls_key;
  gw.coalesce = &broker::client_handler::coalesce;
  broker::gateway gateway(gw, handler);

  broker::http_server_options ao;
  ao.listen = cfg.admin.listen;
  ao.tls_cert = cfg.admin.tls_cert;
  ao.tls_key = cfg.admin.tls_key;
  ao.admin_token = cfg.admin.token;
  ao.allowed_hosts = cfg.admin.allowed_hosts;
  broker::http_server admin(ao);
  broker::stats_extension cluster_stats;
  if (cluster_node) {
    broker::register_cluster_routes(admin, cluster_node.get());
    cluster_stats = [n = cluster_node.get()](std::vector<broker::admin::stat_value>& out) {
      broker::append_cluster_stats(*n, out);
    };
  }
  auto admin_api = broker::register_admin_routes(admin, svc, std::move(cluster_stats));

  // A listener that cannot start still goes through the orderly shutdown below: the actors are
  // running already, and the actor system's destructor would wait for them forever.
  int exit_code = 0;
  if (auto client_ep = gateway.start(); !client_ep) {
    exit_code = fail("cannot start the client listener", client_ep.err());
  } else if (auto admin_ep = admin.start(); !admin_ep) {
    exit_code = fail("cannot start the admin listener", admin_ep.err());
  } else if (auto joined = start_cluster(cluster_node.get(), svc, *client_ep, *admin_ep, started_ms); !joined) {
    exit_code = fail("cannot join the cluster", joined.err());
  } else {
    const bool wss = !cfg.gateway.tls_cert.empty();
    const bool https = !cfg.admin.tls_cert.empty();
    const std::string node_suffix = cluster_node ? " node=" + cfg.cluster.node : std::string();
    std::printf("sealcastd ready client=%s://%s/ws admin=%s://%s broker=%s%s\n", wss ? "wss" : "ws",
                client_ep->to_string().c_str(), https ? "https" : "http", admin_ep->to_string().c_str(),
                svc->broker_id.hex().c_str(), node_suffix.c_str());
    std::fflush(stdout);
    log::info("sealcastd", "ready", {{"client", client_ep->to_string()}, {"admin", admin_ep->to_string()},
                                     {"broker", svc->broker_id.hex()}});

    int sig = 0;
    sigwait(&sigs, &sig);
    log::info("sealcastd", "shutting down", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
  }

  // Leave the cluster first, while the event bus still runs: the heartbeat goes and the leases
  // are released, so the other nodes take the partitions over at once.
  if (cluster_node) cluster_node->stop();

  // Drain: stop taking connections, let the actors flush their state, commit what is queued,
  // then close the database.
  gateway.stop();
  admin.stop();
  admin_api->stop();  // its worker reads the store: done before the store closes
  caf::anon_send_exit(reaper, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(scheduler, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(svc->directory, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(svc->directs, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(svc->event_bus, caf::exit_reason::user_shutdown);
  system->await_all_actors_done();
  system.reset();
  ephemerals.stop();
  writer.stop();
  const auto stats = writer.stats();
  if (auto st = (*store)->close(); !st) return fail("closing the store failed", st.err());
  log::info("sealcastd", "stopped", {{"batches", stats.batches}, {"writes", stats.writes}});
  return exit_code;
}
