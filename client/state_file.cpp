#include "client/state_file.hpp"

#include <array>

namespace sealcast::client::detail {

namespace {

constexpr std::array<std::uint8_t, 4> magic = {'S', 'C', 'S', 'T'};
constexpr std::uint8_t version = 2;

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
template <class Count>
void put_count(crypto::secure_bytes& out, Count n) {
  put32(out, static_cast<std::uint32_t>(n));
}

/// A bounds-checked reader over the payload. Once a read fails every later read fails too and
/// returns zeros, so a decoder checks ok() once per record.
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
  /// A count of records of at least `min_size` bytes each: refused when the rest cannot hold
  /// them, so a damaged count never makes the decoder loop or allocate for nothing.
  std::uint64_t count(std::size_t min_size) {
    const auto n = num(4);
    if (ok_ && min_size > 0 && n > (v_.size() - pos_) / min_size) ok_ = false;
    return ok_ ? n : 0;
  }
  id16 id() {
    id16 r;
    auto b = take(16);
    if (ok_) std::copy(b.begin(), b.end(), r.b.begin());
    return r;
  }
  template <std::size_t N>
  std::array<std::uint8_t, N> arr() {
    std::array<std::uint8_t, N> a{};
    auto b = take(N);
    if (ok_) std::copy(b.begin(), b.end(), a.begin());
    return a;
  }
  template <class Secret>
  Secret secret() {
    Secret s;
    auto b = take(Secret::size());
    if (ok_) std::copy(b.begin(), b.end(), s.data());
    return s;
  }
  void fail() { ok_ = false; }

 private:
  byte_view v_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

void encode_chain(crypto::secure_bytes& out, const chain_state& c) {
  put8(out, (c.pinned ? 1 : 0) | (c.creator ? 2 : 0));
  put8(out, static_cast<std::uint8_t>(c.custody));
  put8(out, static_cast<std::uint8_t>(c.policy));
  if (c.creator) put(out, c.creator->view());
  put64(out, c.epoch);
  put_count(out, c.members.size());
  for (const auto& [user, m] : c.members) {
    put(out, user.view());
    put(out, m.kx_pk);
    put8(out, static_cast<std::uint8_t>(m.role));
  }
  put_count(out, c.history.size());
  for (const auto& [e, h] : c.history) {
    put64(out, e);
    put(out, h.manifest_hash);
    put(out, h.members_hash);
    put8(out, h.member ? 1 : 0);
    put_count(out, h.roster.size());
    for (const auto& u : h.roster) put(out, u.view());
  }
}

void encode_epoch(crypto::secure_bytes& out, std::uint64_t e, const epoch_keys& k) {
  put64(out, e);
  put(out, k.key_id.view());
  put8(out, static_cast<std::uint8_t>(k.alg));
  put(out, k.issuer.view());
  put(out, k.own.key().view());
  put32(out, k.own.next_index());
  put_count(out, k.peers.size());
  for (const auto& [user, chain] : k.peers) {
    put(out, user.view());
    put(out, chain.key().view());
    put32(out, chain.next_index());
    put16(out, static_cast<std::uint16_t>(chain.skipped().size()));  // at most reorder_window
    for (const auto& [i, mk] : chain.skipped()) {
      put32(out, i);
      put(out, mk.view());
    }
  }
}

bool valid_role(std::uint64_t r) { return r >= 1 && r <= 3; }
bool valid_alg(std::uint64_t a) { return a >= 1 && a <= 3; }
bool valid_custody(std::uint64_t c) { return c >= 1 && c <= 2; }
bool valid_policy(std::uint64_t p) { return p >= 1 && p <= 2; }

/// Reads a chain; false with `why` set when a value is out of range.
bool decode_chain(reader& r, chain_state& c, std::string& why) {
  const auto flags = r.num(1);
  c.pinned = (flags & 1) != 0;
  const auto custody = r.num(1);
  const auto policy = r.num(1);
  if ((flags & 2) != 0) c.creator = r.id();
  if (r.ok() && (!valid_custody(custody) || !valid_policy(policy))) {
    why = "bad custody or policy";
    return false;
  }
  c.custody = static_cast<key_custody>(custody);
  c.policy = static_cast<group_policy>(policy);
  c.epoch = r.num(8);
  const auto n_members = r.count(16 + 32 + 1);
  for (std::uint64_t i = 0; i < n_members && r.ok(); ++i) {
    const auto user = r.id();
    crypto::member_entry m;
    m.kx_pk = r.arr<32>();
    const auto role = r.num(1);
    if (r.ok() && !valid_role(role)) {
      why = "bad role";
      return false;
    }
    m.role = static_cast<member_role>(role);
    c.members.insert_or_assign(user, m);
  }
  const auto n_history = r.count(8 + 32 + 32 + 1 + 4);
  for (std::uint64_t i = 0; i < n_history && r.ok(); ++i) {
    const auto e = r.num(8);
    verified_epoch h;
    h.manifest_hash = r.arr<32>();
    h.members_hash = r.arr<32>();
    h.member = (r.num(1) & 1) != 0;
    const auto n_roster = r.count(16);
    for (std::uint64_t j = 0; j < n_roster && r.ok(); ++j) h.roster.push_back(r.id());
    c.history.insert_or_assign(e, std::move(h));
  }
  return true;
}

bool decode_epoch(reader& r, std::uint64_t& e, epoch_keys& k, std::string& why) {
  e = r.num(8);
  k.key_id = r.id();
  const auto alg = r.num(1);
  if (r.ok() && !valid_alg(alg)) {
    why = "bad algorithm";
    return false;
  }
  k.alg = static_cast<aead_alg>(alg);
  k.issuer = r.id();
  auto own = r.secret<crypto::chain_key>();
  const auto own_next = static_cast<std::uint32_t>(r.num(4));
  k.own = crypto::sender_chain(std::move(own), own_next);
  const auto n_peers = r.count(16 + 32 + 4 + 2);
  for (std::uint64_t i = 0; i < n_peers && r.ok(); ++i) {
    const auto user = r.id();
    auto chain = r.secret<crypto::chain_key>();
    const auto next = static_cast<std::uint32_t>(r.num(4));
    crypto::receiver_chain rc(std::move(chain), next);
    const auto n_skipped = r.num(2);
    for (std::uint64_t j = 0; j < n_skipped && r.ok(); ++j) {
      const auto index = static_cast<std::uint32_t>(r.num(4));
      rc.restore_skipped(index, r.secret<crypto::aead_key>());
    }
    k.peers.insert_or_assign(user, std::move(rc));
  }
  return true;
}

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
  put_count(out, s.groups.size());
  for (const auto& [gid, g] : s.groups) {
    put(out, gid.view());
    const auto name = g.name.substr(0, 65535);
    put16(out, static_cast<std::uint16_t>(name.size()));
    put(out, as_bytes(name));
    put8(out, static_cast<std::uint8_t>(g.role));
    put8(out, static_cast<std::uint8_t>((g.seq_known ? 1 : 0) | (g.member ? 2 : 0)));
    put64(out, g.last_seq);
    put64(out, g.epoch);
    put64(out, g.member_count);
    encode_chain(out, g.chain);
    put_count(out, g.epochs.size());
    for (const auto& [e, k] : g.epochs) encode_epoch(out, e, k);
  }
  put_count(out, s.recent_directs.size());
  for (const auto& d : s.recent_directs) put(out, d.view());
  put_count(out, s.recent_encs.size());
  for (const auto& enc : s.recent_encs) put(out, enc);
  return out;
}

result<std::pair<crypto::identity, client_state>> decode_state(byte_view payload) {
  const auto bad = [](const std::string& why) {
    return error{errc::bad_format, "not a Sealcast client state file: " + why};
  };
  reader r(payload);
  auto m = r.take(4);
  if (!r.ok() || !std::equal(m.begin(), m.end(), magic.begin())) return bad("bad magic");
  const auto v = r.num(1);
  if (v != version)
    return bad("unsupported version " + std::to_string(v) + " (this client reads version " + std::to_string(version) +
               "; a state file of protocol v1 cannot be carried over: use a new one)");
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
  std::string why;
  const auto n_groups = r.count(16 + 2 + 1 + 1 + 8 + 8 + 8);
  for (std::uint64_t i = 0; i < n_groups && r.ok(); ++i) {
    const auto gid = r.id();
    group_entry g;
    const auto name_len = r.num(2);
    auto name = r.take(name_len);
    g.name.assign(name.begin(), name.end());
    const auto role = r.num(1);
    if (r.ok() && !valid_role(role)) return bad("bad role");
    g.role = static_cast<member_role>(role);
    const auto flags = r.num(1);
    g.seq_known = (flags & 1) != 0;
    g.member = (flags & 2) != 0;
    g.last_seq = r.num(8);
    g.epoch = r.num(8);
    g.member_count = r.num(8);
    if (!decode_chain(r, g.chain, why)) return bad(why);
    const auto n_epochs = r.count(8 + 16 + 1 + 16 + 32 + 4 + 4);
    for (std::uint64_t j = 0; j < n_epochs && r.ok(); ++j) {
      std::uint64_t e = 0;
      epoch_keys k;
      if (!decode_epoch(r, e, k, why)) return bad(why);
      g.epochs.insert_or_assign(e, std::move(k));
    }
    s.groups.insert_or_assign(gid, std::move(g));
  }
  const auto n_directs = r.count(16);
  for (std::uint64_t i = 0; i < n_directs && r.ok(); ++i) s.recent_directs.push_back(r.id());
  const auto n_encs = r.count(16);
  for (std::uint64_t i = 0; i < n_encs && r.ok(); ++i) s.recent_encs.push_back(r.arr<16>());
  if (!r.ok()) return bad("truncated");
  if (!r.at_end()) return bad("trailing bytes");
  return std::pair{std::move(*id), std::move(s)};
}

void skip_own_chains(client_state& s) {
  for (auto& [gid, g] : s.groups)
    for (auto& [e, k] : g.epochs) k.own.skip(restart_skip);
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
