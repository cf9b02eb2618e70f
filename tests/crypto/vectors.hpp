#pragma once
// Access to tests/vectors/*.json for known-answer tests: every expected value is read from the
// files at run time, so the files stay the single source of truth.

#include <boost/json.hpp>
#include <catch2/catch_tostring.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "common/bytes.hpp"
#include "crypto/identity.hpp"

namespace sealcast::test {

/// tests/vectors/rfc.json, parsed once.
[[nodiscard]] const boost::json::object& rfc_vectors();
/// tests/vectors/sealcast-v2.json, parsed once.
[[nodiscard]] const boost::json::object& v2_vectors();

/// A string field.
[[nodiscard]] std::string str(const boost::json::value& v);
/// A hex field, decoded (the test fails if it is not hex).
[[nodiscard]] bytes hex(const boost::json::value& v);
/// A 32-hex-character id field.
[[nodiscard]] id16 id(const boost::json::value& v);
/// The named identity of sealcast-v2.json ("alice", "bob", "carol", "broker"), rebuilt from its
/// private keys.
[[nodiscard]] crypto::identity identity_of(std::string_view name);

/// The error code of a failed result or status, nullopt on success, so that a CHECK expecting
/// an error fails (and prints) instead of asserting on an unexpected success.
template <class R>
[[nodiscard]] std::optional<errc> code_of(const R& r) {
  if (r.ok()) {
    return std::nullopt;
  }
  return r.err().code;
}

}  // namespace sealcast::test

template <>
struct Catch::StringMaker<sealcast::errc> {
  static std::string convert(sealcast::errc c) { return std::string(sealcast::to_string(c)); }
};

template <>
struct Catch::StringMaker<std::optional<sealcast::errc>> {
  static std::string convert(const std::optional<sealcast::errc>& c) {
    return c ? std::string(sealcast::to_string(*c)) : std::string("ok");
  }
};
