#include "bench/report.hpp"

#include <cstdio>
#include <fstream>

#include <boost/json.hpp>

namespace sealcast::bench {

namespace {

double ns_to_ms(std::uint64_t ns) { return static_cast<double>(ns) / 1e6; }

std::string format(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

/// Few digits for big numbers, more for small ones.
std::string pretty(double v) {
  const double a = v < 0 ? -v : v;
  if (a >= 1000 || (v == static_cast<double>(static_cast<long long>(v)) && a < 1e15)) return format("%.0f", v);
  if (a >= 10) return format("%.1f", v);
  if (a >= 0.1) return format("%.2f", v);
  return format("%.4f", v);
}

std::string pad(std::string s, std::size_t width, bool right = false) {
  if (s.size() >= width) return s;
  return right ? std::string(width - s.size(), ' ') + s : s + std::string(width - s.size(), ' ');
}

}  // namespace

void report::add_latency(std::string key, std::string label, const latency_summary& ns) {
  latency_row r;
  r.key = std::move(key);
  r.label = std::move(label);
  r.ns = ns;
  r.mean_ms = ns.mean / 1e6;
  r.min_ms = ns_to_ms(ns.min);
  r.p50_ms = ns_to_ms(ns.p50);
  r.p90_ms = ns_to_ms(ns.p90);
  r.p99_ms = ns_to_ms(ns.p99);
  r.p999_ms = ns_to_ms(ns.p999);
  r.max_ms = ns_to_ms(ns.max);
  latencies_.push_back(std::move(r));
}

bool report::invariants_hold() const noexcept {
  for (const auto& i : invariants_)
    if (!i.holds()) return false;
  return true;
}

std::string report::table() const {
  std::string out = "sealcast-bench " + scenario_ + " (target " + target_ + ")\n";
  std::string line = "  ";
  for (const auto& [k, v] : params_) {
    std::string text = k + "=";
    if (auto* s = std::get_if<std::string>(&v))
      text += *s;
    else if (auto* d = std::get_if<double>(&v))
      text += pretty(*d);
    else
      text += std::get<bool>(v) ? "true" : "false";
    if (line.size() + text.size() > 100) {
      out += line + "\n";
      line = "  ";
    }
    line += text + " ";
  }
  out += line + "\n\n";
  for (const auto& f : figures_) out += "  " + pad(f.label, 46) + pad(pretty(f.value), 14, true) + "  " + f.unit + "\n";
  if (!latencies_.empty()) {
    out += "\n  " + pad("latency (ms)", 30) + pad("count", 10, true);
    for (const char* h : {"p50", "p90", "p99", "p99.9", "max"}) out += pad(h, 10, true);
    out += "\n";
    for (const auto& r : latencies_) {
      out += "  " + pad(r.label, 30) + pad(format("%.0f", static_cast<double>(r.ns.count)), 10, true);
      for (double v : {r.p50_ms, r.p90_ms, r.p99_ms, r.p999_ms, r.max_ms}) out += pad(pretty(v), 10, true);
      out += "\n";
    }
  }
  if (!invariants_.empty()) {
    out += "\n  " + pad("invariant", 56) + pad("expected", 12, true) + pad("actual", 12, true) + "\n";
    for (const auto& i : invariants_)
      out += "  " + pad(i.label, 56) + pad(pretty(i.expected), 12, true) + pad(pretty(i.actual), 12, true) +
             (i.holds() ? "  ok" : "  MISMATCH") + "\n";
  }
  if (!notes_.empty()) {
    out += "\n";
    for (const auto& n : notes_) out += "  note: " + n + "\n";
  }
  return out;
}

std::string report::json() const {
  namespace json = boost::json;
  json::object root;
  root["scenario"] = scenario_;
  root["target"] = target_;
  json::object params;
  for (const auto& [k, v] : params_) {
    if (auto* s = std::get_if<std::string>(&v))
      params[k] = *s;
    else if (auto* d = std::get_if<double>(&v))
      params[k] = *d;
    else
      params[k] = std::get<bool>(v);
  }
  root["parameters"] = std::move(params);
  json::object figs;
  json::object units;
  for (const auto& f : figures_) {
    figs[f.key] = f.value;
    units[f.key] = f.unit;
  }
  root["figures"] = std::move(figs);
  root["units"] = std::move(units);
  json::object lat;
  for (const auto& r : latencies_) {
    lat[r.key] =
        json::object{{"count", r.ns.count}, {"mean_ms", r.mean_ms}, {"min_ms", r.min_ms},   {"p50_ms", r.p50_ms},
                     {"p90_ms", r.p90_ms},  {"p99_ms", r.p99_ms},   {"p999_ms", r.p999_ms}, {"max_ms", r.max_ms}};
  }
  root["latency"] = std::move(lat);
  json::array inv;
  for (const auto& i : invariants_)
    inv.push_back(json::object{{"key", i.key},
                               {"label", i.label},
                               {"expected", i.expected},
                               {"actual", i.actual},
                               {"holds", i.holds()}});
  root["invariants"] = std::move(inv);
  root["invariants_hold"] = invariants_hold();
  json::array tl;
  for (const auto& p : timeline_)
    tl.push_back(json::object{{"t_s", p.t_s},
                              {"samples", p.samples},
                              {"p50_ms", p.p50_ms},
                              {"p99_ms", p.p99_ms},
                              {"p999_ms", p.p999_ms},
                              {"max_ms", p.max_ms},
                              {"delivered_per_s", p.delivered_per_s}});
  root["timeline"] = std::move(tl);
  json::array notes;
  for (const auto& n : notes_) notes.emplace_back(n);
  root["notes"] = std::move(notes);
  return json::serialize(root);
}

status report::write_json(const std::string& path) const {
  std::ofstream out(path, std::ios::trunc);
  if (!out) return error{errc::io_error, "cannot open " + path + " for writing"};
  out << json() << "\n";
  out.close();
  if (!out) return error{errc::io_error, "cannot write " + path};
  return {};
}

}  // namespace sealcast::bench
