#include "protocol/detail/ok_fields.hpp"

#include <boost/json/serialize.hpp>

#include "protocol/detail/json_writer.hpp"

namespace sealcast::protocol {

std::string ok_fields::json() const {
  std::string out = "{";
  if (impl_) detail::append_fields(out, *impl_);
  if (out.size() > 1) out.erase(1, 1);  // the leading comma
  out += '}';
  return out;
}

bool ok_fields::empty() const noexcept { return !impl_ || impl_->fields.empty(); }

bool operator==(const ok_fields& a, const ok_fields& b) {
  if (a.empty() || b.empty()) return a.empty() == b.empty();
  return a.impl_->fields == b.impl_->fields;
}

namespace detail {

void append_fields(std::string& out, const ok_fields::impl& f) {
  for (const auto& kv : f.fields) {
    out += ',';
    append_json_string(out, std::string_view(kv.key().data(), kv.key().size()));
    out += ':';
    out += boost::json::serialize(kv.value());
  }
}

ok_fields make_ok_fields(const boost::json::object& frame) {
  auto p = std::make_shared<ok_fields::impl>();
  p->fields.reserve(frame.size());
  for (const auto& kv : frame) {
    if (kv.key() == "type" || kv.key() == "rid") continue;
    p->fields.emplace(kv.key(), kv.value());
  }
  return ok_fields(std::move(p));
}

}  // namespace detail

}  // namespace sealcast::protocol
