#include <system_error>

#include "client/sealcast_client.hpp"
#include "client/state_file.hpp"

namespace sealcast::client {

result<crypto::identity> keygen(const std::filesystem::path& path, std::string_view passphrase,
                                const crypto::argon2_params& kdf) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec))
    return error{errc::exists, path.string() + " already exists; refusing to overwrite an identity"};
  auto id = crypto::identity::generate();
  if (auto s = crypto::save_keystore(path, id, passphrase, kdf); !s) return s.err();
  return id;
}

result<crypto::identity> load_identity(const std::filesystem::path& path, std::string_view passphrase) {
  auto id = crypto::load_keystore(path, passphrase);
  if (!id && id.err().code == errc::bad_passphrase)
    return error{errc::bad_passphrase, "cannot open identity " + path.string() + ": wrong passphrase (or the file was modified)"};
  return id;
}

status save_identity(const std::filesystem::path& path, const crypto::identity& id, std::string_view passphrase,
                     const crypto::argon2_params& kdf) {
  return crypto::save_keystore(path, id, passphrase, kdf);
}

result<crypto::identity> load_state_identity(const std::filesystem::path& path, std::string_view passphrase) {
  auto s = detail::read_state(path, passphrase);
  if (!s) return s.err();
  return std::move(s->first);
}

}  // namespace sealcast::client
