#pragma once

// The subcommands of the sealcast chat client. Each returns its exit code or throws failure.

#include <boost/asio/awaitable.hpp>

#include "tools/sealcast/cli.hpp"

namespace sealcast::cli {

/// keygen --out FILE: a fresh identity in a new keystore; prints the user id.
[[nodiscard]] int keygen(const arguments& a);
/// id: prints the identity's user id.
[[nodiscard]] int show_id(const arguments& a);
/// The commands that talk to a broker: create-group, add, remove, join, leave, groups, send,
/// tell, listen.
[[nodiscard]] boost::asio::awaitable<int> run_remote(const arguments& a);
/// chat: the interactive client (chat.cpp).
[[nodiscard]] boost::asio::awaitable<int> run_chat(const arguments& a);

}  // namespace sealcast::cli
