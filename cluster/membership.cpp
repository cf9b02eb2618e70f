#include "cluster/membership.hpp"

#include <boost/json.hpp>

#include <algorithm>

#include "common/log.hpp"

namespace sealcast::cluster {

namespace {

namespace json = boost::json;
using std::chrono::milliseconds;

std::int64_t unix_ms() {
  return std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::int64_t ns(milliseconds d) { return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count(); }

// Binds to the bucket, creating it first if it does not exist.
result<nats_ptr<kvStore>> open_bucket(jsCtx* js, const membership_options& o) {
  kvConfig cfg;
  kvConfig_Init(&cfg);
  cfg.Bucket = o.bucket.c_str();
  cfg.Description = "sealcast node heartbeats";
  cfg.History = 1;
  cfg.TTL = ns(o.heartbeat * o.ttl_beats);  // cnats 3.4.1: nanoseconds
  cfg.StorageType = js_MemoryStorage;       // heartbeats need no disk
  cfg.Replicas = o.replicas;
  kvStore* raw = nullptr;
  natsStatus s = js_CreateKeyValue(&raw, js, &cfg);
  if (s != NATS_OK) {
    // It exists with another configuration (another node created it): bind and compare below.
    raw = nullptr;
    if (natsStatus b = js_KeyValue(&raw, js, o.bucket.c_str()); b != NATS_OK)
      return nats_error(s, "membership: create bucket " + o.bucket);
  }
  nats_ptr<kvStore> kv(raw);
  kvStatus* st = nullptr;
  if (s = kvStore_Status(&st, kv.get()); s != NATS_OK) return nats_error(s, "membership: read bucket " + o.bucket);
  const std::int64_t ttl = kvStatus_TTL(st);
  kvStatus_Destroy(st);
  if (ttl != cfg.TTL)
    return error{errc::config_error, "membership: bucket " + o.bucket + " has a TTL of " +
                                         std::to_string(ttl / 1000000) + " ms, this node wants " +
                                         std::to_string(cfg.TTL / 1000000) +
                                         " ms: cluster.heartbeat_ms must be the same on every node"};
  return kv;
}

}  // namespace

std::string encode_node(const node_info& n) {
  return json::serialize(json::object{{"name", n.name},
                                      {"client_url", n.client_url},
                                      {"admin_url", n.admin_url},
                                      {"started_ms", n.started_ms},
                                      {"pid", n.pid},
                                      {"connections", n.connections},
                                      {"beat_ms", n.beat_ms}});
}

result<node_info> decode_node(std::string_view text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return error{errc::bad_format, "membership: a heartbeat that is not a JSON object"};
  const auto& o = v.as_object();
  node_info n;
  auto str = [&](std::string_view k) -> std::string {
    auto* p = o.if_contains(k);
    return p && p->is_string() ? std::string(p->as_string()) : std::string();
  };
  auto num = [&](std::string_view k) -> std::int64_t {
    auto* p = o.if_contains(k);
    if (p == nullptr) return 0;
    if (p->is_int64()) return p->as_int64();
    if (p->is_uint64()) return static_cast<std::int64_t>(p->as_uint64());
    return 0;
  };
  n.name = str("name");
  n.client_url = str("client_url");
  n.admin_url = str("admin_url");
  n.started_ms = num("started_ms");
  n.pid = num("pid");
  n.connections = static_cast<std::uint64_t>(num("connections"));
  n.beat_ms = num("beat_ms");
  if (n.name.empty()) return error{errc::bad_format, "membership: a heartbeat without a name"};
  return n;
}

membership::membership(const nats_client& client, nats_ptr<kvStore> kv, membership_options o, node_info self,
                       std::function<std::uint64_t()> connections)
    : client_(client),
      kv_(std::move(kv)),
      o_(std::move(o)),
      connections_(std::move(connections)),
      self_(std::move(self)) {}

result<std::unique_ptr<membership>> membership::open(const nats_client& client, membership_options o, node_info self,
                                                     std::function<std::uint64_t()> connections) {
  if (self.name.empty()) return error{errc::config_error, "membership: this node has no name"};
  auto kv = open_bucket(client.jetstream(), o);
  if (!kv) return std::move(kv).err();
  return std::unique_ptr<membership>(
      new membership(client, std::move(*kv), std::move(o), std::move(self), std::move(connections)));
}

membership::~membership() { stop(); }

status membership::start() {
  if (auto st = beat(); !st) return st;
  thread_ = std::thread([this] { run(); });
  return {};
}

void membership::run() {
  std::unique_lock lk(run_mu_);
  while (!stopping_) {
    const auto next = std::chrono::steady_clock::now() + o_.heartbeat;
    lk.unlock();
    if (auto st = beat(); !st) log::warn("cluster", "heartbeat failed", {{"error", st.err().message}});
    lk.lock();
    wake_.wait_until(lk, next, [this] { return stopping_; });
  }
}

void membership::stop() {
  {
    std::lock_guard lk(run_mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::string name;
  {
    std::lock_guard lk(mu_);
    if (left_) return;
    left_ = true;
    name = self_.name;
    std::erase_if(nodes_, [&](const node_info& n) { return n.name == name; });
  }
  if (natsStatus s = kvStore_Delete(kv_.get(), name.c_str()); s != NATS_OK)
    log::warn("cluster", "could not remove this node's heartbeat", {{"error", nats_error(s, "membership").message}});
}

status membership::beat() {
  node_info me;
  {
    std::lock_guard lk(mu_);
    if (left_) return {};
    self_.connections = connections_ ? connections_() : 0;
    self_.beat_ms = unix_ms();
    me = self_;
  }
  const std::string value = encode_node(me);
  std::uint64_t rev = 0;
  natsStatus s = kvStore_Put(&rev, kv_.get(), me.name.c_str(), value.data(), static_cast<int>(value.size()));
  status written;
  if (s != NATS_OK) written = nats_error(s, "membership: heartbeat");

  auto all = read_all();
  std::lock_guard lk(mu_);
  if (all) {
    nodes_ = std::move(*all);
  } else {
    // Keep what we knew, but only as long as a heartbeat could still be alive.
    const auto oldest = unix_ms() - (o_.heartbeat * o_.ttl_beats).count();
    std::erase_if(nodes_, [&](const node_info& n) { return n.beat_ms < oldest; });
  }
  auto it = std::find_if(nodes_.begin(), nodes_.end(), [&](const node_info& n) { return n.name == me.name; });
  if (it == nodes_.end())
    nodes_.push_back(me);
  else
    *it = me;
  std::sort(nodes_.begin(), nodes_.end(), [](const node_info& a, const node_info& b) { return a.name < b.name; });
  if (!written) return written;
  if (!all) return std::move(all).err();
  return {};
}

result<std::vector<node_info>> membership::read_all() const {
  // The keys present: one stream-info request listing the bucket's subjects. Expired
  // heartbeats are gone from it; a key deleted on stop is there with a delete marker, which
  // kvStore_Get reports as not found.
  jsOptions jo;
  jsOptions_Init(&jo);
  const std::string prefix = "$KV." + o_.bucket + ".";
  const std::string filter = prefix + ">";
  jo.Stream.Info.SubjectsFilter = filter.c_str();
  jsStreamInfo* raw = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  const std::string stream = "KV_" + o_.bucket;
  natsStatus s = js_GetStreamInfo(&raw, client_.jetstream(), stream.c_str(), &jo, &code);
  nats_ptr<jsStreamInfo> info(raw);
  if (s != NATS_OK) return nats_error(s, "membership: list nodes", code);

  std::vector<node_info> out;
  const auto* subjects = info->State.Subjects;
  for (int i = 0; subjects != nullptr && i < subjects->Count; ++i) {
    std::string_view subject = subjects->List[i].Subject;
    if (subject.substr(0, prefix.size()) != prefix) continue;
    const std::string key(subject.substr(prefix.size()));
    kvEntry* e = nullptr;
    s = kvStore_Get(&e, kv_.get(), key.c_str());
    if (s == NATS_NOT_FOUND) continue;  // deleted (left) or expired since the listing
    if (s != NATS_OK) return nats_error(s, "membership: read node " + key);
    nats_ptr<kvEntry> entry(e);
    auto n = decode_node(
        std::string_view(static_cast<const char*>(kvEntry_Value(e)), static_cast<std::size_t>(kvEntry_ValueLen(e))));
    if (!n) {
      log::warn("cluster", "ignoring a malformed heartbeat", {{"key", key}, {"error", n.err().message}});
      continue;
    }
    out.push_back(std::move(*n));
  }
  return out;
}

std::vector<node_info> membership::nodes() const {
  std::lock_guard lk(mu_);
  return nodes_;
}

std::vector<std::string> membership::names() const {
  std::lock_guard lk(mu_);
  std::vector<std::string> out;
  out.reserve(nodes_.size());
  for (const auto& n : nodes_) out.push_back(n.name);
  return out;
}

node_info membership::self() const {
  std::lock_guard lk(mu_);
  return self_;
}

}  // namespace sealcast::cluster
