// Opening, closing, writing and meta. The typed reads live in store_reads.cpp and
// store_messages.cpp.
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "common/log.hpp"
#include "persistence/keys.hpp"
#include "persistence/store_impl.hpp"

namespace sealcast::persistence {

namespace fs = std::filesystem;

error to_error(const rocksdb::Status& s, std::string_view context) {
  errc code = errc::io_error;
  if (s.IsCorruption()) {
    code = errc::corruption;
  } else if (s.IsNotFound()) {
    code = errc::not_found;
  }
  return error{code, std::string(context) + ": " + s.ToString()};
}

bytes prefix_successor(byte_view prefix) {
  bytes out(prefix.begin(), prefix.end());
  while (!out.empty()) {
    if (out.back() != 0xff) {
      ++out.back();
      return out;
    }
    out.pop_back();
  }
  return out;
}

std::string describe_key(column_family cf, byte_view key) {
  return std::string(name_of(cf)) + " key " + to_hex(key);
}

namespace {

// Calls fn(entry) for each directory entry without throwing (range-for's increment throws).
template <class F>
std::error_code for_each_entry(const std::string& path, F fn) {
  std::error_code ec;
  for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) fn(*it);
  return ec;
}

// RocksDB creates a fresh, empty database when CURRENT is missing, even if the directory holds
// the files of an old one. That would silently serve an empty history, so refuse instead.
status check_current_present(const std::string& path) {
  std::error_code ec;
  if (fs::exists(fs::path(path) / "CURRENT", ec)) return {};
  std::string found;
  (void)for_each_entry(path, [&](const fs::directory_entry& entry) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("MANIFEST-") || name.ends_with(".sst") || name.ends_with(".log")) found = name;
  });
  if (found.empty()) return {};
  return error{errc::corruption, "cannot open database at '" + path + "': CURRENT is missing but " + found +
                                     " is present; refusing to start an empty database over it"};
}

// Families that a newer Sealcast added would otherwise make DB::Open fail with a terse message.
status check_known_families(const std::string& path, const rocksdb::DBOptions& options) {
  std::error_code ec;
  if (!fs::exists(fs::path(path) / "CURRENT", ec)) return {};  // a new database
  std::vector<std::string> names;
  auto s = rocksdb::DB::ListColumnFamilies(options, path, &names);
  if (!s.ok()) return to_error(s, "cannot open database at '" + path + "'");
  for (const auto& name : names) {
    if (std::find(column_family_names.begin(), column_family_names.end(), name) == column_family_names.end()) {
      return error{errc::bad_format, "cannot open database at '" + path + "': column family '" + name +
                                         "' is unknown to this version (written by a newer Sealcast?)"};
    }
  }
  return {};
}

// What an operator needs to know about a database of a version this build refuses.
std::string schema_change_note(std::uint64_t found) {
  if (found > schema_version) return " (written by a newer Sealcast?)";
  if (found >= oldest_upgradable_schema) return {};
  return ". Protocol v2 changed the stored manifests (epochs keep their signed changes instead of "
         "v1's member lists, and v1 clients cannot talk to this broker), so a v1 data directory must "
         "be started fresh (move it aside) or kept with a v1 build";
}

rocksdb::Options make_options(const store_options& o) {
  rocksdb::Options opts;
  opts.create_if_missing = o.create_if_missing;
  opts.create_missing_column_families = true;
  // A torn last WAL record (a crash mid-write, never acknowledged) is dropped; any other
  // corruption fails the open instead of serving a shorter history.
  opts.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  opts.paranoid_checks = true;
  const std::size_t buffer = std::size_t{std::max<std::uint32_t>(o.write_buffer_mb, 1)} << 20;
  // One budget for all memtables together, so more families do not multiply memory.
  opts.db_write_buffer_size = buffer;
  opts.write_buffer_size = buffer;
  // Bounds the WAL kept alive by a rarely written family: past this, its memtable is flushed.
  opts.max_total_wal_size = 4 * buffer;
  opts.keep_log_file_num = 10;
  opts.max_background_jobs = 2;
  return opts;
}

}  // namespace

result<std::unique_ptr<store>> store::open(const store_options& options) {
  const std::string& path = options.path;
  if (path.empty()) return error{errc::io_error, "storage path is empty"};
  std::error_code ec;
  if (options.create_if_missing) {
    fs::create_directories(path, ec);
    if (ec) return error{errc::io_error, "cannot create database directory '" + path + "': " + ec.message()};
  }
  if (auto s = check_current_present(path); !s) return s.err();
  const rocksdb::Options opts = make_options(options);
  if (auto s = check_known_families(path, opts); !s) return s.err();

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.reserve(column_family_names.size());
  for (auto name : column_family_names) {
    descriptors.emplace_back(std::string(name), rocksdb::ColumnFamilyOptions(opts));
  }
  auto p = std::make_unique<impl>();
  p->options = options;
  auto s = rocksdb::DB::Open(rocksdb::DBOptions(opts), path, descriptors, &p->handles, &p->db);
  if (!s.ok()) return to_error(s, "cannot open database at '" + path + "'");

  std::unique_ptr<store> st(new store(std::move(p)));
  // A new database has no version yet: it is stamped below, so a later, incompatible build can tell.
  auto version = st->get_meta_u64(meta_names::schema_version);
  if (!version && version.err().code != errc::not_found) {
    return error{version.err().code, "database at '" + path + "': " + version.err().message};
  }
  if (version && (*version < oldest_upgradable_schema || *version > schema_version)) {
    return error{errc::bad_format, "database at '" + path + "' has schema version " + std::to_string(*version) +
                                       ", this build reads version " + std::to_string(schema_version) +
                                       schema_change_note(*version)};
  }
  if (auto loaded = st->load_message_count(version ? *version : schema_version); !loaded) return loaded.err();
  return st;
}

status store::load_message_count(std::uint64_t found_version) {
  auto count = get_meta_u64(meta_names::message_count);
  if (count && found_version == schema_version) {
    std::lock_guard lock(impl_->count_mutex);
    impl_->message_count = *count;
    return {};
  }
  if (!count && count.err().code != errc::not_found) {
    return error{count.err().code, "database at '" + impl_->options.path + "': " + count.err().message};
  }
  // A new database, or one written before the count was kept (schema 2): count once, then
  // store the count and the new schema version in one write, so a crash in between only means
  // counting again at the next start.
  const auto started = std::chrono::steady_clock::now();
  auto n = scan_message_count();
  if (!n) return error{n.err().code, "database at '" + impl_->options.path + "': " + n.err().message};
  write_batch b;
  b.put_meta_u64(meta_names::message_count, *n);
  b.put_meta_u64(meta_names::schema_version, schema_version);
  if (auto w = write(b, true); !w) return w;
  {
    std::lock_guard lock(impl_->count_mutex);
    impl_->message_count = *n;
  }
  if (found_version < schema_version) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    log::info("storage", "upgraded the database: stored messages counted once, kept from now on",
              {{"path", impl_->options.path},
               {"from_schema", found_version},
               {"to_schema", schema_version},
               {"messages", *n},
               {"ms", ms.count()}});
  }
  return {};
}

store::store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

store::~store() = default;

status store::impl::check_open() const {
  if (db == nullptr) return error{errc::io_error, "database at '" + options.path + "' is closed"};
  return {};
}

status store::impl::close() {
  if (db == nullptr) return {};
  for (auto* h : handles) {
    // Destroying a handle only frees memory; its status cannot tell us anything useful.
    (void)db->DestroyColumnFamilyHandle(h);
  }
  handles.clear();
  auto s = db->Close();
  delete db;
  db = nullptr;
  if (!s.ok()) return to_error(s, "closing database at '" + options.path + "'");
  return {};
}

result<std::string> store::impl::get(column_family cf, byte_view key) const {
  if (auto s = check_open(); !s) return s.err();
  std::string value;
  auto s = db->Get(rocksdb::ReadOptions(), handle(cf), to_slice(key), &value);
  if (s.IsNotFound()) return error{errc::not_found, describe_key(cf, key) + " not found"};
  if (!s.ok()) return to_error(s, "reading " + describe_key(cf, key));
  return value;
}

namespace {

// The count after a delta. It cannot go below zero: a batch that deletes more messages than
// are stored broke the helpers' contract, and a huge unsigned count would be worse than zero.
std::uint64_t counted(std::uint64_t count, std::int64_t delta) {
  if (delta >= 0) return count + static_cast<std::uint64_t>(delta);
  const auto down = static_cast<std::uint64_t>(-(delta + 1)) + 1;  // |delta| without overflow
  return down > count ? 0 : count - down;
}

}  // namespace

status store::write(std::span<const write_batch> batches, bool sync) {
  if (auto s = impl_->check_open(); !s) return s;
  rocksdb::WriteBatch wb;
  std::int64_t delta = 0;
  for (const auto& batch : batches) {
    delta += batch.message_delta();
    for (const auto& op : batch.ops()) {
      auto* h = impl_->handle(op.family);
      rocksdb::Status s;
      switch (op.kind) {
        case op_kind::put: s = wb.Put(h, to_slice(op.key), to_slice(op.value)); break;
        case op_kind::del: s = wb.Delete(h, to_slice(op.key)); break;
        case op_kind::delete_range: s = wb.DeleteRange(h, to_slice(op.key), to_slice(op.value)); break;
      }
      if (!s.ok()) return to_error(s, "building a write batch");
    }
  }
  // One row for the whole write, from the deltas of all its batches: a row per batch would
  // have each one overwrite the others' count. Only writes that change it take the lock.
  std::unique_lock<std::mutex> counting;
  std::uint64_t new_count = 0;
  if (delta != 0) {
    counting = std::unique_lock(impl_->count_mutex);
    new_count = counted(impl_->message_count, delta);
    bytes v;
    put_u64be(v, new_count);
    const bytes key = keys::meta_key(meta_names::message_count);
    if (auto s = wb.Put(impl_->handle(column_family::meta), to_slice(key), to_slice(v)); !s.ok())
      return to_error(s, "building a write batch");
  }
  if (wb.Count() == 0) return {};
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  auto s = impl_->db->Write(wo, &wb);
  if (!s.ok()) return to_error(s, "writing to database at '" + impl_->options.path + "'");
  if (counting) impl_->message_count = new_count;
  impl_->n_writes.fetch_add(1, std::memory_order_relaxed);
  if (sync) impl_->n_syncs.fetch_add(1, std::memory_order_relaxed);
  impl_->n_batches.fetch_add(batches.size(), std::memory_order_relaxed);
  impl_->n_bytes.fetch_add(wb.GetDataSize(), std::memory_order_relaxed);
  return {};
}

status store::write(const write_batch& batch, bool sync) { return write(std::span<const write_batch>(&batch, 1), sync); }

status store::write(const write_batch& batch) { return write(batch, impl_->options.sync); }

store_stats store::stats() const noexcept {
  return store_stats{impl_->n_writes.load(std::memory_order_relaxed), impl_->n_syncs.load(std::memory_order_relaxed),
                     impl_->n_batches.load(std::memory_order_relaxed), impl_->n_bytes.load(std::memory_order_relaxed)};
}

const store_options& store::options() const noexcept { return impl_->options; }

status store::flush() {
  if (auto s = impl_->check_open(); !s) return s;
  auto s = impl_->db->FlushWAL(true);
  if (!s.ok()) return to_error(s, "syncing the WAL of '" + impl_->options.path + "'");
  s = impl_->db->Flush(rocksdb::FlushOptions(), impl_->handles);
  if (!s.ok()) return to_error(s, "flushing '" + impl_->options.path + "'");
  return {};
}

status store::close() { return impl_->close(); }

result<std::uint64_t> store::bytes_on_disk() const {
  std::uint64_t total = 0;
  const auto ec = for_each_entry(impl_->options.path, [&](const fs::directory_entry& entry) {
    std::error_code size_ec;
    // Files come and go under compaction; one that vanished mid-walk just does not count.
    if (entry.is_regular_file(size_ec)) {
      const auto size = entry.file_size(size_ec);
      if (!size_ec) total += size;
    }
  });
  if (ec) return error{errc::io_error, "listing '" + impl_->options.path + "': " + ec.message()};
  return total;
}

result<bytes> store::get_meta(std::string_view name) const {
  auto v = impl_->get(column_family::meta, keys::meta_key(name));
  if (!v) return std::move(v).err();
  return bytes(v->begin(), v->end());
}

result<std::uint64_t> store::get_meta_u64(std::string_view name) const {
  auto v = get_meta(name);
  if (!v) return std::move(v).err();
  if (v->size() != 8) {
    return error{errc::bad_format, "meta '" + std::string(name) + "' has " + std::to_string(v->size()) +
                                       " bytes, expected 8"};
  }
  return get_u64be(v->data());
}

status store::put_meta(std::string_view name, byte_view value) {
  write_batch b;
  b.put_meta(name, value);
  return write(b);
}

}  // namespace sealcast::persistence
