// Typed reads and deletions of group messages, direct messages and events.
#include "persistence/keys.hpp"
#include "persistence/store_impl.hpp"

namespace sealcast::persistence {

namespace {

result<std::optional<message_record>> message_row(byte_view key, byte_view value) {
  auto k = keys::decode_message_key(key);
  if (!k) return std::move(k).err();
  message_record r;
  r.group = k->group;
  r.seq = k->seq;
  auto row = decode_row(column_family::messages, key, value, std::move(r));
  if (!row) return std::move(row).err();
  return std::optional<message_record>(std::move(*row));
}

result<std::optional<direct_record>> direct_row(byte_view key, byte_view value) {
  auto k = keys::decode_direct_key(key);
  if (!k) return std::move(k).err();
  direct_record r;
  r.recipient = k->user;
  r.seq = k->seq;
  auto row = decode_row(column_family::directs, key, value, std::move(r));
  if (!row) return std::move(row).err();
  return std::optional<direct_record>(std::move(*row));
}

result<std::optional<event_record>> event_row(byte_view key, byte_view value) {
  auto seq = keys::decode_event_key(key);
  if (!seq) return std::move(seq).err();
  event_record r;
  r.seq = *seq;
  auto row = decode_row(column_family::events, key, value, std::move(r));
  if (!row) return std::move(row).err();
  return std::optional<event_record>(std::move(*row));
}

}  // namespace

result<message_record> store::get_message(const id16& group, std::uint64_t seq) const {
  const bytes key = keys::encode(keys::message_key{group, seq});
  auto v = impl_->get(column_family::messages, key);
  if (!v) return std::move(v).err();
  auto row = message_row(key, as_bytes(*v));
  if (!row) return std::move(row).err();
  return std::move(**row);
}

result<std::vector<message_record>> store::messages_of(const id16& group, std::uint64_t from_seq,
                                                       std::size_t limit) const {
  return impl_->collect<message_record>(column_family::messages, keys::prefix(group),
                                        keys::encode(keys::message_key{group, from_seq}), limit, message_row);
}

result<message_locator> store::find_message(const id16& message_id) const {
  const bytes key = keys::id_key(message_id);
  auto v = impl_->get(column_family::message_ids, key);
  if (!v) return std::move(v).err();
  return decode_row(column_family::message_ids, key, as_bytes(*v), message_locator{});
}

result<std::size_t> store::stage_message_deletion(write_batch& batch, const id16& group, std::uint64_t from_seq,
                                                  std::uint64_t end_seq) const {
  if (end_seq <= from_seq) return std::size_t{0};
  const bytes begin = keys::encode(keys::message_key{group, from_seq});
  const bytes end = keys::encode(keys::message_key{group, end_seq});
  // The id index is keyed by message id, not by seq, so its entries cannot be range-deleted:
  // read the range once for the ids.
  auto ids = impl_->collect<id16>(
      column_family::messages, keys::prefix(group), begin, no_limit,
      [](byte_view key, byte_view value) -> result<std::optional<id16>> {
        auto row = message_row(key, value);
        if (!row) return std::move(row).err();
        return std::optional<id16>((*row)->id);
      },
      end);
  if (!ids) return std::move(ids).err();
  batch.delete_messages(group, from_seq, end_seq, *ids);
  return ids->size();
}

result<std::size_t> store::delete_messages(const id16& group, std::uint64_t from_seq, std::uint64_t end_seq,
                                           bool sync) {
  write_batch batch;
  auto n = stage_message_deletion(batch, group, from_seq, end_seq);
  if (!n) return n;
  if (*n == 0) return n;
  if (auto s = write(batch, sync); !s) return s.err();
  return n;
}

result<message_outcome> store::get_message_outcome(const id16& message_id) const {
  auto loc = find_message(message_id);
  if (!loc) return std::move(loc).err();
  if (loc->kind != message_kind::settled)
    return error{errc::not_found, "message " + message_id.hex() + " is not settled"};
  const bytes key = keys::encode(keys::outcome_key{loc->settled_ms, message_id});
  auto v = impl_->get(column_family::message_outcomes, key);
  if (!v) return std::move(v).err();
  message_outcome o;
  o.settled_ms = loc->settled_ms;
  o.id = message_id;
  return decode_row(column_family::message_outcomes, key, as_bytes(*v), std::move(o));
}

result<std::vector<delivery_failure>> store::delivery_failures_of(const id16& group) const {
  return impl_->collect<delivery_failure>(
      column_family::delivery_failures, keys::prefix(group), keys::prefix(group), no_limit,
      [](byte_view key, byte_view value) -> result<std::optional<delivery_failure>> {
        auto k = keys::decode_failure_key(key);
        if (!k) return std::move(k).err();
        delivery_failure f;
        f.seq = k->seq;
        f.user = k->user;
        auto row = decode_row(column_family::delivery_failures, key, value, std::move(f));
        if (!row) return std::move(row).err();
        return std::optional<delivery_failure>(std::move(*row));
      });
}

namespace {

result<std::uint64_t> count_rows(const store::impl& im, column_family cf) {
  if (auto s = im.check_open(); !s) return s.err();
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;  // a one-off scan must not push the hot rows out of the block cache
  std::unique_ptr<rocksdb::Iterator> it(im.db->NewIterator(ro, im.handle(cf)));
  std::uint64_t n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  if (!it->status().ok()) return to_error(it->status(), "counting " + std::string(name_of(cf)));
  return n;
}

}  // namespace

result<std::uint64_t> store::count_messages() const { return get_meta_u64(meta_names::message_count); }

result<std::uint64_t> store::scan_message_count() const { return count_rows(*impl_, column_family::messages); }

result<std::uint64_t> store::count_outcomes() const { return count_rows(*impl_, column_family::message_outcomes); }

result<std::size_t> store::stage_outcome_trim(write_batch& batch, std::uint64_t before_ms, std::size_t limit) const {
  const bytes end = keys::encode(keys::outcome_key{before_ms, id16{}});
  auto rows = impl_->collect<keys::outcome_key>(
      column_family::message_outcomes, {}, {}, limit,
      [](byte_view key, byte_view) -> result<std::optional<keys::outcome_key>> {
        auto k = keys::decode_outcome_key(key);
        if (!k) return std::move(k).err();
        return std::optional<keys::outcome_key>(*k);
      },
      end);
  if (!rows) return std::move(rows).err();
  if (rows->empty()) return std::size_t{0};
  for (const auto& k : *rows) batch.del(column_family::message_ids, keys::id_key(k.id));
  // Up to and including the last row read: keys sort by time, then id.
  bytes upto = keys::encode(rows->back());
  upto.push_back(0);
  batch.delete_range(column_family::message_outcomes, keys::encode(keys::outcome_key{0, id16{}}), std::move(upto));
  return rows->size();
}

result<direct_record> store::get_direct(const id16& recipient, std::uint64_t seq) const {
  const bytes key = keys::encode(keys::direct_key{recipient, seq});
  auto v = impl_->get(column_family::directs, key);
  if (!v) return std::move(v).err();
  auto row = direct_row(key, as_bytes(*v));
  if (!row) return std::move(row).err();
  return std::move(**row);
}

result<std::vector<direct_record>> store::directs_of(const id16& recipient, std::uint64_t from_seq,
                                                     std::size_t limit) const {
  return impl_->collect<direct_record>(column_family::directs, keys::prefix(recipient),
                                       keys::encode(keys::direct_key{recipient, from_seq}), limit, direct_row);
}

result<std::vector<direct_record>> store::directs_from(const id16& recipient, std::uint64_t seq,
                                                      std::size_t limit) const {
  return impl_->collect<direct_record>(column_family::directs, {}, keys::encode(keys::direct_key{recipient, seq}),
                                       limit, direct_row);
}

status store::delete_direct(const id16& recipient, std::uint64_t seq, bool sync) {
  auto d = get_direct(recipient, seq);
  if (!d) return std::move(d).err();
  write_batch batch;
  batch.delete_direct(recipient, seq, d->id);
  return write(batch, sync);
}

result<std::vector<event_record>> store::events_from(std::uint64_t from_seq, std::size_t limit) const {
  return impl_->collect<event_record>(column_family::events, {}, keys::event_key(from_seq), limit, event_row);
}

namespace {

// The first or last key of the events family.
result<std::uint64_t> event_edge(const store::impl& p, bool last) {
  if (auto s = p.check_open(); !s) return s.err();
  std::unique_ptr<rocksdb::Iterator> it(p.db->NewIterator(rocksdb::ReadOptions(), p.handle(column_family::events)));
  if (last) {
    it->SeekToLast();
  } else {
    it->SeekToFirst();
  }
  if (!it->status().ok()) return to_error(it->status(), "scanning events");
  if (!it->Valid()) return error{errc::not_found, "no events are stored"};
  return keys::decode_event_key(to_view(it->key()));
}

}  // namespace

result<std::uint64_t> store::first_event_seq() const { return event_edge(*impl_, false); }

result<std::uint64_t> store::last_event_seq() const { return event_edge(*impl_, true); }

status store::trim_events(std::uint64_t before_seq, bool sync) {
  write_batch batch;
  batch.trim_events(before_seq);
  return write(batch, sync);
}

}  // namespace sealcast::persistence
