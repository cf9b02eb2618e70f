#include "tests/cluster/shared_cluster.hpp"

#include <catch2/catch_test_macros.hpp>

namespace sealcast::test {

nats_cluster& shared_cluster() {
  static nats_cluster cluster(3);
  for (int i = 0; i < cluster.size(); ++i)
    if (!cluster.running(i)) cluster.restart(i);
  return cluster;
}

cluster::nats_client connect_client(const std::string& name) {
  cluster::connect_options o;
  o.servers = shared_cluster().client_urls();
  o.name = name;
  auto c = cluster::nats_client::connect(o);
  if (!c) FAIL("connect: " << c.err().message);
  return std::move(c).value();
}

id16 test_group(std::uint8_t n) {
  id16 g;
  g.b.fill(n);
  return g;
}

}  // namespace sealcast::test
