#pragma once
// Asio's coroutine completion token that answers errors as values.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace sealcast {

/// `co_await op(use_nothrow)` answers a tuple (error_code first) instead of throwing: closed
/// sockets, cancelled timers and end of stream are results to look at, not exceptions.
inline constexpr auto use_nothrow = boost::asio::as_tuple(boost::asio::use_awaitable);

}  // namespace sealcast
