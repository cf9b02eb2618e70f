#pragma once

#include <array>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/error.hpp"
#include "protocol/detail/json_document.hpp"
#include "protocol/types.hpp"

// Typed reads of frame fields that name the field in every error. Private to protocol/.

namespace sealcast::protocol::detail {

/// Reads typed fields of one JSON object. The first failure is kept and later reads return
/// defaults without recording anything, so a frame parser reads every field and checks once.
class reader {
 public:
  /// A reader over a frame's top-level object; failures go to `err`.
  reader(const boost::json::object& obj, std::optional<error>& err) : obj_(&obj), err_(&err) {}
  reader(const reader&) = delete;
  reader& operator=(const reader&) = delete;

  /// The object being read.
  [[nodiscard]] const boost::json::object& object() const noexcept { return *obj_; }
  /// Whether nothing failed so far.
  [[nodiscard]] bool ok() const noexcept { return !err_->has_value(); }
  /// Whether the field is present and not null (null counts as absent for optional fields).
  [[nodiscard]] bool has(std::string_view k) const noexcept;
  /// Records "field '<path>.k' <problem>" unless a failure is already recorded.
  void fail(std::string_view k, std::string_view problem);

  [[nodiscard]] std::string str(std::string_view k);
  [[nodiscard]] std::optional<std::string> opt_str(std::string_view k);
  [[nodiscard]] std::uint64_t u64(std::string_view k);
  [[nodiscard]] std::optional<std::uint64_t> opt_u64(std::string_view k);
  /// An integer in [0, 2^32) (a ratchet index).
  [[nodiscard]] std::uint32_t u32(std::string_view k);
  [[nodiscard]] bool boolean(std::string_view k);
  [[nodiscard]] id16 id(std::string_view k);
  [[nodiscard]] std::optional<id16> opt_id(std::string_view k);
  /// Base64 of at least `min_size` bytes.
  [[nodiscard]] bytes b64(std::string_view k, std::size_t min_size = 0);
  /// Base64 of exactly N bytes.
  template <std::size_t N>
  [[nodiscard]] std::array<std::uint8_t, N> b64_fixed(std::string_view k) {
    std::array<std::uint8_t, N> out{};
    read_fixed(k, out.data(), N);
    return out;
  }
  /// Base64 of exactly N bytes when present (and not null).
  template <std::size_t N>
  [[nodiscard]] std::optional<std::array<std::uint8_t, N>> opt_b64_fixed(std::string_view k) {
    if (!has(k)) return std::nullopt;
    return b64_fixed<N>(k);
  }
  [[nodiscard]] aead_alg alg(std::string_view k);
  [[nodiscard]] member_role role(std::string_view k);
  [[nodiscard]] group_policy policy(std::string_view k);
  [[nodiscard]] key_custody custody(std::string_view k);
  [[nodiscard]] member_action action(std::string_view k);
  /// A change's action ("add", ...); named apart from the type, which it would hide.
  [[nodiscard]] change_action change_kind(std::string_view k);
  /// Checks that `nonce` (read from field k) has the length PROTOCOL.md fixes for `a`.
  void check_nonce(std::string_view k, const bytes& nonce, aead_alg a);
  /// An array of ids.
  [[nodiscard]] std::vector<id16> id_array(std::string_view k);
  /// An object mapping user ids to wrapped keys.
  [[nodiscard]] std::map<id16, wrapped_key> wrapped_map(std::string_view k);
  /// A nested object, read through a child reader (an empty one after a failure).
  [[nodiscard]] reader child(std::string_view k);
  /// Calls f(reader&) for each element of an array of objects, in order.
  template <class F>
  void each_object(std::string_view k, F&& f) {
    const boost::json::array* arr = array(k);
    if (arr == nullptr) return;
    for (std::size_t i = 0; i < arr->size() && ok(); ++i) {
      const boost::json::object* o = (*arr)[i].if_object();
      reader item(o != nullptr ? *o : empty_object(), *err_, this, k, i);
      if (o == nullptr) {
        item.fail_self("must be an object");
        return;
      }
      f(item);
    }
  }

 private:
  reader(const boost::json::object& obj, std::optional<error>& err, const reader* parent, std::string_view key,
         std::size_t index)
      : obj_(&obj), err_(&err), parent_(parent), key_(key), index_(index) {}

  [[nodiscard]] static const boost::json::object& empty_object();
  [[nodiscard]] const boost::json::value* find(std::string_view k) const noexcept;
  [[nodiscard]] const boost::json::value* require(std::string_view k);
  [[nodiscard]] std::uint64_t bounded(std::string_view k, std::uint64_t max);
  [[nodiscard]] const boost::json::array* array(std::string_view k);
  [[nodiscard]] std::string_view string_view_of(std::string_view k);
  void read_fixed(std::string_view k, std::uint8_t* out, std::size_t n);
  void append_path(std::string& out) const;
  void fail_self(std::string_view problem);
  void fail_at(std::string_view k, std::size_t index, bool indexed, std::string_view problem);

  const boost::json::object* obj_;
  std::optional<error>* err_;
  const reader* parent_ = nullptr;
  std::string_view key_;          // this object's field name in its parent
  std::size_t index_ = SIZE_MAX;  // this object's index in that field's array, if any
};

/// Parses `s` as 32 lowercase hex characters; nullopt otherwise.
[[nodiscard]] std::optional<id16> parse_lower_id(std::string_view s) noexcept;

}  // namespace sealcast::protocol::detail
