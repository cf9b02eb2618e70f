#pragma once

// The one nats-server cluster of the cluster_tests process, and helpers its test cases share.

#include <string>

#include "cluster/nats.hpp"
#include "common/bytes.hpp"
#include "tests/support/nats_cluster.hpp"

namespace sealcast::test {

/// Three clustered nats-servers, started on first use and stopped at exit. A test case that
/// kills or pauses a server puts it back before it ends; each test case calls this first, and
/// it restarts any server that is still down.
nats_cluster& shared_cluster();

/// A client on every server of the shared cluster (it fails over between them), with a
/// JetStream timeout longer than a leader re-election.
cluster::nats_client connect_client(const std::string& name);

/// A group id whose bytes are all `n` (distinct, readable in subjects).
id16 test_group(std::uint8_t n);

}  // namespace sealcast::test
