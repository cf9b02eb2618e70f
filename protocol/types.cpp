#include "protocol/types.hpp"

#include <charconv>

#include "protocol/detail/json_writer.hpp"

namespace sealcast::protocol {

std::string_view to_string(aead_alg v) noexcept {
  switch (v) {
    case aead_alg::aes_256_gcm: return "aes-256-gcm";
    case aead_alg::chacha20_poly1305: return "chacha20-poly1305";
    case aead_alg::xchacha20_poly1305: return "xchacha20-poly1305";
  }
  return "aes-256-gcm";
}

std::string_view to_string(member_role v) noexcept {
  switch (v) {
    case member_role::owner: return "owner";
    case member_role::admin: return "admin";
    case member_role::member: return "member";
  }
  return "member";
}

std::string_view to_string(group_policy v) noexcept { return v == group_policy::open ? "open" : "invite"; }

std::string_view to_string(key_custody v) noexcept { return v == key_custody::client ? "client" : "broker"; }

std::string_view to_string(member_action v) noexcept {
  switch (v) {
    case member_action::joined: return "joined";
    case member_action::left: return "left";
    case member_action::removed: return "removed";
  }
  return "joined";
}

std::string_view to_string(change_action v) noexcept {
  switch (v) {
    case change_action::add: return "add";
    case change_action::remove: return "remove";
    case change_action::role: return "role";
    case change_action::join: return "join";
    case change_action::leave: return "leave";
  }
  return "add";
}

std::optional<aead_alg> parse_aead_alg(std::string_view s) noexcept {
  if (s == "aes-256-gcm") return aead_alg::aes_256_gcm;
  if (s == "chacha20-poly1305") return aead_alg::chacha20_poly1305;
  if (s == "xchacha20-poly1305") return aead_alg::xchacha20_poly1305;
  return std::nullopt;
}

std::optional<member_role> parse_member_role(std::string_view s) noexcept {
  if (s == "owner") return member_role::owner;
  if (s == "admin") return member_role::admin;
  if (s == "member") return member_role::member;
  return std::nullopt;
}

std::optional<group_policy> parse_group_policy(std::string_view s) noexcept {
  if (s == "invite") return group_policy::invite;
  if (s == "open") return group_policy::open;
  return std::nullopt;
}

std::optional<key_custody> parse_key_custody(std::string_view s) noexcept {
  if (s == "broker") return key_custody::broker;
  if (s == "client") return key_custody::client;
  return std::nullopt;
}

std::optional<member_action> parse_member_action(std::string_view s) noexcept {
  if (s == "joined") return member_action::joined;
  if (s == "left") return member_action::left;
  if (s == "removed") return member_action::removed;
  return std::nullopt;
}

std::optional<change_action> parse_change_action(std::string_view s) noexcept {
  if (s == "add") return change_action::add;
  if (s == "remove") return change_action::remove;
  if (s == "role") return change_action::role;
  if (s == "join") return change_action::join;
  if (s == "leave") return change_action::leave;
  return std::nullopt;
}

std::optional<errc> parse_wire_errc(std::string_view s) noexcept {
  for (int i = 0; i <= static_cast<int>(errc::internal); ++i) {
    auto code = static_cast<errc>(i);
    if (to_string(code) == s) return code;
  }
  return std::nullopt;
}

request_id request_id::from_number(std::uint64_t n) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  (void)ec;  // 24 characters always hold a uint64
  return request_id(std::string(buf, end));
}

std::optional<std::uint64_t> request_id::number() const noexcept {
  std::uint64_t n = 0;
  auto [p, ec] = std::from_chars(json_.data(), json_.data() + json_.size(), n);
  if (ec != std::errc{} || p != json_.data() + json_.size()) return std::nullopt;
  return n;
}

request_id request_id::from_string(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  detail::append_json_string(out, s);
  return request_id(std::move(out));
}

request_id request_id::from_json_unchecked(std::string json) { return request_id(std::move(json)); }

}  // namespace sealcast::protocol
