#include "persistence/codec.hpp"

#include <cstring>
#include <string>
#include <string_view>

namespace sealcast::persistence::codec {

namespace {

// Appends fields in order after the format byte.
class writer {
 public:
  writer() { out_.push_back(format_v1); }

  writer& u8(std::uint8_t v) {
    out_.push_back(v);
    return *this;
  }
  writer& flag(bool v) { return u8(v ? 1 : 0); }
  writer& u32(std::uint32_t v) {
    put_u32be(out_, v);
    return *this;
  }
  writer& u64(std::uint64_t v) {
    put_u64be(out_, v);
    return *this;
  }
  writer& id(const id16& v) {
    append(out_, v.view());
    return *this;
  }
  template <std::size_t N>
  writer& fixed(const std::array<std::uint8_t, N>& v) {
    out_.insert(out_.end(), v.begin(), v.end());
    return *this;
  }
  writer& blob(byte_view v) {
    put_u32be(out_, static_cast<std::uint32_t>(v.size()));
    append(out_, v);
    return *this;
  }
  writer& str(std::string_view v) { return blob(as_bytes(v)); }
  writer& opt_id(const std::optional<id16>& v) {
    flag(v.has_value());
    return v ? id(*v) : *this;
  }
  template <class E>
  writer& enumeration(E v) {
    return u8(static_cast<std::uint8_t>(v));
  }

  bytes take() { return std::move(out_); }

 private:
  bytes out_;
};

// Reads fields in order. The first failure sticks: later reads return zeros and finish()
// reports the first problem, so decoders read straight through without checking each step.
class reader {
 public:
  reader(byte_view in, std::string_view what) : in_(in), what_(what) {
    std::uint8_t format = 0;
    u8(format);
    if (!failed_ && format != format_v1) fail("unknown format byte " + std::to_string(format));
  }

  void u8(std::uint8_t& v) { v = take(1) ? in_[pos_ - 1] : 0; }
  void flag(bool& v) {
    std::uint8_t b = 0;
    u8(b);
    if (b > 1) fail("flag is neither 0 nor 1");
    v = b == 1;
  }
  void u32(std::uint32_t& v) { v = take(4) ? get_u32be(in_.data() + pos_ - 4) : 0; }
  void u64(std::uint64_t& v) { v = take(8) ? get_u64be(in_.data() + pos_ - 8) : 0; }
  void id(id16& v) { copy_to(v.b.data(), v.b.size()); }
  template <std::size_t N>
  void fixed(std::array<std::uint8_t, N>& v) {
    copy_to(v.data(), N);
  }
  void blob(bytes& v) {
    std::uint32_t n = 0;
    u32(n);
    // Checked against what is left before allocating: a garbage length never allocates.
    if (take(n)) {
      v.assign(in_.begin() + static_cast<std::ptrdiff_t>(pos_ - n), in_.begin() + static_cast<std::ptrdiff_t>(pos_));
    } else {
      v.clear();
    }
  }
  void str(std::string& v) {
    std::uint32_t n = 0;
    u32(n);
    if (take(n)) {
      v.assign(reinterpret_cast<const char*>(in_.data()) + (pos_ - n), n);
    } else {
      v.clear();
    }
  }
  void opt_id(std::optional<id16>& v) {
    bool present = false;
    flag(present);
    if (!present) {
      v.reset();
      return;
    }
    id16 x;
    id(x);
    v = x;
  }
  // Persisted enums are 1..max; anything else is garbage, not a future value we could guess.
  template <class E>
  void enumeration(E& v, std::uint8_t max) {
    std::uint8_t b = 0;
    u8(b);
    if (b < 1 || b > max) fail("enum value " + std::to_string(b) + " out of range");
    v = static_cast<E>(b);
  }
  [[nodiscard]] std::size_t remaining() const noexcept { return failed_ ? 0 : in_.size() - pos_; }

  [[nodiscard]] status finish() {
    if (!failed_ && pos_ != in_.size()) fail(std::to_string(in_.size() - pos_) + " trailing bytes");
    if (failed_) return error{errc::bad_format, std::string(what_) + " value: " + problem_};
    return {};
  }

  void fail(std::string problem) {
    if (failed_) return;
    failed_ = true;
    problem_ = std::move(problem);
  }

 private:
  bool take(std::size_t n) {
    if (failed_) return false;
    if (in_.size() - pos_ < n) {
      fail("truncated");
      return false;
    }
    pos_ += n;
    return true;
  }
  void copy_to(std::uint8_t* dst, std::size_t n) {
    if (take(n)) {
      std::memcpy(dst, in_.data() + pos_ - n, n);
    } else {
      std::memset(dst, 0, n);
    }
  }

  byte_view in_;
  std::string_view what_;
  std::size_t pos_ = 0;
  bool failed_ = false;
  std::string problem_;
};

constexpr std::uint8_t max_role = 3;
constexpr std::uint8_t max_policy = 2;
constexpr std::uint8_t max_custody = 2;
constexpr std::uint8_t max_kind = 3;
constexpr std::uint8_t max_outcome = 4;
// user(16) + kx_pk(32) + role(1): used to bound a member count before reserving.
constexpr std::size_t manifest_member_size = 49;
// Change lines: actions are 1..5, roles 0 (none) to 3.
constexpr std::uint8_t max_change_action = 5;
constexpr std::uint8_t max_change_role = 3;
// The smallest change: action(1) + user(16) + kx_pk(32) + role(1) + two absent flags.
constexpr std::size_t min_change_size = 52;

// A change: the fixed change line, then `by` and the proposal only when present, so broker
// custody changes cost 52 bytes. Absent parts decode as zeros.
void put_changes(writer& w, const std::vector<change_record>& changes) {
  w.u32(static_cast<std::uint32_t>(changes.size()));
  for (const auto& c : changes) {
    w.u8(c.action).id(c.user).fixed(c.kx_pk).u8(c.role).flag(c.has_by);
    if (c.has_by) w.id(c.by);
    w.flag(c.has_proposal);
    if (c.has_proposal) w.fixed(c.by_pk).fixed(c.sig);
  }
}

void get_changes(reader& in, std::vector<change_record>& out) {
  std::uint32_t n = 0;
  in.u32(n);
  out.clear();
  if (n > in.remaining() / min_change_size) {
    in.fail("change count " + std::to_string(n) + " exceeds the value");
    return;
  }
  out.resize(n);
  for (auto& c : out) {
    in.u8(c.action);
    if (c.action < 1 || c.action > max_change_action) {
      in.fail("change action " + std::to_string(c.action) + " out of range");
    }
    in.id(c.user);
    in.fixed(c.kx_pk);
    in.u8(c.role);
    if (c.role > max_change_role) in.fail("change role " + std::to_string(c.role) + " out of range");
    in.flag(c.has_by);
    c.by = {};
    if (c.has_by) in.id(c.by);
    in.flag(c.has_proposal);
    c.by_pk = {};
    c.sig = {};
    if (c.has_proposal) {
      in.fixed(c.by_pk);
      in.fixed(c.sig);
    }
  }
}

// A list of ids: u32 count, then the ids.
void put_ids(writer& w, const std::vector<id16>& ids) {
  w.u32(static_cast<std::uint32_t>(ids.size()));
  for (const auto& id : ids) w.id(id);
}

void get_ids(reader& in, std::vector<id16>& out) {
  std::uint32_t n = 0;
  in.u32(n);
  out.clear();
  if (n > in.remaining() / sizeof(id16::b)) {
    in.fail("id count " + std::to_string(n) + " exceeds the value");
    return;
  }
  out.resize(n);
  for (auto& id : out) in.id(id);
}

}  // namespace

bytes encode(const user_record& r) {
  return writer{}.fixed(r.sign_pk).fixed(r.kx_pk).fixed(r.kx_sig).str(r.name).u64(r.first_seen_ms)
      .u64(r.last_seen_ms).take();
}

status decode(byte_view value, user_record& out) {
  reader in(value, "user");
  in.fixed(out.sign_pk);
  in.fixed(out.kx_pk);
  in.fixed(out.kx_sig);
  in.str(out.name);
  in.u64(out.first_seen_ms);
  in.u64(out.last_seen_ms);
  return in.finish();
}

bytes encode(const group_record& r) {
  writer w;
  w.str(r.name).enumeration(r.policy).enumeration(r.custody).u32(r.max_members)
      .id(r.owner).u64(r.epoch).u64(r.next_seq).u64(r.created_ms).u64(r.epoch_created_ms)
      .u64(r.epoch_message_count).u64(r.pending_epoch).str(r.rekey_reason).flag(r.rekey_after_removal)
      .u64(r.rekey_requested_ms);
  put_changes(w, r.pending_changes);
  return w.take();
}

status decode(byte_view value, group_record& out) {
  reader in(value, "group");
  in.str(out.name);
  in.enumeration(out.policy, max_policy);
  in.enumeration(out.custody, max_custody);
  in.u32(out.max_members);
  in.id(out.owner);
  in.u64(out.epoch);
  in.u64(out.next_seq);
  in.u64(out.created_ms);
  in.u64(out.epoch_created_ms);
  in.u64(out.epoch_message_count);
  in.u64(out.pending_epoch);
  in.str(out.rekey_reason);
  in.flag(out.rekey_after_removal);
  in.u64(out.rekey_requested_ms);
  get_changes(in, out.pending_changes);
  return in.finish();
}

bytes encode(const member_record& r) {
  return writer{}.enumeration(r.role).u64(r.joined_ms).u64(r.acked_seq).u64(r.joined_seq).take();
}

status decode(byte_view value, member_record& out) {
  reader in(value, "member");
  in.enumeration(out.role, max_role);
  in.u64(out.joined_ms);
  in.u64(out.acked_seq);
  in.u64(out.joined_seq);
  return in.finish();
}

bytes encode(const epoch_record& r) {
  writer w;
  w.id(r.key_id).u8(r.alg).fixed(r.prev_hash).fixed(r.manifest_hash);
  w.u32(static_cast<std::uint32_t>(r.members.size()));
  for (const auto& m : r.members) w.id(m.user).fixed(m.kx_pk).enumeration(m.role);
  w.id(r.issuer).fixed(r.signature).enumeration(r.custody).enumeration(r.policy).flag(r.has_issuer_pk);
  if (r.has_issuer_pk) w.fixed(r.issuer_pk);
  put_changes(w, r.changes);
  w.u64(r.created_ms).u64(r.expires_ms).u64(r.message_count).flag(r.removal);
  return w.take();
}

status decode(byte_view value, epoch_record& out) {
  reader in(value, "epoch");
  in.id(out.key_id);
  in.u8(out.alg);
  in.fixed(out.prev_hash);
  in.fixed(out.manifest_hash);
  std::uint32_t n = 0;
  in.u32(n);
  out.members.clear();
  if (n > in.remaining() / manifest_member_size) {
    in.fail("member count " + std::to_string(n) + " exceeds the value");
  } else {
    out.members.resize(n);
    for (auto& m : out.members) {
      in.id(m.user);
      in.fixed(m.kx_pk);
      in.enumeration(m.role, max_role);
    }
  }
  in.id(out.issuer);
  in.fixed(out.signature);
  in.enumeration(out.custody, max_custody);
  in.enumeration(out.policy, max_policy);
  in.flag(out.has_issuer_pk);
  out.issuer_pk = {};
  if (out.has_issuer_pk) in.fixed(out.issuer_pk);
  get_changes(in, out.changes);
  in.u64(out.created_ms);
  in.u64(out.expires_ms);
  in.u64(out.message_count);
  in.flag(out.removal);
  return in.finish();
}

bytes encode(const message_record& r) {
  return writer{}.id(r.id).id(r.sender).u64(r.epoch).u32(r.index).u8(r.alg).blob(r.nonce).blob(r.ct).fixed(r.sig)
      .u64(r.ts_ms).u32(r.recipient_count).u32(r.delivery_attempts).take();
}

status decode(byte_view value, message_record& out) {
  reader in(value, "message");
  in.id(out.id);
  in.id(out.sender);
  in.u64(out.epoch);
  in.u32(out.index);
  in.u8(out.alg);
  in.blob(out.nonce);
  in.blob(out.ct);
  in.fixed(out.sig);
  in.u64(out.ts_ms);
  in.u32(out.recipient_count);
  in.u32(out.delivery_attempts);
  return in.finish();
}

// A settled locator carries one more field, the settle time that keys its outcome row.
bytes encode(const message_locator& r) {
  writer w;
  w.enumeration(r.kind).id(r.owner).u64(r.seq);
  if (r.kind == message_kind::settled) w.u64(r.settled_ms);
  return w.take();
}

status decode(byte_view value, message_locator& out) {
  reader in(value, "message_id");
  in.enumeration(out.kind, max_kind);
  in.id(out.owner);
  in.u64(out.seq);
  out.settled_ms = 0;
  if (out.kind == message_kind::settled) in.u64(out.settled_ms);
  return in.finish();
}

bytes encode(const message_outcome& r) {
  writer w;
  w.id(r.group).u64(r.seq).id(r.sender).u64(r.epoch).u64(r.ts_ms).enumeration(r.status)
      .u32(r.recipient_count).u32(r.delivery_attempts).u32(r.remaining_recipients);
  // The per-recipient lists are a tail that older rows lack (they decode with per_recipient false).
  if (r.per_recipient) {
    put_ids(w, r.delivered);
    put_ids(w, r.failed);
    put_ids(w, r.expired);
  }
  return w.take();
}

status decode(byte_view value, message_outcome& out) {
  reader in(value, "message_outcome");
  in.id(out.group);
  in.u64(out.seq);
  in.id(out.sender);
  in.u64(out.epoch);
  in.u64(out.ts_ms);
  in.enumeration(out.status, max_outcome);
  in.u32(out.recipient_count);
  in.u32(out.delivery_attempts);
  in.u32(out.remaining_recipients);
  out.per_recipient = in.remaining() > 0;
  out.delivered.clear();
  out.failed.clear();
  out.expired.clear();
  if (out.per_recipient) {
    get_ids(in, out.delivered);
    get_ids(in, out.failed);
    get_ids(in, out.expired);
  }
  return in.finish();
}

bytes encode(const delivery_failure& r) { return writer{}.u64(r.failed_ms).u32(r.attempts).take(); }

status decode(byte_view value, delivery_failure& out) {
  reader in(value, "delivery_failure");
  in.u64(out.failed_ms);
  in.u32(out.attempts);
  return in.finish();
}

bytes encode(const direct_record& r) {
  return writer{}.id(r.id).id(r.sender).blob(r.sealed).fixed(r.sig).u64(r.ts_ms).u32(r.attempts).take();
}

status decode(byte_view value, direct_record& out) {
  reader in(value, "direct");
  in.id(out.id);
  in.id(out.sender);
  in.blob(out.sealed);
  in.fixed(out.sig);
  in.u64(out.ts_ms);
  in.u32(out.attempts);
  return in.finish();
}

bytes encode(const event_record& r) {
  return writer{}.str(r.type).u64(r.ts_ms).opt_id(r.group).opt_id(r.user).opt_id(r.message).str(r.data)
      .take();
}

status decode(byte_view value, event_record& out) {
  reader in(value, "event");
  in.str(out.type);
  in.u64(out.ts_ms);
  in.opt_id(out.group);
  in.opt_id(out.user);
  in.opt_id(out.message);
  in.str(out.data);
  return in.finish();
}

bytes encode_user_group(member_role role) { return writer{}.enumeration(role).take(); }

result<member_role> decode_user_group(byte_view value) {
  reader in(value, "user_group");
  member_role role = member_role::member;
  in.enumeration(role, max_role);
  if (auto s = in.finish(); !s) return s.err();
  return role;
}

bytes encode_wrapped_key(const wrapped_key& blob) { return writer{}.fixed(blob).take(); }

result<wrapped_key> decode_wrapped_key(byte_view value) {
  reader in(value, "wrapped_key");
  wrapped_key blob{};
  in.fixed(blob);
  if (auto s = in.finish(); !s) return s.err();
  return blob;
}

}  // namespace sealcast::persistence::codec
