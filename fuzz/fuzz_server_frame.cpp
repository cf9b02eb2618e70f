// libFuzzer target: the broker frame parser of the client library, i.e. what sealcast::client
// calls on every WebSocket message from the broker (protocol::parse_server_frame for the first
// frame, parse_server_frames afterwards, then parse_ok_result<T> on the reply of a request).
//
// Beyond "no crash, no leak, no UB", it checks the round trips the broker and the client rely on:
// - each parsed frame serializes (to_json, what the broker writes) to text that parses back to the
//   same frame, and a key frame built from key_frame_prefix + finish_key_frame is the same text;
// - the frames re-packed with make_batch parse to the same frames;
// - a single frame parses the same through parse_server_frame and parse_server_frames;
// - each typed result read from an `ok` is written back (make_ok, and the spliced make_keys_ok,
//   make_manifests_ok, make_fetch_ok the broker uses) to a reply that reads as the same result.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/json/value.hpp>

#include "fuzz/fuzz_check.hpp"
#include "protocol/codec.hpp"
#include "protocol/detail/ok_fields.hpp"

using namespace sealcast;
namespace p = sealcast::protocol;

namespace {

std::string message_of(const result<p::server_frame>& r) { return r ? std::string() : r.err().message; }

// The reply the broker would write for `r`, parsed again by the client and read as T.
template <class T>
void check_result_round_trip(const p::request_id& rid, const T& r) {
  const std::string reply = p::make_ok(rid, r);
  auto frame = p::parse_server_frame(reply);
  FUZZ_CHECK(frame.ok(), reply + " -> " + message_of(frame));
  const auto* ok = std::get_if<p::server::ok>(&*frame);
  FUZZ_CHECK(ok != nullptr && ok->rid == rid, reply);
  auto back = p::parse_ok_result<T>(*ok);
  FUZZ_CHECK(back.ok(), reply + " -> " + (back ? std::string() : back.err().message));
  FUZZ_CHECK(*back == r, reply);
}

// The spliced replies must read exactly like make_ok's.
template <class T>
void check_spliced(const std::string& spliced, const p::request_id& rid, const T& r) {
  auto frame = p::parse_server_frame(spliced);
  FUZZ_CHECK(frame.ok(), spliced + " -> " + message_of(frame));
  const auto* ok = std::get_if<p::server::ok>(&*frame);
  FUZZ_CHECK(ok != nullptr && ok->rid == rid, spliced);
  auto back = p::parse_ok_result<T>(*ok);
  FUZZ_CHECK(back.ok() && *back == r, spliced);
}

template <class T>
void try_result(const p::server::ok& ok) {
  auto r = p::parse_ok_result<T>(ok);
  if (!r) {
    FUZZ_CHECK(!r.err().message.empty(), "an error without a message");
    return;
  }
  check_result_round_trip(ok.rid, *r);
  if constexpr (std::is_same_v<T, p::keys_result>) {
    std::vector<std::string> frames;
    for (const auto& k : r->keys) frames.push_back(p::to_json(k));
    std::vector<std::string_view> views(frames.begin(), frames.end());
    check_spliced(p::make_keys_ok(ok.rid, views), ok.rid, *r);
  } else if constexpr (std::is_same_v<T, p::manifests_result>) {
    std::vector<std::string> entries;
    for (const auto& e : r->manifests) entries.push_back(p::to_json(e));
    std::vector<std::string_view> views(entries.begin(), entries.end());
    check_spliced(p::make_manifests_ok(ok.rid, views, r->next), ok.rid, *r);
  } else if constexpr (std::is_same_v<T, p::fetch_result>) {
    std::vector<std::string> frames;
    for (const auto& m : r->messages) frames.push_back(p::to_json(m));
    std::vector<std::string_view> views(frames.begin(), frames.end());
    check_spliced(p::make_fetch_ok(ok.rid, views), ok.rid, *r);
  }
}

void check_ok(const p::server::ok& ok) {
  try_result<p::empty_result>(ok);
  try_result<p::create_group_result>(ok);
  try_result<p::epoch_result>(ok);
  try_result<p::group_info_result>(ok);
  try_result<p::list_groups_result>(ok);
  try_result<p::presence_result>(ok);
  try_result<p::list_users_result>(ok);
  try_result<p::user_keys_result>(ok);
  try_result<p::keys_result>(ok);
  try_result<p::manifests_result>(ok);
  try_result<p::publish_result>(ok);
  try_result<p::fetch_result>(ok);
  try_result<p::direct_result>(ok);
}

bool has_double(const boost::json::value& v) {
  if (v.is_double()) return true;
  if (const auto* o = v.if_object())
    for (const auto& kv : *o)
      if (has_double(kv.value())) return true;
  if (const auto* a = v.if_array())
    for (const auto& e : *a)
      if (has_double(e)) return true;
  return false;
}

// Boost.JSON 1.81 reads long decimal numbers to within a few ulps only (it has no precise mode),
// so a double in an ok's untyped fields may not survive print-and-parse bit for bit. The typed
// results hold integers only, and they are checked exactly below.
bool exact_round_trip(const p::server_frame& f) {
  const auto* ok = std::get_if<p::server::ok>(&f);
  if (ok == nullptr || ok->fields.get() == nullptr) return true;
  for (const auto& kv : ok->fields.get()->fields)
    if (has_double(kv.value())) return false;
  return true;
}

void check_frame(const p::server_frame& f, std::vector<std::string>& serialized) {
  const std::string once = p::to_json(f);
  auto again = p::parse_server_frame(once);
  FUZZ_CHECK(again.ok(), once + " -> " + message_of(again));
  if (exact_round_trip(f)) {
    FUZZ_CHECK(*again == f, once);
    FUZZ_CHECK(p::to_json(*again) == once, once);
  }
  if (const auto* k = std::get_if<p::server::key>(&f))
    FUZZ_CHECK(p::finish_key_frame(p::key_frame_prefix(*k), k->wrapped) == once, once);
  if (const auto* ok = std::get_if<p::server::ok>(&f)) check_ok(*ok);
  serialized.push_back(once);
}

// Numeric rids keep their source text only at the top level; inside a batch a non-integer
// number is re-printed by Boost.JSON (1.50 becomes 1.5E0, documented in parse_server.cpp).
bool rid_text_survives_batching(const p::server_frame& f) {
  const p::request_id* rid = nullptr;
  if (const auto* ok = std::get_if<p::server::ok>(&f)) rid = &ok->rid;
  if (const auto* e = std::get_if<p::server::error>(&f); e != nullptr && e->rid) rid = &*e->rid;
  return rid == nullptr || rid->is_string() || rid->number().has_value();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  auto single = p::parse_server_frame(text);
  auto frames = p::parse_server_frames(text);
  if (single) {
    FUZZ_CHECK(frames.ok() && frames->size() == 1 && frames->front() == *single, "single vs batch reader");
  }
  if (!frames) {
    FUZZ_CHECK(!frames.err().message.empty(), "an error without a message");
    return 0;
  }

  std::vector<std::string> serialized;
  for (const auto& f : *frames) check_frame(f, serialized);

  // Whatever came in, batched or not, re-packed into one batch reads as the same frames.
  for (const auto& f : *frames)
    if (!rid_text_survives_batching(f) || !exact_round_trip(f)) return 0;
  const std::string batch = p::make_batch(serialized);
  auto unpacked = p::parse_server_frames(batch);
  FUZZ_CHECK(unpacked.ok(), batch + " -> " + (unpacked ? std::string() : unpacked.err().message));
  FUZZ_CHECK(*unpacked == *frames, batch);
  return 0;
}
