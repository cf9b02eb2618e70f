#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace sealcast {

/// Error codes shared by every layer. The first group is the wire protocol's (PROTOCOL.md
/// section 4) and is spelled on the wire by to_string(); the rest are internal and map to
/// `internal` or `bad_request` at the protocol edge.
enum class errc {
  bad_request,
  unknown_type,
  auth_failed,
  not_found,
  not_member,
  forbidden,
  exists,
  group_full,
  unknown_user,
  stale_epoch,
  rekey_pending,
  bad_signature,
  bad_rekey,
  too_large,
  rate_limited,
  internal,
  // Internal-only codes.
  bad_length,      ///< an input of the wrong size (key, nonce, id)
  bad_encoding,    ///< hex or base64 that does not decode
  decrypt_failed,  ///< AEAD tag or HPKE open failure
  bad_key,         ///< a public key that is refused (low order, malformed)
  key_mismatch,    ///< a key whose key_id does not match
  bad_passphrase,  ///< keystore could not be opened with the passphrase
  bad_format,      ///< a file or record that does not parse
  io_error,        ///< file system or database failure
  corruption,      ///< the database reports corruption
  config_error,    ///< configuration that does not validate
  replay,          ///< a ratchet index or direct already seen (protocol v2 section 7.3)
  conflict,        ///< a compare-and-set lost: another writer got there first (cluster lease, log)
  unavailable,     ///< the cluster did not answer in time or has no leader: retry later
};

/// The wire or log spelling of an error code.
[[nodiscard]] std::string_view to_string(errc code) noexcept;

/// An error value: a code and a human-readable message.
struct error {
  errc code = errc::internal;
  std::string message;

  friend bool operator==(const error&, const error&) = default;
};

/// Either a value or an error. Errors are values in Sealcast: libraries never throw across
/// their public interface.
template <class T>
class [[nodiscard]] result {
 public:
  result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  result(error err) : v_(std::in_place_index<1>, std::move(err)) {}  // NOLINT: implicit by design
  result(errc code, std::string message) : v_(std::in_place_index<1>, error{code, std::move(message)}) {}

  [[nodiscard]] bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  [[nodiscard]] T& value() & { assert(ok()); return std::get<0>(v_); }
  [[nodiscard]] const T& value() const& { assert(ok()); return std::get<0>(v_); }
  [[nodiscard]] T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  [[nodiscard]] const error& err() const& { assert(!ok()); return std::get<1>(v_); }
  [[nodiscard]] error&& err() && { assert(!ok()); return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, error> v_;
};

/// Success or an error, for operations without a value.
class [[nodiscard]] status {
 public:
  status() = default;
  status(error err) : err_(std::move(err)), ok_(false) {}  // NOLINT: implicit by design
  status(errc code, std::string message) : err_{code, std::move(message)}, ok_(false) {}

  [[nodiscard]] bool ok() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  [[nodiscard]] const error& err() const { assert(!ok_); return err_; }

 private:
  error err_;
  bool ok_ = true;
};

}  // namespace sealcast
