#include "cluster/partitions.hpp"

#include <algorithm>
#include <array>

#include "common/log.hpp"

namespace sealcast::cluster {

namespace {

using std::chrono::steady_clock;

// A held lease is renewed once a third of its usable span (term - margin) has passed, so two
// more renewals can fail (a nats-server's stream leader re-election takes ~5 s) before the
// deadline.
bool renew_due(const lease_grant& g, const lease_options& o, steady_clock::time_point now) {
  const auto span = o.ttl - o.margin;
  return g.valid_until - now < span * 2 / 3;
}

bool is_unavailable(const error& e) { return e.code == errc::unavailable; }

}  // namespace

std::uint64_t fnv1a64(byte_view data, std::uint64_t h) noexcept {
  for (std::uint8_t b : data) {
    h ^= b;
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::uint64_t mix64(std::uint64_t k) noexcept {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

std::uint32_t partition_of(const id16& group, std::uint32_t partitions) noexcept {
  if (partitions == 0) return 0;
  return static_cast<std::uint32_t>(mix64(fnv1a64(group.view())) % partitions);
}

std::uint64_t rendezvous_score(std::string_view node, std::uint32_t partition) noexcept {
  const std::array<std::uint8_t, 4> be = {
      static_cast<std::uint8_t>(partition >> 24), static_cast<std::uint8_t>(partition >> 16),
      static_cast<std::uint8_t>(partition >> 8), static_cast<std::uint8_t>(partition)};
  const byte_view name(reinterpret_cast<const std::uint8_t*>(node.data()), node.size());
  return mix64(fnv1a64(be, fnv1a64(name)));
}

std::string desired_owner(std::span<const std::string> nodes, std::uint32_t partition) {
  const std::string* best = nullptr;
  std::uint64_t best_score = 0;
  for (const auto& n : nodes) {
    const auto s = rendezvous_score(n, partition);
    if (best == nullptr || s > best_score || (s == best_score && n > *best)) {
      best = &n;
      best_score = s;
    }
  }
  return best ? *best : std::string();
}

std::string lease_key(std::uint32_t partition) { return "p." + std::to_string(partition); }

std::size_t partition_snapshot::owned() const noexcept {
  return static_cast<std::size_t>(std::count_if(owners.begin(), owners.end(), [](const auto& o) { return o.mine; }));
}

partition_manager::partition_manager(const lease_table& leases, partition_options o, live_nodes_fn live,
                                     partition_hook hook)
    : leases_(leases), o_(std::move(o)), live_(std::move(live)), hook_(std::move(hook)), table_(o_.count) {}

partition_manager::~partition_manager() { stop(); }

void partition_manager::start() {
  step();
  thread_ = std::thread([this] { run(); });
}

void partition_manager::run() {
  std::unique_lock lk(run_mu_);
  while (!stopping_) {
    // A fixed period from the start of each round: a slow round does not stretch the next wait.
    const auto next = steady_clock::now() + o_.tick;
    lk.unlock();
    step();
    lk.lock();
    wake_.wait_until(lk, next, [this] { return stopping_; });
  }
}

void partition_manager::stop() {
  {
    std::lock_guard lk(run_mu_);
    if (stopped_) return;
    stopping_ = stopped_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::map<std::uint32_t, lease_grant> held;
  {
    std::lock_guard lk(mu_);
    held.swap(held_);
  }
  for (const auto& [p, g] : held) {
    const bool valid = g.valid();
    if (valid) {
      if (auto st = leases_.release(g); !st)
        log::warn("cluster", "could not release a partition", {{"partition", p}, {"error", st.err().message}});
    }
    notify({p, false, g.revision, valid ? "node stopping" : "deadline passed"});
  }
}

void partition_manager::notify(const partition_change& c) {
  log::info("cluster", c.gained ? "partition gained" : "partition lost",
            {{"partition", c.partition}, {"revision", c.revision}, {"reason", c.reason}});
  if (hook_) hook_(c);
}

void partition_manager::lose(std::uint32_t p, const lease_grant& g, std::string reason, bool release) {
  {
    std::lock_guard lk(mu_);
    auto it = held_.find(p);
    if (it == held_.end() || it->second.revision != g.revision) return;
    held_.erase(it);
  }
  // Deletes our revision only: never a newer holder's entry (lease.hpp).
  if (release) (void)leases_.release(g);
  notify({p, false, g.revision, std::move(reason)});
}

void partition_manager::drop_expired() {
  const auto now = steady_clock::now();
  std::vector<std::pair<std::uint32_t, lease_grant>> expired;
  {
    std::lock_guard lk(mu_);
    for (const auto& [p, g] : held_)
      if (!g.valid(now)) expired.emplace_back(p, g);
  }
  for (const auto& [p, g] : expired) lose(p, g, "deadline passed", true);
}

bool partition_manager::maintain_held(const std::vector<std::string>& live) {
  std::map<std::uint32_t, lease_grant> held;
  {
    std::lock_guard lk(mu_);
    held = held_;
  }
  for (const auto& [p, g] : held) {
    const auto desired = desired_owner(live, p);
    if (desired != o_.node) {
      lose(p, g, "moved to " + desired, true);
      continue;
    }
    const auto now = steady_clock::now();
    // Checked again right before each renew: earlier requests of this round took time.
    if (!g.valid(now)) {
      lose(p, g, "deadline passed", true);
      continue;
    }
    if (!renew_due(g, leases_.options(), now)) continue;
    auto r = leases_.renew(g);
    if (!r) {
      if (r.err().code == errc::conflict) {
        lose(p, g, "taken by another node", false);
        continue;
      }
      log::warn("cluster", "lease renewal failed", {{"partition", p}, {"error", r.err().message}});
      if (is_unavailable(r.err())) return false;  // the rest would wait out the same timeout
      continue;
    }
    // A renewal that came back after our deadline (the process was paused with it in flight)
    // does not revive the lease: we already stopped acting on it.
    if (!r->valid()) {
      lose(p, *r, "deadline passed", true);
      continue;
    }
    std::lock_guard lk(mu_);
    if (auto it = held_.find(p); it != held_.end() && it->second.revision == g.revision) it->second = *r;
  }
  return true;
}

bool partition_manager::refresh_table() {
  std::vector<std::optional<lease_holder>> table(o_.count);
  for (std::uint32_t p = 0; p < o_.count; ++p) {
    auto h = leases_.holder(lease_key(p));
    if (!h) {
      log::warn("cluster", "could not read partition leases", {{"partition", p}, {"error", h.err().message}});
      return false;
    }
    table[p] = std::move(*h);
  }
  std::lock_guard lk(mu_);
  table_ = std::move(table);
  refreshed_ = steady_clock::now();
  return true;
}

void partition_manager::acquire_free(const std::vector<std::string>& live) {
  std::vector<std::uint32_t> wanted;
  {
    std::lock_guard lk(mu_);
    for (std::uint32_t p = 0; p < o_.count; ++p)
      if (!table_[p] && !held_.contains(p) && desired_owner(live, p) == o_.node) wanted.push_back(p);
  }
  for (auto p : wanted) {
    auto g = leases_.acquire(lease_key(p), o_.node);
    if (!g) {
      if (g.err().code == errc::exists) continue;  // someone was quicker: the next read shows who
      log::warn("cluster", "lease acquire failed", {{"partition", p}, {"error", g.err().message}});
      if (is_unavailable(g.err())) return;
      continue;
    }
    if (!g->valid()) {  // paused while acquiring: let it go at once
      (void)leases_.release(*g);
      continue;
    }
    {
      std::lock_guard lk(mu_);
      held_[p] = *g;
      table_[p] = lease_holder{o_.node, g->revision};
    }
    notify({p, true, g->revision, {}});
  }
}

void partition_manager::step() {
  drop_expired();
  auto live = live_();
  if (std::find(live.begin(), live.end(), o_.node) == live.end()) live.push_back(o_.node);
  std::sort(live.begin(), live.end());
  if (!maintain_held(live)) return;
  if (!refresh_table()) return;
  acquire_free(live);
}

partition_snapshot partition_manager::snapshot() const {
  const auto now = steady_clock::now();
  partition_snapshot s;
  s.owners.resize(o_.count);
  std::lock_guard lk(mu_);
  s.refreshed = refreshed_;
  for (std::uint32_t p = 0; p < o_.count; ++p) {
    auto& o = s.owners[p];
    if (auto it = held_.find(p); it != held_.end() && it->second.valid(now)) {
      o = {o_.node, it->second.revision, true, it->second.valid_until};
    } else if (table_[p] && table_[p]->holder != o_.node) {
      // Another node's lease as last read. Our own name without a valid grant is a lease we no
      // longer act on (lost, or read before we let it go): never reported as ours.
      o.node = table_[p]->holder;
      o.revision = table_[p]->revision;
    }
  }
  return s;
}

std::optional<lease_grant> partition_manager::grant(std::uint32_t partition) const {
  std::lock_guard lk(mu_);
  auto it = held_.find(partition);
  if (it == held_.end() || !it->second.valid()) return std::nullopt;
  return it->second;
}

}  // namespace sealcast::cluster
