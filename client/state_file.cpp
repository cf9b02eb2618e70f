#include "client/state_file.hpp"

#include <array>

namespace sealcast::client::detail {

namespace {

constexpr std::array<std::uint8_t, 4> magic = {'S', 'C', 'S', 'T'};
constexpr std::uint8_t version = 1;

void put(crypto::secure_bytes& out, byte_view v) { out.insert(out.end(), v.begin(), v.end()); }
void put8(crypto::secure_bytes& out, std::uint8_t v) { out.push_back(v); }
void put16(crypto::secure_bytes& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}
void put32(crypto::secure_bytes& out, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}
void put64(crypto::secure_bytes& out, std::uint64_t v) {
  for (int s = 56; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}

/// A bounds-checked reader over the payload.
class reader {
 public:
  explicit reader(byte_view v) : v_(v) {}
  [[nodiscard]] bool ok() const { return ok_; }
  [[nodiscard]] bool at_end() const { return pos_ == v_.size(); }
  byte_view take(std::size_t n) {
    if (!ok_ || v_.size() - pos_ < n) {
      ok_ = false;
      return {};
    }
    auto r = v_.subspan(pos_, n);
    pos_ += n;
    return r;
  }
  std::uint64_t num(std::size_t n) {
    auto b = take(n);
    std::uint64_t x = 0;
    for (auto c : b) x = (x << 8) | c;
    return x;
  }
  id16 id() {
    id16 r;
    auto b = take(16);
    if (ok_) std::copy(b.begin(), b.end(), r.b.begin());
    return r;
  }

 private:
  byte_view v_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace

crypto::secure_bytes encode_state(const crypto::identity& id, const client_state& s) {
  crypto::secure_bytes out;
  put(out, magic);
  put8(out, version);
  put(out, id.sign_sk().view());
  put(out, id.kx_sk().view());
  put(out, s.broker.view());
  put8(out, static_cast<std::uint8_t>(std::min<std::size_t>(s.broker_pk.size(), 255)));
  put(out, byte_view(s.broker_pk).first(std::min<std::size_t>(s.broker_pk.size(), 255)));
  put32(out, static_cast<std::uint32_t>(s.groups.size()));
  for (const auto& [gid, g] : s.groups) {
    put(out, gid.view());
    const auto name = g.name.substr(0, 65535);
    put16(out, static_cast<std::uint16_t>(name.size()));
    put(out, as_bytes(name));
    put8(out, static_cast<std::uint8_t>(g.role));
    put8(out, static_cast<std::uint8_t>((g.seq_known ? 1 : 0) | (g.member ? 2 : 0)));
    put64(out, g.last_seq);
    put64(out, g.epoch);
    put32(out, static_cast<std::uint32_t>(g.epochs.size()));
    for (const auto& [e, k] : g.epochs) {
      put64(out, e);
      put(out, k.key.view());
      put(out, k.key_id.view());
      put8(out, static_cast<std::uint8_t>(k.alg));
      put8(out, static_cast<std::uint8_t>(k.custody));
      put(out, k.issuer.view());
      put(out, k.manifest_hash);
    }
  }
  put32(out, static_cast<std::uint32_t>(s.recent_directs.size()));
  for (const auto& d : s.recent_directs) put(out, d.view());
  return out;
}

result<std::pair<crypto::identity, client_state>> decode_state(byte_view payload) {
  const auto bad = [](const std::string& why) { return error{errc::bad_format, "not a Sealcast client state file: " + why}; };
  reader r(payload);
  auto m = r.take(4);
  if (!r.ok() || !std::equal(m.begin(), m.end(), magic.begin())) return bad("bad magic");
  if (r.num(1) != version) return bad("unsupported version");
  auto seed = r.take(32);
  auto kx = r.take(32);
  if (!r.ok()) return bad("truncated identity");
  auto id = crypto::identity::from_secrets(seed, kx);
  if (!id) return bad(id.err().message);
  client_state s;
  s.broker = r.id();
  const auto pk_len = r.num(1);
  auto pk = r.take(pk_len);
  s.broker_pk.assign(pk.begin(), pk.end());
  const auto n_groups = r.num(4);
  for (std::uint64_t i = 0; i < n_groups && r.ok(); ++i) {
    const auto gid = r.id();
    group_entry g;
    const auto name_len = r.num(2);
    auto name = r.take(name_len);
    g.name.assign(name.begin(), name.end());
    const auto role = r.num(1);
    if (role < 1 || role > 3) return bad("bad role");
    g.role = static_cast<member_role>(role);
    const auto flags = r.num(1);
    g.seq_known = (flags & 1) != 0;
    g.member = (flags & 2) != 0;
    g.last_seq = r.num(8);
    g.epoch = r.num(8);
    const auto n_epochs = r.num(4);
    for (std::uint64_t j = 0; j < n_epochs && r.ok(); ++j) {
      const auto e = r.num(8);
      epoch_entry k;
      auto key = r.take(32);
      if (!r.ok()) break;
      std::copy(key.begin(), key.end(), k.key.data());
      k.key_id = r.id();
      const auto alg = r.num(1);
      if (alg < 1 || alg > 3) return bad("bad algorithm");
      k.alg = static_cast<aead_alg>(alg);
      const auto custody = r.num(1);
      if (custody < 1 || custody > 2) return bad("bad custody");
      k.custody = static_cast<key_custody>(custody);
      k.issuer = r.id();
      auto h = r.take(32);
      if (!r.ok()) break;
      std::copy(h.begin(), h.end(), k.manifest_hash.begin());
      g.epochs.emplace(e, std::move(k));
    }
    s.groups.emplace(gid, std::move(g));
  }
  const auto n_directs = r.num(4);
  for (std::uint64_t i = 0; i < n_directs && r.ok(); ++i) s.recent_directs.push_back(r.id());
  if (!r.ok()) return bad("truncated");
  if (!r.at_end()) return bad("trailing bytes");
  return std::pair{std::move(*id), std::move(s)};
}

status write_state(const std::filesystem::path& path, byte_view payload, std::string_view passphrase,
                   const crypto::argon2_params& kdf) {
  return crypto::save_with_passphrase(path, payload, passphrase, kdf);
}

result<std::pair<crypto::identity, client_state>> read_state(const std::filesystem::path& path,
                                                             std::string_view passphrase) {
  auto payload = crypto::load_with_passphrase(path, passphrase);
  if (!payload) {
    auto e = payload.err();
    if (e.code == errc::bad_passphrase)
      e.message = "cannot open state file " + path.string() + ": wrong passphrase (or the file was modified)";
    return e;
  }
  return decode_state(*payload);
}

}  // namespace sealcast::client::detail
