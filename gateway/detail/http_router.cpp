#include "gateway/detail/http_router.hpp"

namespace sealcast::broker::detail {
namespace {

bool is_param(std::string_view segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

bool matches(const std::vector<std::string>& pattern, const std::vector<std::string>& path,
             std::map<std::string, std::string, std::less<>>* params) {
  if (pattern.size() != path.size()) return false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (is_param(pattern[i])) {
      if (path[i].empty()) return false;
      if (params) params->emplace(pattern[i].substr(1, pattern[i].size() - 2), path[i]);
    } else if (pattern[i] != path[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::vector<std::string> http_router::split(std::string_view path) {
  std::vector<std::string> out;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (path.empty()) return out;
  for (;;) {
    const auto slash = path.find('/');
    out.emplace_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

void http_router::add(std::string method, std::string_view pattern, http_handler handler, bool needs_token,
                      bool any_host) {
  routes_.push_back(route{std::move(method), split(pattern), std::move(handler), needs_token, any_host});
}

route_match http_router::find(std::string_view method, const std::vector<std::string>& segments) const {
  route_match m;
  for (const auto& r : routes_) {
    if (!matches(r.segments, segments, nullptr)) continue;
    m.path_known = true;
    if (r.method == method) {
      matches(r.segments, segments, &m.params);
      m.handler = &r.handler;
      m.needs_token = r.needs_token;
      m.any_host = r.any_host;
      m.allow.clear();
      return m;
    }
    if (m.allow.find(r.method) == std::string::npos) {
      if (!m.allow.empty()) m.allow += ", ";
      m.allow += r.method;
    }
  }
  return m;
}

}  // namespace sealcast::broker::detail
