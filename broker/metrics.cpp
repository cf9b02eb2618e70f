#include "broker/metrics.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>

namespace sealcast::broker::admin {

namespace {

using actors::event_type;

// Histogram boundaries: every 4th bucket of the log-bucketed histogram is a power of two in
// microseconds; 2^4 us (16 us) to 2^26 us (~67 s), then +Inf.
constexpr std::size_t first_power = 4;
constexpr std::size_t last_power = 26;

std::string number(double v) {
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc{} ? std::string(buf, p) : std::string("0");
}

double ms(std::uint64_t us) { return static_cast<double>(us) / 1000.0; }

void header(std::string& out, std::string_view name, std::string_view help, std::string_view type) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

}  // namespace

stats_snapshot take_stats(const actors::services& svc, std::uint64_t uptime_s, std::uint64_t event_streams) {
  const auto& c = svc.counters;
  auto ev = [&](event_type t) { return c.count(t); };
  auto load = [](const auto& a) { return static_cast<std::uint64_t>(a.load(std::memory_order_relaxed)); };
  std::uint64_t on_disk = 0;
  if (svc.store)
    if (auto b = svc.store->bytes_on_disk()) on_disk = *b;
  const auto pending = c.pending_messages.load(std::memory_order_relaxed);
  stats_snapshot s;
  s.values = {
      {"pubsub", "messages_published", "sealcast_messages_published_total", "Group messages accepted and stored.",
       true, ev(event_type::message_published)},
      {"pubsub", "messages_delivered", "sealcast_messages_delivered_total",
       "Group message deliveries acknowledged by a recipient.", true, ev(event_type::message_delivered)},
      {"pubsub", "messages_failed", "sealcast_messages_failed_total",
       "Deliveries given up (attempts exhausted or expired), directs included.", true,
       ev(event_type::message_failed)},
      {"pubsub", "messages_cleaned", "sealcast_messages_cleaned_total",
       "Group messages deleted after delivery or expiry.", true, ev(event_type::message_cleaned)},
      {"pubsub", "groups_created", "sealcast_groups_created_total", "Groups created.", true,
       ev(event_type::group_created)},
      {"pubsub", "users_subscribed", "sealcast_users_subscribed_total",
       "Users added to a group (creation, join, add).", true, ev(event_type::member_joined)},
      {"pubsub", "keys_rotated", "sealcast_keys_rotated_total", "Epochs started (any custody, any reason).", true,
       ev(event_type::key_rotated)},
      {"pubsub", "directs_sent", "sealcast_directs_sent_total", "Direct messages accepted.", true,
       ev(event_type::direct_sent)},
      {"encryption", "keys_generated", "sealcast_keys_generated_total", "Group keys generated (broker custody).",
       true, load(c.keys_generated)},
      {"encryption", "keys_distributed", "sealcast_keys_distributed_total", "Wrapped keys stored for members.",
       true, load(c.keys_distributed)},
      {"encryption", "key_rotations", "sealcast_key_rotations_total",
       "Rotations by policy (age, message count) or the admin API that were stored.", true, load(c.key_rotations)},
      {"encryption", "rekeys_requested", "sealcast_rekeys_requested_total",
       "Rekey requests sent to client-custody admins.", true, ev(event_type::rekey_requested)},
      {"connections", "current", "sealcast_open_connections", "Open client connections.", false,
       load(c.connections_current)},
      {"connections", "total", "sealcast_connections_total", "Client connections accepted.", true,
       load(c.connections_total)},
      {"storage", "pending_messages", "sealcast_pending_messages", "Stored group messages not deleted yet.", false,
       pending > 0 ? static_cast<std::uint64_t>(pending) : 0},
      {"storage", "groups_loaded", "sealcast_groups_loaded", "Group actors in memory (idle groups are unloaded).",
       false, static_cast<std::uint64_t>(std::max<std::int64_t>(0, c.groups_loaded.load(std::memory_order_relaxed)))},
      {"storage", "frame_cache_bytes", "sealcast_frame_cache_bytes",
       "Delivery frames cached in memory by the group actors (bounded).", false,
       static_cast<std::uint64_t>(std::max<std::int64_t>(0, svc.frame_cache_bytes.load(std::memory_order_relaxed)))},
      {"storage", "bytes_on_disk", "sealcast_storage_on_disk_bytes", "Size of the database files.", false, on_disk},
      {"traffic", "bytes_in", "sealcast_received_bytes_total", "Client frame bytes received.", true,
       load(c.bytes_in)},
      {"admin", "event_streams", "sealcast_admin_event_streams", "Open /admin/events/stream responses.", false,
       event_streams},
      {"", "uptime_s", "sealcast_uptime_seconds", "Seconds since the broker started.", false, uptime_s},
  };
  const auto& h = c.publish_to_deliver;
  s.p50_us = h.quantile_us(0.50);
  s.p90_us = h.quantile_us(0.90);
  s.p99_us = h.quantile_us(0.99);
  s.max_us = h.max_us();
  return s;
}

std::string stats_json(const stats_snapshot& s) {
  boost::json::object root;
  for (const auto& v : s.values) {
    if (v.section.empty()) {
      root[v.key] = v.value;
      continue;
    }
    auto& sec = root[v.section];
    if (!sec.is_object()) sec = boost::json::object{};
    sec.as_object()[v.key] = v.value;
  }
  root["latency_ms"] = boost::json::object{
      {"p50", ms(s.p50_us)}, {"p90", ms(s.p90_us)}, {"p99", ms(s.p99_us)}, {"max", ms(s.max_us)}};
  return boost::json::serialize(root);
}

std::string metrics_text(const stats_snapshot& s, const actors::services& svc) {
  std::string out;
  out.reserve(8192);
  for (const auto& v : s.values) {
    header(out, v.metric, v.help, v.counter ? "counter" : "gauge");
    out.append(v.metric).append(" ").append(std::to_string(v.value)).append("\n");
  }
  constexpr std::string_view events = "sealcast_events_total";
  header(out, events, "Events emitted, by type.", "counter");
  for (std::size_t i = 0; i < actors::event_type_count; ++i) {
    const auto t = static_cast<event_type>(i);
    out.append(events).append("{type=\"").append(actors::to_string(t)).append("\"} ");
    out.append(std::to_string(svc.counters.count(t))).append("\n");
  }

  constexpr std::string_view hist = "sealcast_publish_to_deliver_seconds";
  header(out, hist, "Time from a publish being accepted to its delivery being written to a recipient.",
         "histogram");
  const auto& h = svc.counters.publish_to_deliver;
  // Counts from the buckets themselves so that +Inf and _count agree even while recording.
  std::uint64_t cumulative = 0;
  std::size_t i = 0;
  for (std::size_t power = first_power; power <= last_power; ++power) {
    const std::size_t upto = 4 * power;  // bucket_upper_us(4k) == 2^k us
    for (; i <= upto && i < actors::latency_histogram::bucket_count; ++i) cumulative += h.bucket(i);
    const double le = static_cast<double>(actors::latency_histogram::bucket_upper_us(upto)) / 1e6;
    out.append(hist).append("_bucket{le=\"").append(number(le)).append("\"} ");
    out.append(std::to_string(cumulative)).append("\n");
  }
  for (; i < actors::latency_histogram::bucket_count; ++i) cumulative += h.bucket(i);
  out.append(hist).append("_bucket{le=\"+Inf\"} ").append(std::to_string(cumulative)).append("\n");
  out.append(hist).append("_sum ").append(number(static_cast<double>(h.sum_us()) / 1e6)).append("\n");
  out.append(hist).append("_count ").append(std::to_string(cumulative)).append("\n");
  return out;
}

}  // namespace sealcast::broker::admin
