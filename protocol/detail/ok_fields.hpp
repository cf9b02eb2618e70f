#pragma once

#include <boost/json/object.hpp>
#include <string>

#include "protocol/server_frames.hpp"

namespace sealcast::protocol {

/// The parsed fields of an ok reply, on the default heap (not the parse arena).
struct ok_fields::impl {
  boost::json::object fields;
};

}  // namespace sealcast::protocol

namespace sealcast::protocol::detail {

/// Appends ,"key":value for every field (the caller has written {"type":"ok","rid":..).
void append_fields(std::string& out, const ok_fields::impl& f);
/// Copies an ok frame's fields, all but `type` and `rid`, out of the parse arena.
[[nodiscard]] ok_fields make_ok_fields(const boost::json::object& frame);

}  // namespace sealcast::protocol::detail
