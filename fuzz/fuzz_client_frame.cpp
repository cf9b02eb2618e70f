// libFuzzer target: the client frame parser, i.e. what the broker reads from every WebSocket
// message a client sends (protocol::parse_client_frame), and the error reply it writes back.
//
// Beyond "no crash, no leak, no UB", it checks what the broker relies on:
// - a frame that parses serializes (to_json, what the client library writes) to text that parses
//   to the same frame, and serializing that again gives the same text;
// - a frame that does not parse is answered with an error the client library can read, carrying
//   the same rid and code.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "fuzz/fuzz_check.hpp"
#include "protocol/codec.hpp"

using namespace sealcast;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = protocol::parse_client_frame(text);

  if (!parsed) {
    const protocol::frame_error& e = parsed.failure();
    FUZZ_CHECK(!e.err.message.empty(), "an error without a message");
    const std::string reply = protocol::to_json(e);
    auto back = protocol::parse_server_frame(reply);
    FUZZ_CHECK(back.ok(), reply + " -> " + (back ? std::string() : back.err().message));
    const auto* err = std::get_if<protocol::server::error>(&*back);
    FUZZ_CHECK(err != nullptr, reply);
    FUZZ_CHECK(err->code == e.err.code, reply);
    FUZZ_CHECK(err->message == e.err.message, reply);
    FUZZ_CHECK(err->rid == e.rid, reply);
    return 0;
  }

  const protocol::client_frame& frame = parsed.value();
  const std::string once = protocol::to_json(frame);
  auto again = protocol::parse_client_frame(once);
  FUZZ_CHECK(again.ok(), once + " -> " + (again ? std::string() : again.err().message));
  FUZZ_CHECK(again.value() == frame, once);
  const std::string twice = protocol::to_json(again.value());
  FUZZ_CHECK(twice == once, once + " vs " + twice);
  return 0;
}
