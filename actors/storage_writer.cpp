#include "actors/storage_writer.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <vector>

#include "common/log.hpp"
#include "persistence/column_family.hpp"

namespace sealcast::actors {

// -- the test hook ----------------------------------------------------------------------------

result<write_fault> write_fault::parse(std::string_view spec) {
  write_fault f;
  std::string_view kind = spec;
  if (const auto comma = spec.find(','); comma != std::string_view::npos) {
    kind = spec.substr(0, comma);
    const auto n = spec.substr(comma + 1);
    std::uint64_t count = 0;
    const auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), count);
    if (ec != std::errc{} || end != n.data() + n.size() || count == 0)
      return error{errc::bad_request, "count '" + std::string(n) + "' is not a positive integer"};
    f.count = count;
  }
  if (kind == "all") return f;
  for (std::size_t i = 1; i < persistence::column_family_count; ++i) {
    const auto name = persistence::column_family_names[i];
    // "epochs" or "epoch", "members" or "member", ...
    if (kind == name || (name.ends_with('s') && kind == name.substr(0, name.size() - 1))) {
      f.family = static_cast<persistence::column_family>(i);
      return f;
    }
  }
  return error{errc::bad_request, "unknown kind '" + std::string(kind) + "' (all, or a column family such as epochs, "
                                  "members, messages, groups)"};
}

std::optional<write_fault> write_fault::from_environment() {
  const char* spec = std::getenv(variable);
  if (spec == nullptr || *spec == '\0') return std::nullopt;
  auto f = parse(spec);
  if (!f) {
    log::error("storage", "ignoring the test hook: malformed value", {{"variable", variable}, {"value", spec},
                                                                      {"error", f.err().message}});
    return std::nullopt;
  }
  log::warn("storage", "TEST HOOK ACTIVE: matching writes will fail; never use this in production",
            {{"variable", variable}, {"kind", f->kind()},
             {"count", f->count == std::numeric_limits<std::uint64_t>::max() ? std::string("all")
                                                                           : std::to_string(f->count)}});
  return *f;
}

bool write_fault::matches(const persistence::write_batch& batch) const {
  if (!family) return true;
  // Puts only: the cleanups' deletions must not use up a count meant for a change.
  return std::any_of(batch.ops().begin(), batch.ops().end(), [this](const persistence::batch_op& op) {
    return op.family == *family && op.kind == persistence::op_kind::put;
  });
}

std::string write_fault::kind() const { return family ? std::string(persistence::name_of(*family)) : "all"; }

// -- the writer -------------------------------------------------------------------------------

storage_writer::storage_writer(persistence::store& store, bool sync)
    : storage_writer(store, sync, write_fault::from_environment()) {}

storage_writer::storage_writer(persistence::store& store, bool sync, std::optional<write_fault> fault)
    : store_(store), sync_(sync), fault_(std::move(fault)), thread_([this] { run(); }) {}

storage_writer::~storage_writer() { stop(); }

void storage_writer::submit(persistence::write_batch batch, completion done) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      queue_.push_back(item{std::move(batch), std::move(done), nullptr});
      wake_.notify_one();
      return;
    }
  }
  if (done) done(status{errc::io_error, "the storage writer is stopped"});
}

void storage_writer::submit_staged(stage_fn stage, completion done) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      queue_.push_back(item{{}, std::move(done), std::move(stage)});
      wake_.notify_one();
      return;
    }
  }
  if (done) done(status{errc::io_error, "the storage writer is stopped"});
}

void storage_writer::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    wake_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

storage_writer::counters storage_writer::stats() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

void storage_writer::run() {
  std::vector<item> taken;
  std::vector<persistence::write_batch> batches;
  std::vector<bool> refused;  // by index in `taken`: failed by the test hook
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) return;
      taken.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
      queue_.clear();
    }
    batches.clear();
    batches.reserve(taken.size());
    refused.assign(taken.size(), false);
    for (std::size_t i = 0; i < taken.size(); ++i) {
      auto& it = taken[i];
      if (it.stage) it.batch = it.stage(store_);
      if (fault_ && fault_->count > 0 && !it.batch.empty() && fault_->matches(it.batch)) {
        --fault_->count;
        refused[i] = true;
        log::warn("storage", "TEST HOOK: failing a write batch", {{"variable", write_fault::variable},
                                                                  {"kind", fault_->kind()}, {"ops", it.batch.size()}});
        continue;
      }
      batches.push_back(std::move(it.batch));
    }
    status st;
    if (!batches.empty()) st = store_.write(batches, sync_);
    if (!st) log::error("storage", "commit failed", {{"batches", taken.size()}, {"error", st.err().message}});
    {
      std::lock_guard lock(mutex_);
      counters_.batches += taken.size();
      counters_.writes += 1;
      if (taken.size() > counters_.max_batches_per_write) counters_.max_batches_per_write = taken.size();
    }
    const status injected{errc::io_error, std::string("write refused by the test hook ") + write_fault::variable};
    for (std::size_t i = 0; i < taken.size(); ++i)
      if (taken[i].done) taken[i].done(refused[i] ? injected : st);
    taken.clear();
  }
}

}  // namespace sealcast::actors
