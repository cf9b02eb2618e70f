#pragma once

// A walk over the stored groups in bounded pages, for the actors that sweep them (the reaper,
// the key-rotation scheduler): one page per step, so other messages run between steps.

#include <optional>
#include <string_view>
#include <vector>

#include "common/log.hpp"
#include "persistence/records.hpp"
#include "persistence/store.hpp"

namespace sealcast::actors {

class group_sweep {
 public:
  static constexpr std::size_t page_size = 256;

  /// Whether a sweep is under way (started and not past its last page).
  [[nodiscard]] bool running() const noexcept { return after_.has_value(); }
  /// Starts a sweep from the first group; one already running carries on.
  void start() {
    if (!after_) after_.emplace();
  }
  /// The next page of groups; the sweep ends after a short page, an empty one or a read error
  /// (logged under `component`), after which running() is false.
  [[nodiscard]] std::vector<persistence::group_record> next(const persistence::store& store,
                                                            std::string_view component) {
    if (!after_) return {};
    auto page = store.scan_groups(*after_, page_size);
    if (!page) {
      log::warn(component, "could not read the groups", {{"error", page.err().message}});
      after_.reset();
      return {};
    }
    if (page->size() < page_size)
      after_.reset();
    else
      *after_ = page->back().id;
    return std::move(*page);
  }

 private:
  std::optional<std::optional<id16>> after_;  ///< where the sweep goes on; an empty id: from the start
};

}  // namespace sealcast::actors
