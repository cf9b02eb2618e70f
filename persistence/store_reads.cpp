// Typed reads of users, groups, membership, epochs and wrapped keys.
#include "persistence/keys.hpp"
#include "persistence/store_impl.hpp"

namespace sealcast::persistence {

namespace {

// Paging by id: start at `after` and skip it, so each page begins right after the last one.
bytes page_start(const std::optional<id16>& after) { return after ? keys::id_key(*after) : bytes{}; }

bool is_after(const std::optional<id16>& after, const id16& id) { return after && *after == id; }

}  // namespace

result<user_record> store::get_user(const id16& user) const {
  const bytes key = keys::id_key(user);
  auto v = impl_->get(column_family::users, key);
  if (!v) return std::move(v).err();
  user_record r;
  r.id = user;
  return decode_row(column_family::users, key, as_bytes(*v), std::move(r));
}

result<std::vector<user_record>> store::scan_users(std::optional<id16> after, std::size_t limit) const {
  return impl_->collect<user_record>(
      column_family::users, {}, page_start(after), limit,
      [&](byte_view key, byte_view value) -> result<std::optional<user_record>> {
        auto id = keys::decode_id_key(key);
        if (!id) return std::move(id).err();
        if (is_after(after, *id)) return std::optional<user_record>{};
        user_record r;
        r.id = *id;
        auto row = decode_row(column_family::users, key, value, std::move(r));
        if (!row) return std::move(row).err();
        return std::optional<user_record>(std::move(*row));
      });
}

result<group_record> store::get_group(const id16& group) const {
  const bytes key = keys::id_key(group);
  auto v = impl_->get(column_family::groups, key);
  if (!v) return std::move(v).err();
  group_record r;
  r.id = group;
  return decode_row(column_family::groups, key, as_bytes(*v), std::move(r));
}

result<std::vector<group_record>> store::scan_groups(std::optional<id16> after, std::size_t limit) const {
  return impl_->collect<group_record>(
      column_family::groups, {}, page_start(after), limit,
      [&](byte_view key, byte_view value) -> result<std::optional<group_record>> {
        auto id = keys::decode_id_key(key);
        if (!id) return std::move(id).err();
        if (is_after(after, *id)) return std::optional<group_record>{};
        group_record r;
        r.id = *id;
        auto row = decode_row(column_family::groups, key, value, std::move(r));
        if (!row) return std::move(row).err();
        return std::optional<group_record>(std::move(*row));
      });
}

result<member_record> store::get_member(const id16& group, const id16& user) const {
  const bytes key = keys::encode(keys::member_key{group, user});
  auto v = impl_->get(column_family::members, key);
  if (!v) return std::move(v).err();
  member_record r;
  r.group = group;
  r.user = user;
  return decode_row(column_family::members, key, as_bytes(*v), r);
}

result<std::uint64_t> store::member_count(const id16& group) const {
  if (auto s = impl_->check_open(); !s) return s.err();
  // Keys only: no row is decoded (group listings ask this for every group on a page).
  const bytes prefix = keys::prefix(group);
  const bytes upper = prefix_successor(prefix);
  rocksdb::ReadOptions ro;
  const rocksdb::Slice upper_slice = to_slice(upper);
  if (!upper.empty()) ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(ro, impl_->handle(column_family::members)));
  std::uint64_t n = 0;
  for (it->Seek(to_slice(prefix)); it->Valid() && it->key().starts_with(to_slice(prefix)); it->Next()) ++n;
  if (!it->status().ok()) return to_error(it->status(), "counting members");
  return n;
}

result<std::vector<member_record>> store::members_of(const id16& group) const {
  const bytes prefix = keys::prefix(group);
  return impl_->collect<member_record>(
      column_family::members, prefix, prefix, no_limit,
      [](byte_view key, byte_view value) -> result<std::optional<member_record>> {
        auto k = keys::decode_member_key(key);
        if (!k) return std::move(k).err();
        member_record r;
        r.group = k->group;
        r.user = k->user;
        auto row = decode_row(column_family::members, key, value, r);
        if (!row) return std::move(row).err();
        return std::optional<member_record>(*row);
      });
}

result<std::vector<user_group_entry>> store::user_groups(const id16& user) const {
  const bytes prefix = keys::prefix(user);
  return impl_->collect<user_group_entry>(
      column_family::user_groups, prefix, prefix, no_limit,
      [](byte_view key, byte_view value) -> result<std::optional<user_group_entry>> {
        auto k = keys::decode_user_group_key(key);
        if (!k) return std::move(k).err();
        auto role = codec::decode_user_group(value);
        if (!role) return std::move(role).err();
        return std::optional<user_group_entry>(user_group_entry{k->group, *role});
      });
}

result<epoch_record> store::get_epoch(const id16& group, std::uint64_t epoch) const {
  const bytes key = keys::encode(keys::epoch_key{group, epoch});
  auto v = impl_->get(column_family::epochs, key);
  if (!v) return std::move(v).err();
  epoch_record r;
  r.group = group;
  r.epoch = epoch;
  return decode_row(column_family::epochs, key, as_bytes(*v), std::move(r));
}

result<std::vector<epoch_record>> store::epochs_of(const id16& group, std::uint64_t from_epoch) const {
  return impl_->collect<epoch_record>(
      column_family::epochs, keys::prefix(group), keys::encode(keys::epoch_key{group, from_epoch}), no_limit,
      [](byte_view key, byte_view value) -> result<std::optional<epoch_record>> {
        auto k = keys::decode_epoch_key(key);
        if (!k) return std::move(k).err();
        epoch_record r;
        r.group = k->group;
        r.epoch = k->epoch;
        auto row = decode_row(column_family::epochs, key, value, std::move(r));
        if (!row) return std::move(row).err();
        return std::optional<epoch_record>(std::move(*row));
      });
}

result<wrapped_key> store::get_wrapped_key(const id16& group, std::uint64_t epoch, const id16& user) const {
  const bytes key = keys::encode(keys::wrapped_key_key{group, epoch, user});
  auto v = impl_->get(column_family::wrapped_keys, key);
  if (!v) return std::move(v).err();
  auto blob = codec::decode_wrapped_key(as_bytes(*v));
  if (!blob) return error{blob.err().code, blob.err().message + " at " + describe_key(column_family::wrapped_keys, key)};
  return *blob;
}

namespace {

// Rows of wrapped_keys, optionally only one user's.
auto wrapped_key_rows(std::optional<id16> only_user) {
  return [only_user](byte_view key, byte_view value) -> result<std::optional<wrapped_key_entry>> {
    auto k = keys::decode_wrapped_key_key(key);
    if (!k) return std::move(k).err();
    if (only_user && k->user != *only_user) return std::optional<wrapped_key_entry>{};
    auto blob = codec::decode_wrapped_key(value);
    if (!blob) return std::move(blob).err();
    return std::optional<wrapped_key_entry>(wrapped_key_entry{k->epoch, k->user, *blob});
  };
}

}  // namespace

result<std::vector<wrapped_key_entry>> store::wrapped_keys_of_epoch(const id16& group, std::uint64_t epoch) const {
  const bytes prefix = keys::prefix(group, epoch);
  return impl_->collect<wrapped_key_entry>(column_family::wrapped_keys, prefix, prefix, no_limit,
                                           wrapped_key_rows(std::nullopt));
}

result<std::vector<wrapped_key_entry>> store::wrapped_keys_of_user(const id16& group, const id16& user,
                                                                   std::uint64_t from_epoch) const {
  // Keys are ordered by epoch then user, so this walks every member's key of each epoch; a group
  // has at most max_members per epoch, and catching up is rare.
  return impl_->collect<wrapped_key_entry>(column_family::wrapped_keys, keys::prefix(group),
                                           keys::prefix(group, from_epoch), no_limit, wrapped_key_rows(user));
}

}  // namespace sealcast::persistence
