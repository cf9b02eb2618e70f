#include "tests/support/temp_dir.hpp"

#include <stdlib.h>

#include <stdexcept>
#include <string>

namespace sealcast::test {

temp_dir::temp_dir() {
  std::string templ = (std::filesystem::temp_directory_path() / "sealcast-test-XXXXXX").string();
  if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = templ;
}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace sealcast::test
