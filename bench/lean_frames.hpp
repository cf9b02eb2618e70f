#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include "protocol/server_frames.hpp"

// The bench's fast path for the broker's hot frames: a `message` frame, or a `batch` whose items
// are all `message` frames, spelled exactly as protocol/write_server.cpp writes them (its key
// order, no whitespace, no escapes, numbers in plain decimal, canonical base64). No JSON DOM, no
// server_frame variant, and the output's byte buffers are reused from one call to the next.
//
// Whatever it does not recognize it leaves to protocol::parse_server_frames (it returns
// nullopt): a frame of another type, another spelling, or one that the generic parser would
// refuse. It never accepts what parse_server_frames refuses, and what it accepts it reads into
// the same server::message values (tests/bench/lean_frames_test.cpp compares the two).

namespace sealcast::bench {

/// Reads `text` into out[0..n) and returns n (0 for an empty batch), or nullopt when it is not
/// the writer's message/batch form (then parse with protocol::parse_server_frames). out grows as
/// needed and is never shrunk, so its messages' buffers keep their capacity; out[n..] are stale.
[[nodiscard]] std::optional<std::size_t> parse_message_frames_lean(std::string_view text,
                                                                   std::vector<protocol::server::message>& out);

}  // namespace sealcast::bench
