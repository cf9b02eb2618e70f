#include "actors/storage_writer.hpp"

#include <vector>

#include "common/log.hpp"

namespace sealcast::actors {

storage_writer::storage_writer(persistence::store& store, bool sync)
    : store_(store), sync_(sync), thread_([this] { run(); }) {}

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
    for (auto& it : taken) {
      if (it.stage) it.batch = it.stage(store_);
      batches.push_back(std::move(it.batch));
    }
    status st = store_.write(batches, sync_);
    if (!st) log::error("storage", "commit failed", {{"batches", taken.size()}, {"error", st.err().message}});
    {
      std::lock_guard lock(mutex_);
      counters_.batches += taken.size();
      counters_.writes += 1;
      if (taken.size() > counters_.max_batches_per_write) counters_.max_batches_per_write = taken.size();
    }
    for (auto& it : taken)
      if (it.done) it.done(st);
    taken.clear();
  }
}

}  // namespace sealcast::actors
