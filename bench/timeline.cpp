#include "bench/timeline.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>

namespace sealcast::bench {

namespace {

constexpr std::uint64_t ns_per_s = 1'000'000'000;

double ms(std::uint64_t ns) { return static_cast<double>(ns) / 1e6; }

std::string num(double v, const char* fmt = "%.1f") {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

/// A latency tick label: 0.01, 0.5, 2, 100, 1000 ms.
std::string ms_label(double v) {
  if (v >= 1) return num(v, "%.0f");
  if (v >= 0.1) return num(v, "%.1f");
  if (v >= 0.01) return num(v, "%.2f");
  return num(v, "%.3f");
}

/// A rate tick label: 950, 12k, 1.5M.
std::string rate_label(double v) {
  if (v >= 1e6) return num(v / 1e6, v >= 1e7 ? "%.0fM" : "%.1fM");
  if (v >= 1e3) return num(v / 1e3, v >= 1e4 ? "%.0fk" : "%.1fk");
  return num(v, "%.0f");
}

/// 1, 2 or 5 times a power of ten, at least v.
double nice_ceil(double v) {
  if (v <= 0) return 1;
  const double p = std::pow(10, std::floor(std::log10(v)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * p >= v) return m * p;
  return 10 * p;
}

}  // namespace

timeline::timeline(std::uint64_t start_ns, std::size_t seconds)
    : start_ns_(start_ns), delivered_(std::make_unique<std::atomic<std::uint64_t>[]>(seconds)) {
  latency_.reserve(seconds);
  for (std::size_t i = 0; i < seconds; ++i) {
    latency_.push_back(std::make_unique<histogram>());
    delivered_[i].store(0, std::memory_order_relaxed);
  }
}

std::size_t timeline::slot(std::uint64_t at_ns) const noexcept {
  if (at_ns < start_ns_) return SIZE_MAX;
  const auto i = static_cast<std::size_t>((at_ns - start_ns_) / ns_per_s);
  return i < latency_.size() ? i : SIZE_MAX;
}

void timeline::record_latency(std::uint64_t at_ns, std::uint64_t latency_ns) noexcept {
  if (const auto i = slot(at_ns); i != SIZE_MAX) latency_[i]->record(latency_ns);
}

void timeline::count_delivery(std::uint64_t at_ns) noexcept {
  if (const auto i = slot(at_ns); i != SIZE_MAX) delivered_[i].fetch_add(1, std::memory_order_relaxed);
}

std::vector<timeline_point> timeline::points() const {
  std::vector<timeline_point> out;
  for (std::size_t i = 0; i < latency_.size(); ++i) {
    const auto s = latency_[i]->summary();
    timeline_point p;
    p.t_s = static_cast<double>(i);
    p.samples = s.count;
    p.p50_ms = ms(s.p50);
    p.p99_ms = ms(s.p99);
    p.p999_ms = ms(s.p999);
    p.max_ms = ms(s.max);
    p.delivered_per_s = static_cast<double>(delivered_[i].load(std::memory_order_relaxed));
    out.push_back(p);
  }
  return out;
}

std::string svg_plot(const std::string& title, const std::string& subtitle, const std::vector<timeline_point>& points) {
  constexpr double width = 960, height = 520;
  constexpr double left = 80, right = 90, top = 90, bottom = 60;
  constexpr double pw = width - left - right, ph = height - top - bottom;
  const double seconds = std::max<double>(1, static_cast<double>(points.size()));

  // Latency: a log axis from the decade below the smallest value to the decade above the largest.
  double lo = 0, hi = 0, rate_max = 0;
  for (const auto& p : points) {
    rate_max = std::max(rate_max, p.delivered_per_s);
    if (p.samples == 0) continue;
    for (double v : {p.p50_ms, p.p99_ms, p.max_ms}) {
      if (v <= 0) continue;
      lo = lo == 0 ? v : std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  if (hi == 0) lo = 0.1, hi = 10;
  const double dlo = std::floor(std::log10(lo)), dhi = std::max(dlo + 1, std::ceil(std::log10(hi)));
  const double rate_top = nice_ceil(rate_max * 1.05);

  auto x_of = [&](double t) { return left + pw * t / seconds; };
  auto y_of_ms = [&](double v) {
    const double l = std::log10(std::max(v, std::pow(10, dlo)));
    return top + ph * (1 - (l - dlo) / (dhi - dlo));
  };
  auto y_of_rate = [&](double r) { return top + ph * (1 - r / rate_top); };

  std::string s;
  s += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(width, "%.0f") + "\" height=\"" +
       num(height, "%.0f") + "\" viewBox=\"0 0 " + num(width, "%.0f") + " " + num(height, "%.0f") +
       "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  s += "<rect x=\"0\" y=\"0\" width=\"" + num(width, "%.0f") + "\" height=\"" + num(height, "%.0f") +
       "\" fill=\"white\"/>\n";
  s += "<text x=\"" + num(width / 2, "%.0f") + "\" y=\"24\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\">" +
       escape(title) + "</text>\n";
  s += "<text x=\"" + num(width / 2, "%.0f") + "\" y=\"44\" text-anchor=\"middle\" fill=\"#444\">" + escape(subtitle) +
       "</text>\n";

  // Grid and the latency axis (left): every decade labelled, 2 and 5 too when the range is short.
  s += "<g id=\"latency-axis\" stroke=\"#ddd\">\n";
  for (double d = dlo; d <= dhi; ++d) {
    for (double m : {1.0, 2.0, 5.0}) {
      const double v = m * std::pow(10, d);
      if (std::log10(v) > dhi + 1e-9) break;
      const bool major = m == 1.0;
      if (!major && dhi - dlo > 3) continue;
      const double y = y_of_ms(v);
      s += "<line x1=\"" + num(left) + "\" y1=\"" + num(y) + "\" x2=\"" + num(left + pw) + "\" y2=\"" + num(y) +
           "\"" + (major ? "" : " stroke-dasharray=\"2,3\"") + "/>\n";
      s += "<text x=\"" + num(left - 6) + "\" y=\"" + num(y + 4) + "\" text-anchor=\"end\" stroke=\"none\" fill=\"#000\">" +
           ms_label(v) + "</text>\n";
    }
  }
  s += "</g>\n";
  // The rate axis (right).
  s += "<g id=\"rate-axis\" fill=\"#1f77b4\">\n";
  for (int i = 0; i <= 5; ++i) {
    const double r = rate_top * i / 5;
    const double y = y_of_rate(r);
    s += "<line x1=\"" + num(left + pw) + "\" y1=\"" + num(y) + "\" x2=\"" + num(left + pw + 5) + "\" y2=\"" + num(y) +
         "\" stroke=\"#1f77b4\"/>\n";
    s += "<text x=\"" + num(left + pw + 8) + "\" y=\"" + num(y + 4) + "\">" + rate_label(r) + "</text>\n";
  }
  s += "</g>\n";
  // Time axis.
  const double step = std::max(1.0, nice_ceil(seconds / 10));
  s += "<g id=\"time-axis\">\n";
  for (double t = 0; t <= seconds + 1e-9; t += step) {
    const double x = x_of(t);
    s += "<line x1=\"" + num(x) + "\" y1=\"" + num(top + ph) + "\" x2=\"" + num(x) + "\" y2=\"" + num(top + ph + 5) +
         "\" stroke=\"#000\"/>\n";
    s += "<text x=\"" + num(x) + "\" y=\"" + num(top + ph + 18) + "\" text-anchor=\"middle\">" + num(t, "%.0f") +
         "</text>\n";
  }
  s += "</g>\n";
  s += "<rect x=\"" + num(left) + "\" y=\"" + num(top) + "\" width=\"" + num(pw) + "\" height=\"" + num(ph) +
       "\" fill=\"none\" stroke=\"#000\"/>\n";
  s += "<text x=\"" + num(left + pw / 2) + "\" y=\"" + num(height - 14) +
       "\" text-anchor=\"middle\">seconds of the measured window</text>\n";
  s += "<text transform=\"translate(22," + num(top + ph / 2) +
       ") rotate(-90)\" text-anchor=\"middle\">latency, ms (log scale, by intended send time)</text>\n";
  s += "<text transform=\"translate(" + num(width - 18) + "," + num(top + ph / 2) +
       ") rotate(90)\" text-anchor=\"middle\" fill=\"#1f77b4\">delivered messages per second</text>\n";

  // The series.
  struct series {
    const char* id;
    const char* label;
    const char* colour;
    const char* dash;
  };
  const series all[] = {{"p50", "p50 latency", "#2ca02c", ""},
                        {"p99", "p99 latency", "#ff7f0e", ""},
                        {"max", "max latency", "#d62728", ""},
                        {"delivered", "delivered/s (right axis)", "#1f77b4", "6,4"}};
  for (const auto& se : all) {
    const std::string id = se.id;
    std::string pts;
    for (const auto& p : points) {
      const double x = x_of(p.t_s + 0.5);
      double y = 0;
      if (id == "delivered") {
        y = y_of_rate(p.delivered_per_s);
      } else {
        if (p.samples == 0) continue;
        y = y_of_ms(id == "p50" ? p.p50_ms : id == "p99" ? p.p99_ms : p.max_ms);
      }
      pts += num(x) + "," + num(y) + " ";
    }
    if (!pts.empty()) pts.pop_back();
    s += "<polyline id=\"" + id + "\" fill=\"none\" stroke=\"" + se.colour + "\" stroke-width=\"2\"" +
         (*se.dash ? std::string(" stroke-dasharray=\"") + se.dash + "\"" : std::string()) + " points=\"" + pts +
         "\"><title>" + se.label + "</title></polyline>\n";
  }
  // Legend.
  s += "<g id=\"legend\">\n";
  double lx = left;
  for (const auto& se : all) {
    s += "<line x1=\"" + num(lx) + "\" y1=\"66\" x2=\"" + num(lx + 24) + "\" y2=\"66\" stroke=\"" + se.colour +
         "\" stroke-width=\"2\"" + (*se.dash ? std::string(" stroke-dasharray=\"") + se.dash + "\"" : std::string()) +
         "/>\n";
    s += "<text x=\"" + num(lx + 30) + "\" y=\"70\">" + se.label + "</text>\n";
    lx += 200;
  }
  s += "</g>\n</svg>\n";
  return s;
}

status write_svg_plot(const std::string& path, const std::string& title, const std::string& subtitle,
                      const std::vector<timeline_point>& points) {
  std::ofstream out(path, std::ios::trunc);
  if (!out) return error{errc::io_error, "cannot open " + path + " for writing"};
  out << svg_plot(title, subtitle, points);
  out.close();
  if (!out) return error{errc::io_error, "cannot write " + path};
  return {};
}

}  // namespace sealcast::bench
