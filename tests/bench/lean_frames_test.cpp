// The bench's lean parser of message and batch frames (bench/lean_frames.*) against the generic
// one (protocol::parse_server_frames): on frames written by protocol/write_server.cpp from the
// message test vectors (tests/vectors/sealcast-v2.json) and from edge values, the lean parser
// must accept them and read the same messages; on every mutation of them (a byte deleted,
// inserted, replaced, the text cut short) it may decline, but whatever it accepts the generic
// parser must accept too, with the same messages. The bench falls back to the generic parser when
// the lean one declines, so the bench as a whole accepts exactly what the generic parser accepts.

#include <catch2/catch_test_macros.hpp>

#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "bench/lean_frames.hpp"
#include "common/bytes.hpp"
#include "protocol/codec.hpp"

namespace {

using sealcast::bytes;
using sealcast::id16;
using namespace sealcast::protocol;

/// Checks lean against generic on `text`; returns whether lean accepted it.
bool agree(const std::string& text, std::vector<server::message>& scratch) {
  const auto lean = sealcast::bench::parse_message_frames_lean(text, scratch);
  if (!lean) return false;
  const auto generic = parse_server_frames(text);
  INFO(text);
  REQUIRE(generic);
  REQUIRE(generic->size() == *lean);
  for (std::size_t i = 0; i < *lean; ++i) {
    const auto* m = std::get_if<server::message>(&(*generic)[i]);
    REQUIRE(m != nullptr);
    CHECK(*m == scratch[i]);
  }
  return true;
}

id16 id_of(std::uint8_t seed) {
  id16 id;
  for (std::size_t i = 0; i < 16; ++i) id.b[i] = static_cast<std::uint8_t>(seed * 31 + i * 7);
  return id;
}

bytes hex(const boost::json::value& v) { return *sealcast::from_hex(std::string(v.as_string())); }

/// Message frames from the v2 message vectors, then edge values.
std::vector<server::message> sample_messages() {
  std::ifstream in(std::string(SEALCAST_TEST_VECTORS) + "/sealcast-v2.json");
  std::stringstream ss;
  ss << in.rdbuf();
  const auto doc = boost::json::parse(ss.str());
  std::vector<server::message> out;
  std::uint8_t seed = 1;
  for (const auto& v : doc.at("messages").as_array()) {
    const auto& o = v.as_object();
    server::message m;
    m.group = id_of(seed++);
    m.seq = seed * 1000u;
    m.id = id_of(seed++);
    m.sender = id_of(seed++);
    m.epoch = static_cast<std::uint64_t>(o.at("epoch").to_number<std::int64_t>());
    m.index = static_cast<std::uint32_t>(o.at("index").to_number<std::int64_t>());
    m.alg = *parse_aead_alg(std::string(o.at("alg").as_string()));
    m.nonce = hex(o.at("nonce"));
    m.ct = hex(o.at("ct"));
    const auto sig = hex(o.at("sig"));
    std::copy(sig.begin(), sig.end(), m.sig.begin());
    m.ts = 1764680000000u + seed;
    out.push_back(m);
  }
  REQUIRE(out.size() >= 3);
  // Edge values: the largest numbers, zeros, every AEAD, ct lengths of every base64 padding.
  for (aead_alg alg : {aead_alg::aes_256_gcm, aead_alg::chacha20_poly1305, aead_alg::xchacha20_poly1305}) {
    for (std::size_t ct_size : {16u, 17u, 18u, 600u}) {
      server::message m = out.front();
      m.alg = alg;
      m.nonce.assign(nonce_size(alg), 0xab);
      m.ct.assign(ct_size, 0xcd);
      m.seq = ct_size == 16 ? std::numeric_limits<std::uint64_t>::max() : 0;
      m.epoch = ct_size == 17 ? std::numeric_limits<std::uint64_t>::max() : 0;
      m.index = ct_size == 18 ? std::numeric_limits<std::uint32_t>::max() : 0;
      m.ts = ct_size == 600 ? std::numeric_limits<std::uint64_t>::max() : 0;
      out.push_back(m);
    }
  }
  return out;
}

std::string batch_of(const std::vector<server::message>& ms) {
  server::batch b;
  for (const auto& m : ms) b.items.emplace_back(m);
  return to_json(b);
}

/// Every single-byte mutation of `text` and every prefix of it.
std::vector<std::string> mutations(const std::string& text) {
  static const std::string inserts = " 0129aAfz\"\\=+/},:-.eE]\x01\xc3";
  std::vector<std::string> out;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    out.push_back(text.substr(0, i));
    if (i < text.size()) out.push_back(text.substr(0, i) + text.substr(i + 1));
    for (char c : inserts) {
      out.push_back(text.substr(0, i) + c + text.substr(i));
      if (i < text.size() && text[i] != c) out.push_back(text.substr(0, i) + c + text.substr(i + 1));
    }
  }
  return out;
}

}  // namespace

TEST_CASE("lean frames: reads every written message frame and batch as the generic parser does", "[lean]") {
  const auto ms = sample_messages();
  std::vector<server::message> scratch;
  for (const auto& m : ms) CHECK(agree(to_json(m), scratch));
  // Batches of every size up to all samples, the reused buffers shrinking and growing.
  for (std::size_t n = 0; n <= ms.size(); ++n) {
    std::vector<server::message> part(ms.begin(), ms.begin() + static_cast<std::ptrdiff_t>(n));
    CHECK(agree(batch_of(part), scratch));
  }
  CHECK(agree(batch_of(std::vector<server::message>(ms.rbegin(), ms.rend())), scratch));
}

TEST_CASE("lean frames: declines other frames, which the generic parser reads", "[lean]") {
  std::vector<server::message> scratch;
  const auto m = sample_messages().front();
  server::ok ok;
  ok.rid = request_id::from_number(7);
  server::batch mixed;
  mixed.items.emplace_back(m);
  mixed.items.emplace_back(ok);
  for (const std::string& text : {to_json(ok), to_json(mixed), std::string(" ") + to_json(m), to_json(m) + " "}) {
    INFO(text);
    CHECK_FALSE(sealcast::bench::parse_message_frames_lean(text, scratch));
    CHECK(parse_server_frames(text));
  }
}

TEST_CASE("lean frames: accepts no mutation the generic parser refuses, and reads the same", "[lean]") {
  const auto ms = sample_messages();
  std::vector<server::message> scratch;
  std::size_t accepted = 0, total = 0;
  for (const std::string& frame :
       {to_json(ms[0]), to_json(ms[4]), batch_of({ms[1], ms[2]}), batch_of({ms[3]})}) {
    for (const auto& text : mutations(frame)) {
      ++total;
      if (agree(text, scratch)) ++accepted;
    }
  }
  // Some mutations keep the writer's form (a changed hex digit or base64 letter) and are read.
  CHECK(accepted > 0);
  CHECK(accepted < total);
}
