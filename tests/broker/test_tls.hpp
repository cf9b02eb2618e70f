#pragma once

// A throwaway self-signed certificate made at test time in a unique temporary directory (no key
// material in the source tree).

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace sealcast::test {

/// A unique temporary directory holding cert.pem and key.pem; removed on destruction.
class throwaway_cert {
 public:
  throwaway_cert() {
    std::string pattern = (std::filesystem::temp_directory_path() / "sealcast-tls-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) return;
    dir_ = pattern;
    const std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
                            "-subj /CN=localhost -keyout '" + key() + "' -out '" + cert() + "' >/dev/null 2>&1";
    ok_ = std::system(cmd.c_str()) == 0 && std::filesystem::exists(cert()) && std::filesystem::exists(key());
  }
  ~throwaway_cert() {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  throwaway_cert(const throwaway_cert&) = delete;
  throwaway_cert& operator=(const throwaway_cert&) = delete;

  /// True when openssl produced both files.
  [[nodiscard]] bool ok() const { return ok_; }
  [[nodiscard]] std::string cert() const { return (dir_ / "cert.pem").string(); }
  [[nodiscard]] std::string key() const { return (dir_ / "key.pem").string(); }

 private:
  std::filesystem::path dir_;
  bool ok_ = false;
};

}  // namespace sealcast::test
