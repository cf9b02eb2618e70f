#pragma once

// Route table of the admin HTTP server: (method, path pattern) -> handler. Patterns are split on
// '/'; a segment `{name}` matches any one non-empty segment and is returned as a parameter.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/http_server.hpp"

namespace sealcast::broker::detail {

/// The outcome of a lookup: a route, or why there is none.
struct route_match {
  const http_handler* handler = nullptr;   ///< null when nothing matched
  bool needs_token = true;                 ///< the matched route's (or, for 404/405, true)
  bool any_host = false;                   ///< the matched route is a probe: no Host check
  bool path_known = false;                 ///< some route has this path (so 405, not 404)
  std::string allow;                       ///< methods of that path, "GET, POST", for 405
  std::map<std::string, std::string, std::less<>> params;
};

/// An ordered list of routes; the first match wins. Filled before the server starts.
class http_router {
 public:
  /// Adds a route; `pattern` starts with '/'.
  void add(std::string method, std::string_view pattern, http_handler handler, bool needs_token,
           bool any_host = false);
  /// Matches decoded path segments ("/a/b" -> {"a","b"}; "/" -> {}).
  [[nodiscard]] route_match find(std::string_view method, const std::vector<std::string>& segments) const;

  /// Splits a pattern or decoded path the same way Boost.URL segments do.
  [[nodiscard]] static std::vector<std::string> split(std::string_view path);

 private:
  struct route {
    std::string method;
    std::vector<std::string> segments;
    http_handler handler;
    bool needs_token = true;
    bool any_host = false;
  };
  std::vector<route> routes_;
};

}  // namespace sealcast::broker::detail
