#include "common/error.hpp"

namespace sealcast {

std::string_view to_string(errc code) noexcept {
  switch (code) {
    case errc::bad_request: return "bad_request";
    case errc::unknown_type: return "unknown_type";
    case errc::auth_failed: return "auth_failed";
    case errc::not_found: return "not_found";
    case errc::not_member: return "not_member";
    case errc::forbidden: return "forbidden";
    case errc::exists: return "exists";
    case errc::group_full: return "group_full";
    case errc::unknown_user: return "unknown_user";
    case errc::stale_epoch: return "stale_epoch";
    case errc::rekey_pending: return "rekey_pending";
    case errc::bad_signature: return "bad_signature";
    case errc::bad_rekey: return "bad_rekey";
    case errc::too_large: return "too_large";
    case errc::rate_limited: return "rate_limited";
    case errc::internal: return "internal";
    case errc::bad_length: return "bad_length";
    case errc::bad_encoding: return "bad_encoding";
    case errc::decrypt_failed: return "decrypt_failed";
    case errc::bad_key: return "bad_key";
    case errc::key_mismatch: return "key_mismatch";
    case errc::bad_passphrase: return "bad_passphrase";
    case errc::bad_format: return "bad_format";
    case errc::io_error: return "io_error";
    case errc::corruption: return "corruption";
    case errc::config_error: return "config_error";
    case errc::replay: return "replay";
    case errc::conflict: return "conflict";
    case errc::unavailable: return "unavailable";
  }
  return "internal";
}

}  // namespace sealcast
