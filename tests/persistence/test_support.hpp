#pragma once
// Temporary directories and result helpers shared by the persistence tests.

#include <stdlib.h>

#include <catch2/catch_test_macros.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "persistence/store.hpp"
#include "sample_records.hpp"

namespace sealcast::persistence::test {

/// A fresh directory under the system temp path, removed with everything in it at scope end.
class temp_dir {
 public:
  temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sealcast-persist-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  /// The database directory inside (so a test can also see "not created yet").
  [[nodiscard]] std::string db() const { return (path_ / "db").string(); }

 private:
  std::filesystem::path path_;
};

/// The error code of a failed result or status, nullopt on success: CHECK(code_of(r) == errc::x)
/// then fails cleanly instead of asserting inside err().
template <class R>
std::optional<errc> code_of(const R& r) {
  if (r.ok()) return std::nullopt;
  return r.err().code;
}

/// The value of a result, failing the test (not asserting) when it holds an error.
template <class T>
T must(result<T> r) {
  if (!r.ok()) FAIL(r.err().message);
  return std::move(r).value();
}

/// Opens a store at `path` (asserting success is the caller's job: this returns the result).
inline result<std::unique_ptr<store>> open_at(const std::string& path, bool sync = false) {
  store_options o;
  o.path = path;
  o.sync = sync;
  o.write_buffer_mb = 4;
  return store::open(o);
}

}  // namespace sealcast::persistence::test
