// Did-you-mean: the nearest known name to a misspelt one.
#include <algorithm>
#include <vector>

#include "config/schema.hpp"

namespace sealcast {

std::string_view closest_match(std::string_view word,
                               std::span<const std::string_view> candidates) {
  // Optimal-string-alignment distance: a transposed pair counts as one edit.
  auto distance = [](std::string_view a, std::string_view b) {
    std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
    for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
      for (std::size_t j = 1; j <= b.size(); ++j) {
        std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
        d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
          d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
      }
    }
    return d[a.size()][b.size()];
  };
  // Close enough: a third of the word (at least one edit) and under half of it, or one name
  // a prefix of the other ("warning" for "warn").
  std::size_t limit = std::max<std::size_t>(1, word.size() / 3);
  std::string_view best;
  std::size_t best_distance = std::string_view::npos;
  for (auto candidate : candidates) {
    auto dist = distance(word, candidate);
    auto shorter = std::min(word.size(), candidate.size());
    bool prefix = shorter >= 3 && (word.starts_with(candidate) || candidate.starts_with(word));
    bool close = dist <= limit && 2 * dist < word.size();
    if ((close || prefix) && dist < best_distance) {
      best = candidate;
      best_distance = dist;
    }
  }
  return best;
}

}  // namespace sealcast
