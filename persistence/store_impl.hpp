#pragma once
// Private to sealcast_persistence: the only header that includes RocksDB.

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/status.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "persistence/codec.hpp"
#include "persistence/column_family.hpp"
#include "persistence/store.hpp"

namespace sealcast::persistence {

[[nodiscard]] inline rocksdb::Slice to_slice(byte_view v) noexcept {
  // An empty span may have a null data pointer, which RocksDB passes on to memcmp.
  if (v.empty()) return {};
  return {reinterpret_cast<const char*>(v.data()), v.size()};
}

[[nodiscard]] inline byte_view to_view(const rocksdb::Slice& s) noexcept {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

/// Turns a RocksDB status into our error value; `context` says what was being done.
[[nodiscard]] error to_error(const rocksdb::Status& s, std::string_view context);

/// The smallest key greater than every key starting with `prefix`; empty when there is none
/// (a prefix of only 0xff bytes).
[[nodiscard]] bytes prefix_successor(byte_view prefix);

/// Renders a key for error messages.
[[nodiscard]] std::string describe_key(column_family cf, byte_view key);

struct store::impl {
  store_options options;
  rocksdb::DB* db = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  // indexed by column_family
  std::atomic<std::uint64_t> n_writes{0};
  std::atomic<std::uint64_t> n_syncs{0};
  std::atomic<std::uint64_t> n_batches{0};
  std::atomic<std::uint64_t> n_bytes{0};  // not "bytes": that would hide the type
  /// Held from reading message_count until the write that stores its new value returns, so
  /// that two writes that both change it cannot both start from the same value.
  std::mutex count_mutex;
  /// The stored messages as the meta row holds them (guarded by count_mutex).
  std::uint64_t message_count = 0;

  impl() = default;
  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;
  ~impl() { (void)close(); }

  [[nodiscard]] status close();
  [[nodiscard]] status check_open() const;
  [[nodiscard]] rocksdb::ColumnFamilyHandle* handle(column_family cf) const { return handles[index_of(cf)]; }

  /// One value; errc::not_found when the key is absent.
  [[nodiscard]] result<std::string> get(column_family cf, byte_view key) const;

  /// Decodes the rows of `cf` whose keys start with `prefix`, from the first key >= `start`, in
  /// key order, keeping at most `limit` of them. `decode(key, value)` answers a record, nullopt
  /// to skip the row, or an error that ends the scan.
  /// `end`, when given, is an exclusive upper bound inside the prefix.
  template <class T, class Decode>
  [[nodiscard]] result<std::vector<T>> collect(column_family cf, byte_view prefix, byte_view start,
                                               std::size_t limit, Decode decode,
                                               std::optional<bytes> end = std::nullopt) const {
    if (auto s = check_open(); !s) return s.err();
    std::vector<T> out;
    if (limit == 0) return out;
    rocksdb::ReadOptions ro;
    // The bound lets RocksDB stop at the end of the range instead of reading the next owner's rows.
    const bytes upper = end ? std::move(*end) : prefix_successor(prefix);
    const rocksdb::Slice upper_slice = to_slice(upper);
    if (!upper.empty()) ro.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, handle(cf)));
    for (it->Seek(to_slice(start)); it->Valid(); it->Next()) {
      const byte_view key = to_view(it->key());
      if (!it->key().starts_with(to_slice(prefix))) break;
      result<std::optional<T>> row = decode(key, to_view(it->value()));
      if (!row) return std::move(row).err();
      if (!row->has_value()) continue;
      out.push_back(std::move(**row));
      if (out.size() >= limit) break;
    }
    if (!it->status().ok()) return to_error(it->status(), "scanning " + std::string(name_of(cf)));
    return out;
  }
};

/// Decodes one stored value into a record whose key fields the caller has set, adding the key
/// to the error so a bad row can be found.
template <class Record>
[[nodiscard]] result<Record> decode_row(column_family cf, byte_view key, byte_view value, Record r) {
  if (auto s = codec::decode(value, r); !s) {
    return error{s.err().code, s.err().message + " at " + describe_key(cf, key)};
  }
  return r;
}

}  // namespace sealcast::persistence
