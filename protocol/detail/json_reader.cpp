#include "protocol/detail/json_reader.hpp"

#include <algorithm>
#include <string>

namespace sealcast::protocol::detail {

namespace json = boost::json;

namespace {

std::optional<std::uint64_t> as_u64(const json::value& v) noexcept {
  if (const auto* u = v.if_uint64()) return *u;
  if (const auto* i = v.if_int64(); i != nullptr && *i >= 0) return static_cast<std::uint64_t>(*i);
  return std::nullopt;
}

}  // namespace

std::optional<id16> parse_lower_id(std::string_view s) noexcept {
  if (s.size() != 32) return std::nullopt;
  id16 id;
  for (std::size_t i = 0; i < 16; ++i) {
    int v[2];
    for (int k = 0; k < 2; ++k) {
      const char c = s[2 * i + k];
      if (c >= '0' && c <= '9')
        v[k] = c - '0';
      else if (c >= 'a' && c <= 'f')
        v[k] = c - 'a' + 10;
      else
        return std::nullopt;
    }
    id.b[i] = static_cast<std::uint8_t>((v[0] << 4) | v[1]);
  }
  return id;
}

// ---- reader ------------------------------------------------------------------------------

const json::object& reader::empty_object() {
  static const json::object empty;
  return empty;
}

const json::value* reader::find(std::string_view k) const noexcept {
  const json::value* v = obj_->if_contains(json::string_view(k.data(), k.size()));
  return (v != nullptr && !v->is_null()) ? v : nullptr;
}

bool reader::has(std::string_view k) const noexcept { return find(k) != nullptr; }

void reader::append_path(std::string& out) const {
  if (parent_ == nullptr) return;
  parent_->append_path(out);
  if (!out.empty()) out += '.';
  out += key_;
  if (index_ != SIZE_MAX) {
    out += '[';
    out += std::to_string(index_);
    out += ']';
  }
}

void reader::fail_at(std::string_view k, std::size_t index, bool indexed, std::string_view problem) {
  if (!ok()) return;
  std::string msg = "field '";
  std::string path;
  append_path(path);
  if (!k.empty()) {
    if (!path.empty()) path += '.';
    path += k;
  }
  if (indexed) path += '[' + std::to_string(index) + ']';
  msg += path;
  msg += "' ";
  msg += problem;
  err_->emplace(error{errc::bad_request, std::move(msg)});
}

void reader::fail(std::string_view k, std::string_view problem) { fail_at(k, 0, false, problem); }

void reader::fail_self(std::string_view problem) { fail_at({}, 0, false, problem); }

const json::value* reader::require(std::string_view k) {
  if (!ok()) return nullptr;
  const json::value* v = find(k);
  if (v == nullptr) fail(k, obj_->contains(json::string_view(k.data(), k.size())) ? "must not be null" : "is missing");
  return v;
}

const json::array* reader::array(std::string_view k) {
  const json::value* v = require(k);
  if (v == nullptr) return nullptr;
  if (!v->is_array()) fail(k, "must be an array");
  return v->if_array();
}

std::string_view reader::string_view_of(std::string_view k) {
  const json::value* v = require(k);
  if (v == nullptr) return {};
  const json::string* s = v->if_string();
  if (s == nullptr) {
    fail(k, "must be a string");
    return {};
  }
  return {s->data(), s->size()};
}

std::string reader::str(std::string_view k) { return std::string(string_view_of(k)); }

std::optional<std::string> reader::opt_str(std::string_view k) {
  if (!has(k)) return std::nullopt;
  return str(k);
}

std::uint64_t reader::bounded(std::string_view k, std::uint64_t max) {
  const json::value* v = require(k);
  if (v == nullptr) return 0;
  const auto n = as_u64(*v);
  if (n && *n <= max) return *n;
  if (const double* d = v->if_double(); n || (d != nullptr && *d >= 18446744073709551616.0))
    fail(k, "is too large (at most " + std::to_string(max) + ")");
  else
    fail(k, "must be a non-negative integer");
  return 0;
}

std::uint64_t reader::u64(std::string_view k) { return bounded(k, UINT64_MAX); }

std::optional<std::uint64_t> reader::opt_u64(std::string_view k) {
  if (!has(k)) return std::nullopt;
  return u64(k);
}

std::uint32_t reader::u32(std::string_view k) { return static_cast<std::uint32_t>(bounded(k, UINT32_MAX)); }

bool reader::boolean(std::string_view k) {
  const json::value* v = require(k);
  if (v == nullptr) return false;
  if (!v->is_bool()) fail(k, "must be a boolean");
  return v->is_bool() && v->get_bool();
}

id16 reader::id(std::string_view k) {
  const json::value* v = require(k);
  if (v == nullptr) return {};
  if (const json::string* s = v->if_string())
    if (auto id = parse_lower_id({s->data(), s->size()})) return *id;
  fail(k, "must be 32 lowercase hex characters");
  return {};
}

std::optional<id16> reader::opt_id(std::string_view k) {
  if (!has(k)) return std::nullopt;
  return id(k);
}

bytes reader::b64(std::string_view k, std::size_t min_size) {
  std::string_view s = string_view_of(k);
  if (!ok()) return {};
  auto raw = from_base64(s);
  if (!raw) {
    fail(k, "is not valid base64");
    return {};
  }
  if (raw->size() < min_size) fail(k, "must be at least " + std::to_string(min_size) + " bytes");
  return std::move(*raw);
}

void reader::read_fixed(std::string_view k, std::uint8_t* out, std::size_t n) {
  std::string_view s = string_view_of(k);
  if (!ok()) return;
  auto raw = from_base64(s);
  if (!raw) return fail(k, "is not valid base64");
  if (raw->size() != n) return fail(k, "must be " + std::to_string(n) + " bytes");
  std::copy(raw->begin(), raw->end(), out);
}

namespace {

template <class E>
E read_enum(reader& r, std::string_view k, std::string_view s, std::optional<E> (*parse)(std::string_view) noexcept,
            std::string_view choices, E fallback) {
  if (!r.ok()) return fallback;
  if (auto v = parse(s)) return *v;
  r.fail(k, choices);
  return fallback;
}

}  // namespace

aead_alg reader::alg(std::string_view k) {
  return read_enum(*this, k, string_view_of(k), parse_aead_alg,
                   "must be one of aes-256-gcm, chacha20-poly1305, xchacha20-poly1305", aead_alg::aes_256_gcm);
}

member_role reader::role(std::string_view k) {
  return read_enum(*this, k, string_view_of(k), parse_member_role, "must be one of owner, admin, member",
                   member_role::member);
}

group_policy reader::policy(std::string_view k) {
  return read_enum(*this, k, string_view_of(k), parse_group_policy, "must be one of invite, open",
                   group_policy::invite);
}

key_custody reader::custody(std::string_view k) {
  return read_enum(*this, k, string_view_of(k), parse_key_custody, "must be one of broker, client",
                   key_custody::broker);
}

member_action reader::action(std::string_view k) {
  return read_enum(*this, k, string_view_of(k), parse_member_action, "must be one of joined, left, removed",
                   member_action::joined);
}

change_action reader::change_kind(std::string_view k) {
  return read_enum(*this, k, string_view_of(k), parse_change_action, "must be one of add, remove, role, join, leave",
                   change_action::add);
}

void reader::check_nonce(std::string_view k, const bytes& nonce, aead_alg a) {
  if (!ok() || nonce.size() == nonce_size(a)) return;
  fail(k, "must be " + std::to_string(nonce_size(a)) + " bytes for " + std::string(to_string(a)));
}

std::vector<id16> reader::id_array(std::string_view k) {
  std::vector<id16> out;
  const json::array* arr = array(k);
  if (arr == nullptr) return out;
  out.reserve(arr->size());
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const json::string* s = (*arr)[i].if_string();
    auto id = s != nullptr ? parse_lower_id({s->data(), s->size()}) : std::nullopt;
    if (!id) {
      fail_at(k, i, true, "must be 32 lowercase hex characters");
      return {};
    }
    out.push_back(*id);
  }
  return out;
}

std::map<id16, wrapped_key> reader::wrapped_map(std::string_view k) {
  std::map<id16, wrapped_key> out;
  const json::value* v = require(k);
  if (v == nullptr) return out;
  const json::object* o = v->if_object();
  if (o == nullptr) {
    fail(k, "must be an object");
    return out;
  }
  reader inner(*o, *err_, this, k, SIZE_MAX);
  for (const auto& kv : *o) {
    std::string_view user(kv.key().data(), kv.key().size());
    auto id = parse_lower_id(user);
    if (!id) {
      fail(k, "has a key that is not 32 lowercase hex characters: '" + std::string(clip(user)) + "'");
      return {};
    }
    out.emplace(*id, inner.b64_fixed<80>(user));
    if (!ok()) return {};
  }
  return out;
}

reader reader::child(std::string_view k) {
  const json::value* v = require(k);
  const json::object* o = v != nullptr ? v->if_object() : nullptr;
  if (v != nullptr && o == nullptr) fail(k, "must be an object");
  return reader(o != nullptr ? *o : empty_object(), *err_, this, k, SIZE_MAX);
}

}  // namespace sealcast::protocol::detail
