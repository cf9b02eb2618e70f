#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace sealcast::test {

/// A unique directory under the system temp dir, removed on destruction; holds test config files.
class config_dir {
 public:
  config_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sealcast-config-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~config_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  config_dir(const config_dir&) = delete;
  config_dir& operator=(const config_dir&) = delete;

  /// Writes `text` to `name` in the directory and returns the file's path.
  std::string write(std::string_view name, std::string_view text) const {
    auto file = (path_ / name).string();
    std::ofstream out{file, std::ios::binary};
    out << text;
    return file;
  }

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace sealcast::test
