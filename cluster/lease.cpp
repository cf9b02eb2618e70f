#include "cluster/lease.hpp"

#include <algorithm>
#include <string>
#include <thread>

namespace sealcast::cluster {

namespace {

using std::chrono::steady_clock;

constexpr const char* kv_operation_header = "KV-Operation";  // DEL or PURGE on a tombstone

// The key alphabet of JetStream KV: it becomes one or more subject tokens.
bool valid_key(std::string_view key) {
  if (key.empty() || key.front() == '.' || key.back() == '.') return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '/' || c == '=' || c == '.';
  });
}

std::int64_t ns(std::chrono::milliseconds d) { return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count(); }

}  // namespace

lease_table::lease_table(jsCtx* js, lease_options o)
    : js_(js), o_(std::move(o)), stream_("KV_" + o_.bucket), subject_prefix_("$KV." + o_.bucket + ".") {}

result<lease_table> lease_table::open(const nats_client& client, lease_options o) {
  if (o.bucket.empty() || !valid_key(o.bucket) || o.bucket.find('.') != std::string::npos)
    return error{errc::config_error, "lease: bad bucket name '" + o.bucket + "'"};
  if (o.ttl < std::chrono::milliseconds(500) || o.margin <= std::chrono::milliseconds(0) || o.margin * 2 > o.ttl)
    return error{errc::config_error, "lease: the TTL must be at least 500 ms and the margin in (0, TTL/2]"};

  lease_table t(client.jetstream(), std::move(o));
  const std::string subjects = t.subject_prefix_ + ">";
  const char* subject_list[] = {subjects.c_str()};

  // The stream of a KV bucket, as js_CreateKeyValue would make it, except that message
  // deletion stays allowed: release deletes our own revision (see lease.hpp).
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = t.stream_.c_str();
  cfg.Subjects = subject_list;
  cfg.SubjectsLen = 1;
  cfg.MaxMsgsPerSubject = 1;
  cfg.MaxAge = ns(t.o_.ttl);
  cfg.Storage = js_FileStorage;
  cfg.Replicas = t.o_.replicas;
  cfg.Discard = js_DiscardNew;
  cfg.AllowRollup = true;
  cfg.DenyDelete = false;
  cfg.AllowDirect = true;

  jsStreamInfo* raw = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = NATS_OK;
  nats_ptr<jsStreamInfo> info;
  // Nodes starting together create the bucket at the same time: while one creation is being
  // replicated the others can get "unavailable" rather than success; they try again briefly.
  for (int attempt = 0;; ++attempt) {
    raw = nullptr;
    code = static_cast<jsErrCode>(0);
    s = js_AddStream(&raw, t.js_, &cfg, nullptr, &code);
    info.reset(raw);
    if (s == NATS_OK) return t;
    if (code == JSStreamNameExistErr) break;
    auto err = nats_error(s, "lease: create bucket " + t.o_.bucket, code);
    if (err.code != errc::unavailable || attempt == 9) return err;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }

  // It exists with another configuration: accept it only if the term is the same.
  raw = nullptr;
  s = js_GetStreamInfo(&raw, t.js_, t.stream_.c_str(), nullptr, &code);
  info.reset(raw);
  if (s != NATS_OK) return nats_error(s, "lease: read bucket " + t.o_.bucket, code);
  if (info->Config->MaxAge != cfg.MaxAge || info->Config->MaxMsgsPerSubject != 1 || info->Config->DenyDelete)
    return error{errc::config_error, "lease: bucket " + t.o_.bucket + " exists with another TTL or shape (max_age " +
                                         std::to_string(info->Config->MaxAge) + " ns, wanted " +
                                         std::to_string(cfg.MaxAge) + " ns)"};
  return t;
}

result<std::uint64_t> lease_table::put(std::string_view key, std::string_view holder, std::uint64_t last) const {
  const std::string subject = subject_prefix_ + std::string(key);
  jsPubOptions po;
  jsPubOptions_Init(&po);
  if (last == 0)
    po.ExpectNoMessage = true;
  else
    po.ExpectLastSubjectSeq = last;
  jsPubAck* raw = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_Publish(&raw, js_, subject.c_str(), holder.data(), static_cast<int>(holder.size()), &po, &code);
  nats_ptr<jsPubAck> ack(raw);
  if (s != NATS_OK) return nats_error(s, "lease: write " + std::string(key), code);
  return ack->Sequence;
}

result<nats_ptr<natsMsg>> lease_table::last_entry(std::string_view key) const {
  const std::string subject = subject_prefix_ + std::string(key);
  natsMsg* raw = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetLastMsg(&raw, js_, stream_.c_str(), subject.c_str(), nullptr, &code);
  if (s == NATS_NOT_FOUND) return nats_ptr<natsMsg>();
  if (s != NATS_OK) return nats_error(s, "lease: read " + std::string(key), code);
  return nats_ptr<natsMsg>(raw);
}

result<lease_grant> lease_table::acquire(std::string_view key, std::string_view holder) const {
  if (!valid_key(key)) return error{errc::bad_request, "lease: bad key '" + std::string(key) + "'"};
  // The deadline counts from before the request leaves: the server stamps the entry later.
  const auto sent = steady_clock::now();
  auto rev = put(key, holder, 0);
  if (!rev && rev.err().code == errc::conflict) {
    // Held, or a tombstone that someone else's kvStore_Delete/Purge left: only the latter is free.
    auto entry = last_entry(key);
    if (!entry) return std::move(entry).err();
    if (*entry == nullptr) return error{errc::unavailable, "lease: " + std::string(key) + " changed while acquiring"};
    const std::string op = header_value(entry->get(), kv_operation_header);
    if (op.empty()) {
      const natsMsg* m = entry->get();
      return error{errc::exists,
                   "lease: " + std::string(key) + " is held by '" +
                       std::string(natsMsg_GetData(m), static_cast<std::size_t>(natsMsg_GetDataLength(m))) +
                       "' at revision " + std::to_string(natsMsg_GetSequence(entry->get()))};
    }
    rev = put(key, holder, natsMsg_GetSequence(entry->get()));
    if (!rev && rev.err().code == errc::conflict)
      return error{errc::exists, "lease: " + std::string(key) + " was taken while acquiring"};
  }
  if (!rev) return std::move(rev).err();
  return lease_grant{std::string(key), std::string(holder), *rev, sent + o_.ttl - o_.margin};
}

result<lease_grant> lease_table::renew(const lease_grant& grant) const {
  const auto sent = steady_clock::now();
  auto rev = put(grant.key, grant.holder, grant.revision);
  if (!rev) {
    if (rev.err().code == errc::conflict)
      return error{errc::conflict, "lease: " + grant.key + " lost (revision " + std::to_string(grant.revision) +
                                       " is no longer the newest): " + rev.err().message};
    return std::move(rev).err();
  }
  return lease_grant{grant.key, grant.holder, *rev, sent + o_.ttl - o_.margin};
}

status lease_table::release(const lease_grant& grant) const {
  jsErrCode code = static_cast<jsErrCode>(0);
  // Deletes our revision only: if the lease moved on, our message is gone already (one message
  // per key) and nothing of the new holder's is touched.
  natsStatus s = js_DeleteMsg(js_, stream_.c_str(), grant.revision, nullptr, &code);
  if (s == NATS_OK) return {};
  error e = nats_error(s, "lease: release " + grant.key, code);
  // "no message found": it expired or was replaced, which is what release wanted.
  if (e.code == errc::not_found || code == JSStreamMsgDeleteFailed) return {};
  return e;
}

result<std::optional<lease_holder>> lease_table::holder(std::string_view key) const {
  if (!valid_key(key)) return error{errc::bad_request, "lease: bad key '" + std::string(key) + "'"};
  auto entry = last_entry(key);
  if (!entry) return std::move(entry).err();
  if (*entry == nullptr || !header_value(entry->get(), kv_operation_header).empty())
    return std::optional<lease_holder>();
  natsMsg* m = entry->get();
  return std::optional<lease_holder>(lease_holder{
      std::string(natsMsg_GetData(m), static_cast<std::size_t>(natsMsg_GetDataLength(m))), natsMsg_GetSequence(m)});
}

}  // namespace sealcast::cluster
