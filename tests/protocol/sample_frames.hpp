#pragma once

#include <cstdint>
#include <string>

#include "protocol/frames.hpp"

// Sample values for the protocol tests: one of every frame, filled with recognisable bytes.

namespace sealcast::protocol::test {

/// An id whose 16 bytes are all `fill`.
inline id16 id_of(std::uint8_t fill) {
  id16 id;
  id.b.fill(fill);
  return id;
}

/// N bytes counting up from `start`.
template <std::size_t N>
std::array<std::uint8_t, N> array_of(std::uint8_t start) {
  std::array<std::uint8_t, N> out{};
  for (std::size_t i = 0; i < N; ++i) out[i] = static_cast<std::uint8_t>(start + i);
  return out;
}

/// n bytes counting up from `start`.
inline bytes bytes_of(std::size_t n, std::uint8_t start) {
  bytes out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(start + i);
  return out;
}

/// A hex id string of 32 characters repeating `c`.
inline std::string hex_id(char c) { return std::string(32, c); }

/// Base64 of n bytes counting up from 0.
inline std::string b64_of(std::size_t n) { return to_base64(bytes_of(n, 0)); }

inline client::publish sample_publish() {
  client::publish f;
  f.rid = request_id::from_number(42);
  f.group = id_of(0xa1);
  f.epoch = 7;
  f.alg = aead_alg::chacha20_poly1305;
  f.nonce = bytes_of(12, 1);
  f.ct = bytes_of(100, 9);
  f.sig = array_of<64>(3);
  return f;
}

inline client::rekey sample_rekey() {
  client::rekey f;
  f.rid = request_id::from_string("rk-1");
  f.group = id_of(0xa1);
  f.epoch = 2;
  f.key_id = id_of(0x0c);
  f.alg = aead_alg::xchacha20_poly1305;
  f.wrapped[id_of(0x01)] = array_of<80>(1);
  f.wrapped[id_of(0x02)] = array_of<80>(2);
  f.manifest_sig = array_of<64>(5);
  return f;
}

inline std::vector<manifest_member> sample_members() {
  return {{id_of(0x01), array_of<32>(10), member_role::owner},
          {id_of(0x02), array_of<32>(20), member_role::admin},
          {id_of(0x03), array_of<32>(30), member_role::member}};
}

inline server::key sample_key() {
  server::key f;
  f.group = id_of(0xa1);
  f.epoch = 3;
  f.key_id = id_of(0x0c);
  f.alg = aead_alg::aes_256_gcm;
  f.wrapped = array_of<80>(7);
  f.custody = key_custody::client;
  f.issuer = id_of(0x01);
  f.manifest.prev_hash = array_of<32>(40);
  f.manifest.members = sample_members();
  f.manifest.sig = array_of<64>(50);
  return f;
}

inline server::message sample_message() {
  server::message f;
  f.group = id_of(0xa1);
  f.seq = 12;
  f.id = id_of(0x5e);
  f.sender = id_of(0x01);
  f.epoch = 3;
  f.alg = aead_alg::xchacha20_poly1305;
  f.nonce = bytes_of(24, 2);
  f.ct = bytes_of(33, 4);
  f.sig = array_of<64>(6);
  f.ts = 1700000000123;
  return f;
}

}  // namespace sealcast::protocol::test
