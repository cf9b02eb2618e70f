#include "crypto/keystore.hpp"

#include <botan/argon2.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/detail/aead_raw.hpp"
#include "crypto/random.hpp"

namespace sealcast::crypto {
namespace {

constexpr std::array<std::uint8_t, 4> magic = {'S', 'C', 'K', 'S'};
constexpr std::uint8_t format_version = 1;
constexpr std::size_t salt_size = 16;
constexpr std::size_t nonce_size_gcm = 12;
constexpr std::size_t tag_size = 16;
constexpr std::uint8_t argon2id = 2;
// Largest file load_with_passphrase reads: far above any keystore or client state file.
constexpr std::uintmax_t max_file_size = std::uintmax_t{256} * 1024 * 1024;

using file_key = fixed_secret<32, struct file_key_tag>;

result<file_key> derive_key(std::string_view passphrase, byte_view salt, const argon2_params& p) {
  try {
    file_key key;
    Botan::argon2(key.data(), key.size(), passphrase.data(), passphrase.size(), salt.data(),
                  salt.size(), nullptr, 0, nullptr, 0, argon2id, p.parallelism, p.memory_kib,
                  p.iterations);
    return key;
  } catch (const std::exception& e) {
    return error{errc::internal, std::string("argon2: ") + e.what()};
  }
}

std::string errno_text(const std::string& what, const std::filesystem::path& path) {
  return what + " " + path.string() + ": " + std::strerror(errno);
}

// Owns a file descriptor so every error path closes it.
struct fd_guard {
  int fd = -1;
  explicit fd_guard(int f) noexcept : fd(f) {}
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  ~fd_guard() {
    if (fd >= 0) {
      ::close(fd);
    }
  }
};

// Temporary file beside the target, fsync, rename, fsync of the directory: the file is either
// the old one or the complete new one after a crash, never a torn mix.
status write_file_atomic(const std::filesystem::path& path, byte_view data) {
  std::string tmpl = path.string() + ".tmp-XXXXXX";
  fd_guard f(::mkstemp(tmpl.data()));  // mkstemp creates the file with mode 0600
  if (f.fd < 0) {
    return error{errc::io_error, errno_text("cannot create temporary file for", path)};
  }
  auto fail = [&](const std::string& what) {
    error e{errc::io_error, errno_text(what, path)};
    ::unlink(tmpl.c_str());
    return e;
  };
  if (::fchmod(f.fd, S_IRUSR | S_IWUSR) != 0) {
    return fail("cannot set mode of");
  }
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(f.fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return fail("cannot write");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(f.fd) != 0) {
    return fail("cannot sync");
  }
  if (::rename(tmpl.c_str(), path.c_str()) != 0) {
    return fail("cannot rename onto");
  }
  const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  fd_guard d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d.fd >= 0) {
    ::fsync(d.fd);  // best effort: some file systems refuse fsync on directories
  }
  return {};
}

result<bytes> read_file(const std::filesystem::path& path) {
  fd_guard f(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (f.fd < 0) {
    return error{errc::io_error, errno_text("cannot open", path)};
  }
  bytes out;
  std::array<std::uint8_t, 16384> buf{};
  for (;;) {
    const ssize_t n = ::read(f.fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return error{errc::io_error, errno_text("cannot read", path)};
    }
    if (n == 0) {
      return out;
    }
    if (out.size() + static_cast<std::size_t>(n) > max_file_size) {
      return error{errc::bad_format, path.string() + " is too large to be a sealed file"};
    }
    out.insert(out.end(), buf.begin(), buf.begin() + n);
  }
}

}  // namespace

status argon2_params::validate() const {
  if (parallelism < 1 || parallelism > 64) {
    return error{errc::bad_request, "argon2 parallelism must be 1..64"};
  }
  if (iterations < 1 || iterations > 1000) {
    return error{errc::bad_request, "argon2 iterations must be 1..1000"};
  }
  if (memory_kib < 8 * parallelism || memory_kib > 1024U * 1024U) {
    return error{errc::bad_request, "argon2 memory must be 8 KiB per lane..1 GiB"};
  }
  return {};
}

result<bytes> seal_with_passphrase(byte_view payload, std::string_view passphrase,
                                   const argon2_params& params) {
  if (auto s = params.validate(); !s) {
    return s.err();
  }
  bytes out;
  out.reserve(passphrase_header_size + payload.size() + tag_size);
  append(out, magic);
  out.push_back(format_version);
  put_u32be(out, params.memory_kib);
  put_u32be(out, params.iterations);
  put_u32be(out, params.parallelism);
  const bytes salt = random_bytes(salt_size);
  const bytes nonce = random_bytes(nonce_size_gcm);
  append(out, salt);
  append(out, nonce);

  auto key = derive_key(passphrase, salt, params);
  if (!key) {
    return std::move(key).err();
  }
  try {
    const bytes header = out;
    append(out,
           detail::aead_seal(detail::cipher::aes_256_gcm, key->view(), nonce, header, payload));
  } catch (const std::exception& e) {
    return error{errc::internal, e.what()};
  }
  return out;
}

result<secure_bytes> open_with_passphrase(byte_view file, std::string_view passphrase) {
  if (file.size() < passphrase_header_size + tag_size) {
    return error{errc::bad_format, "sealed file is truncated"};
  }
  if (!std::equal(magic.begin(), magic.end(), file.begin())) {
    return error{errc::bad_format, "not a Sealcast sealed file"};
  }
  if (file[4] != format_version) {
    return error{errc::bad_format, "unsupported sealed file version " + std::to_string(file[4])};
  }
  const argon2_params params{get_u32be(file.data() + 5), get_u32be(file.data() + 9),
                             get_u32be(file.data() + 13)};
  if (auto s = params.validate(); !s) {
    return error{errc::bad_format, "sealed file has unusable parameters: " + s.err().message};
  }
  const byte_view header = file.first(passphrase_header_size);
  const byte_view salt = file.subspan(17, salt_size);
  const byte_view nonce = file.subspan(17 + salt_size, nonce_size_gcm);

  auto key = derive_key(passphrase, salt, params);
  if (!key) {
    return std::move(key).err();
  }
  try {
    auto pt = detail::aead_open(detail::cipher::aes_256_gcm, key->view(), nonce, header,
                                file.subspan(passphrase_header_size));
    if (!pt) {
      return error{errc::bad_passphrase, "wrong passphrase or damaged file"};
    }
    return pt;
  } catch (const std::exception& e) {
    return error{errc::internal, e.what()};
  }
}

result<bytes> encode_keystore(const identity& id, std::string_view passphrase,
                              const argon2_params& params) {
  secure_bytes secrets;
  secrets.reserve(64);
  secrets.insert(secrets.end(), id.sign_sk().data(), id.sign_sk().data() + id.sign_sk().size());
  secrets.insert(secrets.end(), id.kx_sk().data(), id.kx_sk().data() + id.kx_sk().size());
  return seal_with_passphrase(secrets, passphrase, params);
}

result<identity> decode_keystore(byte_view file, std::string_view passphrase) {
  auto secrets = open_with_passphrase(file, passphrase);
  if (!secrets) {
    return std::move(secrets).err();
  }
  if (secrets->size() != 64) {
    return error{errc::bad_format, "sealed file does not hold a key pair"};
  }
  const byte_view s = *secrets;
  return identity::from_secrets(s.first(32), s.subspan(32));
}

status save_with_passphrase(const std::filesystem::path& path, byte_view payload,
                            std::string_view passphrase, const argon2_params& params) {
  auto file = seal_with_passphrase(payload, passphrase, params);
  if (!file) {
    return std::move(file).err();
  }
  return write_file_atomic(path, *file);
}

result<secure_bytes> load_with_passphrase(const std::filesystem::path& path,
                                          std::string_view passphrase) {
  auto file = read_file(path);
  if (!file) {
    return std::move(file).err();
  }
  return open_with_passphrase(*file, passphrase);
}

status save_keystore(const std::filesystem::path& path, const identity& id,
                     std::string_view passphrase, const argon2_params& params) {
  auto file = encode_keystore(id, passphrase, params);
  if (!file) {
    return std::move(file).err();
  }
  return write_file_atomic(path, *file);
}

result<identity> load_keystore(const std::filesystem::path& path, std::string_view passphrase) {
  auto file = read_file(path);
  if (!file) {
    return std::move(file).err();
  }
  return decode_keystore(*file, passphrase);
}

}  // namespace sealcast::crypto
