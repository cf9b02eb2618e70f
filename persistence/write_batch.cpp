#include "persistence/write_batch.hpp"

#include <iterator>

#include "persistence/codec.hpp"
#include "persistence/keys.hpp"

namespace sealcast::persistence {

void write_batch::put(column_family cf, bytes key, bytes value) {
  bytes_ += key.size() + value.size();
  ops_.push_back(batch_op{cf, op_kind::put, std::move(key), std::move(value)});
}

void write_batch::del(column_family cf, bytes key) {
  bytes_ += key.size();
  ops_.push_back(batch_op{cf, op_kind::del, std::move(key), {}});
}

void write_batch::delete_range(column_family cf, bytes begin, bytes end) {
  bytes_ += begin.size() + end.size();
  ops_.push_back(batch_op{cf, op_kind::delete_range, std::move(begin), std::move(end)});
}

void write_batch::put_user(const user_record& r) {
  put(column_family::users, keys::id_key(r.id), codec::encode(r));
}

void write_batch::put_group(const group_record& r) {
  put(column_family::groups, keys::id_key(r.id), codec::encode(r));
}

void write_batch::put_member(const member_record& r) {
  put(column_family::members, keys::encode(keys::member_key{r.group, r.user}), codec::encode(r));
  put(column_family::user_groups, keys::encode(keys::user_group_key{r.user, r.group}),
      codec::encode_user_group(r.role));
}

void write_batch::put_member_cursor(const member_record& r) {
  put(column_family::members, keys::encode(keys::member_key{r.group, r.user}), codec::encode(r));
}

void write_batch::delete_member(const id16& group, const id16& user) {
  del(column_family::members, keys::encode(keys::member_key{group, user}));
  del(column_family::user_groups, keys::encode(keys::user_group_key{user, group}));
}

void write_batch::put_epoch(const epoch_record& r) {
  put(column_family::epochs, keys::encode(keys::epoch_key{r.group, r.epoch}), codec::encode(r));
}

void write_batch::put_wrapped_key(const id16& group, std::uint64_t epoch, const id16& user,
                                  const wrapped_key& blob) {
  put(column_family::wrapped_keys, keys::encode(keys::wrapped_key_key{group, epoch, user}),
      codec::encode_wrapped_key(blob));
}

void write_batch::delete_wrapped_keys(const id16& group, std::uint64_t from_epoch, std::uint64_t end_epoch) {
  // (group, epoch) is a prefix of every wrapped key of that epoch, so the range covers them all.
  delete_range(column_family::wrapped_keys, keys::prefix(group, from_epoch), keys::prefix(group, end_epoch));
}

void write_batch::put_message(const message_record& r) {
  put(column_family::messages, keys::encode(keys::message_key{r.group, r.seq}), codec::encode(r));
  put(column_family::message_ids, keys::id_key(r.id),
      codec::encode(message_locator{message_kind::group, r.group, r.seq}));
  ++message_delta_;
}

void write_batch::delete_message(const id16& group, std::uint64_t seq, const id16& message_id) {
  del(column_family::messages, keys::encode(keys::message_key{group, seq}));
  del(column_family::message_ids, keys::id_key(message_id));
  --message_delta_;
}

void write_batch::delete_messages(const id16& group, std::uint64_t from_seq, std::uint64_t end_seq,
                                  std::span<const id16> ids) {
  if (end_seq <= from_seq) return;
  delete_range(column_family::messages, keys::encode(keys::message_key{group, from_seq}),
               keys::encode(keys::message_key{group, end_seq}));
  for (const auto& id : ids) del(column_family::message_ids, keys::id_key(id));
  message_delta_ -= static_cast<std::int64_t>(ids.size());
}

void write_batch::settle_message(const message_outcome& o) {
  del(column_family::messages, keys::encode(keys::message_key{o.group, o.seq}));
  --message_delta_;
  put(column_family::message_ids, keys::id_key(o.id),
      codec::encode(message_locator{message_kind::settled, o.group, o.seq, o.settled_ms}));
  put(column_family::message_outcomes, keys::encode(keys::outcome_key{o.settled_ms, o.id}), codec::encode(o));
  // The failure rows of its recipients are in the outcome from now on.
  for (const auto& user : o.failed) del(column_family::delivery_failures, keys::encode(keys::failure_key{o.group, o.seq, user}));
}

void write_batch::put_delivery_failure(const id16& group, const delivery_failure& f) {
  put(column_family::delivery_failures, keys::encode(keys::failure_key{group, f.seq, f.user}), codec::encode(f));
}

void write_batch::delete_delivery_failures(const id16& group, std::uint64_t from_seq, std::uint64_t end_seq) {
  if (end_seq <= from_seq) return;
  // (group, seq) is a prefix of every failure row of that message.
  delete_range(column_family::delivery_failures, keys::prefix(group, from_seq), keys::prefix(group, end_seq));
}

void write_batch::put_direct(const direct_record& r) {
  put(column_family::directs, keys::encode(keys::direct_key{r.recipient, r.seq}), codec::encode(r));
  put(column_family::message_ids, keys::id_key(r.id),
      codec::encode(message_locator{message_kind::direct, r.recipient, r.seq}));
}

void write_batch::delete_direct(const id16& recipient, std::uint64_t seq, const id16& message_id) {
  del(column_family::directs, keys::encode(keys::direct_key{recipient, seq}));
  del(column_family::message_ids, keys::id_key(message_id));
}

void write_batch::put_event(const event_record& r) {
  put(column_family::events, keys::event_key(r.seq), codec::encode(r));
}

void write_batch::trim_events(std::uint64_t before_seq) {
  delete_range(column_family::events, keys::event_key(0), keys::event_key(before_seq));
}

void write_batch::put_meta(std::string_view name, byte_view value) {
  put(column_family::meta, keys::meta_key(name), bytes(value.begin(), value.end()));
}

void write_batch::put_meta_u64(std::string_view name, std::uint64_t value) {
  bytes v;
  put_u64be(v, value);
  put(column_family::meta, keys::meta_key(name), std::move(v));
}

void write_batch::delete_meta(std::string_view name) { del(column_family::meta, keys::meta_key(name)); }

void write_batch::append(write_batch&& other) {
  if (ops_.empty()) {
    ops_ = std::move(other.ops_);
  } else {
    ops_.insert(ops_.end(), std::make_move_iterator(other.ops_.begin()), std::make_move_iterator(other.ops_.end()));
  }
  bytes_ += other.bytes_;
  message_delta_ += other.message_delta_;
  other.clear();
}

void write_batch::clear() noexcept {
  ops_.clear();
  bytes_ = 0;
  message_delta_ = 0;
}

}  // namespace sealcast::persistence
