#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string_view>

#include "common/bytes.hpp"
#include "common/error.hpp"
#include "crypto/identity.hpp"
#include "crypto/secret.hpp"

namespace sealcast::crypto {

// Passphrase-sealed files (a client's keystore, and later its state file):
//   "SCKS" || version(1) || u32be memory_kib || u32be iterations || u32be parallelism ||
//   salt(16) || nonce(12) || AES-256-GCM(key = Argon2id(passphrase, salt), payload) || tag(16)
// with everything before the ciphertext as the AEAD's associated data, so no header field can be
// changed (to weaken the Argon2 cost, say) without the file failing to open.

/// Argon2id cost parameters. The defaults are for real keystores; tests use small ones.
struct argon2_params {
  std::uint32_t memory_kib = 64 * 1024;
  std::uint32_t iterations = 3;
  std::uint32_t parallelism = 1;

  /// bad_request outside 1..64 lanes, 1..1000 passes, 8 * lanes KiB..1 GiB of memory. Files
  /// asking for more are refused rather than allowed to exhaust memory.
  [[nodiscard]] status validate() const;
};

/// Size of the header of a sealed file.
inline constexpr std::size_t passphrase_header_size = 4 + 1 + 12 + 16 + 12;

/// Encrypts payload under a passphrase into the file format above.
[[nodiscard]] result<bytes> seal_with_passphrase(byte_view payload, std::string_view passphrase,
                                                 const argon2_params& params = {});

/// Decrypts a sealed file: bad_format for truncated or foreign input or out-of-range
/// parameters, bad_passphrase when it does not open (a wrong passphrase, or a modified file:
/// the two are indistinguishable by design).
[[nodiscard]] result<secure_bytes> open_with_passphrase(byte_view file,
                                                        std::string_view passphrase);

/// A keystore: the payload is the identity's Ed25519 seed(32) || X25519 scalar(32).
[[nodiscard]] result<bytes> encode_keystore(const identity& id, std::string_view passphrase,
                                            const argon2_params& params = {});

/// Opens a keystore; errors as open_with_passphrase, bad_format for a payload that is not a key
/// pair.
[[nodiscard]] result<identity> decode_keystore(byte_view file, std::string_view passphrase);

/// Writes a sealed payload to path atomically (temporary file, fsync, rename) with mode 0600.
[[nodiscard]] status save_with_passphrase(const std::filesystem::path& path, byte_view payload,
                                          std::string_view passphrase,
                                          const argon2_params& params = {});

/// Reads and opens a file written by save_with_passphrase; io_error when it cannot be read.
[[nodiscard]] result<secure_bytes> load_with_passphrase(const std::filesystem::path& path,
                                                        std::string_view passphrase);

/// save_with_passphrase for a keystore.
[[nodiscard]] status save_keystore(const std::filesystem::path& path, const identity& id,
                                   std::string_view passphrase, const argon2_params& params = {});

/// load_with_passphrase for a keystore.
[[nodiscard]] result<identity> load_keystore(const std::filesystem::path& path,
                                             std::string_view passphrase);

}  // namespace sealcast::crypto
