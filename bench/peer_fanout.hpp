#pragma once

// The fanout run against a peer broker (nats-server, Mosquitto): per group the owner (a publisher
// only) and M subscribers, or with --all-publish M clients that all subscribe and publish (not to
// themselves); the same paced publish loops, window, drain and report as the Sealcast target.
// A target says only how its clients are made, named, joined and hooked:
//
//   struct target : peer_parts<client, publisher hooks, member hooks, publisher> {
//     static std::string group_topic(std::string_view run_id, std::size_t g);
//     static std::string subscription(const std::string& topic);  // every sender of the group
//     // Connects client i and subscribes it to `subscription` unless that is empty.
//     static asio::awaitable<std::string> join(std::shared_ptr<client>, const bench_options&,
//                                              std::optional<asio::ip::address> source,
//                                              std::string subscription, std::string client_id);
//   };
//
// Included by the scenario_*.cpp of each peer only.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bench/fanout_common.hpp"
#include "bench/keyed_group.hpp"
#include "bench/paced_loop.hpp"
#include "common/detail/coroutine_frame_warning.hpp"
#include "crypto/random.hpp"

namespace sealcast::bench {

/// The part of a target that only makes its hooks and publishers (a target derives from it).
template <class Client, class PublisherHooks, class MemberHooks, class Publisher>
struct peer_parts {
  using client = Client;
  static std::unique_ptr<typename Client::hooks> publisher_hooks(fanout_stats& st) {
    return std::make_unique<PublisherHooks>(st);
  }
  static std::unique_ptr<typename Client::hooks> member_hooks(fanout_stats& st, const bench_options& o,
                                                              const keyed_group& g) {
    return std::make_unique<MemberHooks>(st, o, g);
  }
  static std::unique_ptr<paced_publisher> publisher(std::shared_ptr<Client> c, const keyed_group& g,
                                                    std::size_t sender, const bench_options& o) {
    return std::make_unique<Publisher>(std::move(c), g, sender, o);
  }
};

template <class Target>
boost::asio::awaitable<status> run_peer_fanout(bench_context& ctx, report& out) {
  namespace asio = boost::asio;
  using client = typename Target::client;
  const auto& o = ctx.options();
  const auto [per_group, recipients, total] = start_fanout(ctx, out);

  // Everything clients and hooks touch lives as long as the io_context (bench_context::keep).
  struct peer_run {
    std::shared_ptr<fanout_stats> stats = std::make_shared<fanout_stats>();
    std::vector<keyed_group> groups;
    std::vector<std::unique_ptr<paced_publisher>> pubs;
    std::vector<std::unique_ptr<typename client::hooks>> hooks;
    std::vector<std::shared_ptr<client>> clients;  ///< by group: owner, then members
    std::vector<std::string> subscriptions;        ///< per client: "" for none
  };
  auto run = std::make_shared<peer_run>();
  ctx.keep(run);
  auto& st = *run->stats;
  const auto run_id = crypto::random_id().hex().substr(0, 12);
  for (std::size_t g = 0; g < o.groups; ++g)
    run->groups.push_back(keyed_group::make(Target::group_topic(run_id, g), o.all_publish ? per_group : 1));
  for (auto& gr : run->groups) {
    for (std::size_t k = 0; k < per_group; ++k) {
      const bool subscribes = k > 0 || o.all_publish;
      run->hooks.push_back(subscribes ? Target::member_hooks(st, o, gr) : Target::publisher_hooks(st));
      run->clients.push_back(std::make_shared<client>(ctx.make_strand(), run->hooks.back().get()));
      run->subscriptions.push_back(subscribes ? Target::subscription(gr.topic) : std::string());
      if (k == 0 || o.all_publish) run->pubs.push_back(Target::publisher(run->clients.back(), gr, k, o));
    }
  }
  ctx.set_progress(fanout_progress(run->stats, total));

  // Connect (and subscribe) everyone, at most connect_concurrency at once.
  const std::function<asio::awaitable<std::string>(std::size_t)> join = [&](std::size_t i) {
    const auto& c = run->clients[i];
    return asio::co_spawn(c->executor(),
                          Target::join(c, o, ctx.source_for(i), run->subscriptions[i],
                                       "sb-" + run_id + "-" + std::to_string(i)),
                          asio::use_awaitable);
  };
  const auto logins = co_await join_all(ctx, run->clients.size(), join, &st.logins);
  out.add("connections", double(logins.ok), "", "connections subscribed");
  out.add("login_seconds", logins.seconds, "s", "time to connect all");
  if (logins.failed > 0)
    co_return error{errc::internal, std::to_string(logins.failed) + " connections failed, first: " + logins.first_error};

  const auto start = open_run_window(st, o);
  const double per_publisher = o.rate ? *o.rate / static_cast<double>(run->pubs.size()) : 0;
  const auto& pubs = run->pubs;
  for (std::size_t i = 0; i < pubs.size(); ++i)
    asio::co_spawn(pubs[i]->executor(),
                   paced_publish_loop(*pubs[i], st, o, per_publisher, double(i) / double(pubs.size()), start,
                                      st.window_end.load()),
                   asio::detached);
  const auto [cpu, drained] = co_await measure_and_drain(st, o, run->pubs.size(), recipients);
  st.phase = "close";
  st.closing = true;
  for (auto& c : run->clients) asio::post(c->executor(), [c] { c->close(); });
  (void)co_await wait_until(
      [&] {
        for (auto& c : run->clients)
          if (c->is_open()) return false;
        return true;
      },
      std::chrono::seconds(5), std::chrono::milliseconds(20));

  std::uint64_t client_errors = 0;
  for (auto& c : run->clients) client_errors += c->protocol_errors();
  fanout_report(out, st, o, recipients, client_errors, cpu, drained, logins);
  co_return status{};
}

}  // namespace sealcast::bench
