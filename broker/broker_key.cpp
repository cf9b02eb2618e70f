#include "broker/broker_key.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.hpp"
#include "crypto/secret.hpp"

namespace sealcast::broker {

namespace {

constexpr std::size_t key_blob_size = 64;  // Ed25519 seed || X25519 scalar
constexpr const char* key_file = "broker.key";

error io_error(const std::filesystem::path& p, std::string_view what) {
  return {errc::io_error, p.string() + ": " + std::string(what) + ": " + std::strerror(errno)};
}

status write_all(int fd, const std::uint8_t* p, std::size_t n) {
  while (n > 0) {
    auto w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return error{errc::io_error, std::strerror(errno)};
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return {};
}

}  // namespace

result<crypto::identity> load_or_create_broker_key(const std::filesystem::path& data_dir) {
  const auto path = data_dir / key_file;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    crypto::secure_bytes secret(key_blob_size + 1);
    std::size_t got = 0;
    for (;;) {
      auto r = ::read(fd, secret.data() + got, secret.size() - got);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      got += static_cast<std::size_t>(r);
      if (got == secret.size()) break;
    }
    ::close(fd);
    if (got != key_blob_size)
      return error{errc::bad_format, path.string() + ": a broker key is 64 bytes, found " + std::to_string(got)};
    return crypto::identity::from_secrets(byte_view(secret.data(), 32), byte_view(secret.data() + 32, 32));
  }
  if (errno != ENOENT) return io_error(path, "cannot open");

  auto id = crypto::identity::generate();
  crypto::secure_bytes secret;
  secret.reserve(key_blob_size);
  secret.insert(secret.end(), id.sign_sk().view().begin(), id.sign_sk().view().end());
  secret.insert(secret.end(), id.kx_sk().view().begin(), id.kx_sk().view().end());
  const auto tmp = data_dir / (std::string(key_file) + ".tmp");
  fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return io_error(tmp, "cannot create");
  auto st = write_all(fd, secret.data(), secret.size());
  if (st && ::fsync(fd) != 0) st = error{errc::io_error, std::strerror(errno)};
  ::close(fd);
  if (!st) return error{errc::io_error, tmp.string() + ": " + st.err().message};
  if (::rename(tmp.c_str(), path.c_str()) != 0) return io_error(path, "cannot rename into place");
  if (int dfd = ::open(data_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  log::info("sealcastd", "generated a new broker key", {{"broker", id.user_id().hex()}, {"file", path.string()}});
  return id;
}

}  // namespace sealcast::broker
