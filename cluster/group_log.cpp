#include "cluster/group_log.hpp"

#include <charconv>
#include <cstdlib>
#include <string>

namespace sealcast::cluster {

namespace {

constexpr const char* msg_id_header = "Nats-Msg-Id";

std::int64_t ns(std::chrono::nanoseconds d) { return d.count(); }

std::string subjects_text(const std::vector<std::string>& subjects) {
  std::string out;
  for (const auto& s : subjects) out += (out.empty() ? "" : ",") + s;
  return out;
}

}  // namespace

std::uint64_t record::group_seq() const noexcept {
  const auto dot = msg_id.rfind('.');
  if (dot == std::string::npos) return 0;
  std::uint64_t seq = 0;
  const char* first = msg_id.data() + dot + 1;
  const char* last = msg_id.data() + msg_id.size();
  auto [p, ec] = std::from_chars(first, last, seq);
  return (ec == std::errc() && p == last) ? seq : 0;
}

std::string_view record::header(std::string_view name) const noexcept {
  for (const auto& [k, v] : headers)
    if (k == name) return v;
  return {};
}

record to_record(natsMsg* msg) {
  record r;
  r.stream_seq = natsMsg_GetSequence(msg);
  r.time_ns = natsMsg_GetTime(msg);
  if (const char* s = natsMsg_GetSubject(msg); s != nullptr) r.subject = s;
  const auto* data = reinterpret_cast<const std::uint8_t*>(natsMsg_GetData(msg));
  if (data != nullptr) r.data.assign(data, data + natsMsg_GetDataLength(msg));
  const char** keys = nullptr;
  int count = 0;
  if (natsMsgHeader_Keys(msg, &keys, &count) == NATS_OK) {
    for (int i = 0; i < count; ++i) {
      const char** values = nullptr;
      int n = 0;
      if (natsMsgHeader_Values(msg, keys[i], &values, &n) != NATS_OK) continue;
      for (int j = 0; j < n; ++j) r.headers.emplace_back(keys[i], values[j]);
      std::free(static_cast<void*>(values));
    }
    std::free(static_cast<void*>(keys));
  }
  r.msg_id = std::string(r.header(msg_id_header));
  return r;
}

group_log::group_log(jsCtx* js, log_options o) : js_(js), o_(std::move(o)) {}

result<group_log> group_log::open(const nats_client& client, log_options o) {
  if (o.stream.empty() || o.subject_prefix.empty())
    return error{errc::config_error, "group log: the stream name and subject prefix must not be empty"};
  if (o.duplicates > o.max_age)
    return error{errc::config_error, "group log: the duplicates window cannot exceed max_age"};

  std::vector<std::string> subjects;
  if (o.partitions.empty()) {
    subjects.push_back(o.subject_prefix + ".*.*");
  } else {
    for (auto p : o.partitions) subjects.push_back(o.subject_prefix + "." + std::to_string(p) + ".*");
  }
  std::vector<const char*> subject_list;
  for (const auto& s : subjects) subject_list.push_back(s.c_str());

  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = o.stream.c_str();
  cfg.Subjects = subject_list.data();
  cfg.SubjectsLen = static_cast<int>(subject_list.size());
  cfg.Storage = js_FileStorage;
  cfg.Replicas = o.replicas;
  cfg.MaxAge = ns(o.max_age);
  cfg.Duplicates = ns(o.duplicates);
  cfg.AllowDirect = true;
  cfg.DenyDelete = true;  // a record leaves by age only: a hole in a group's seq would be a lie
  cfg.DenyPurge = true;

  jsStreamInfo* raw = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_AddStream(&raw, client.jetstream(), &cfg, nullptr, &code);
  nats_ptr<jsStreamInfo> info(raw);
  if (s == NATS_OK) return group_log(client.jetstream(), std::move(o));
  if (code != JSStreamNameExistErr) return nats_error(s, "group log: create stream " + o.stream, code);

  // It exists with another configuration: the parts that decide where records go must match.
  raw = nullptr;
  s = js_GetStreamInfo(&raw, client.jetstream(), o.stream.c_str(), nullptr, &code);
  info.reset(raw);
  if (s != NATS_OK) return nats_error(s, "group log: read stream " + o.stream, code);
  std::vector<std::string> have;
  for (int i = 0; i < info->Config->SubjectsLen; ++i) have.emplace_back(info->Config->Subjects[i]);
  if (have != subjects || info->Config->Replicas != o.replicas || !info->Config->AllowDirect)
    return error{errc::config_error, "group log: stream " + o.stream + " exists with subjects " + subjects_text(have) +
                                         " and " + std::to_string(info->Config->Replicas) + " replicas; wanted " +
                                         subjects_text(subjects) + " and " + std::to_string(o.replicas)};
  raw = nullptr;
  s = js_UpdateStream(&raw, client.jetstream(), &cfg, nullptr, &code);
  info.reset(raw);
  if (s != NATS_OK) return nats_error(s, "group log: update stream " + o.stream, code);
  return group_log(client.jetstream(), std::move(o));
}

std::string group_log::subject(std::uint32_t partition, const id16& group) const {
  return o_.subject_prefix + "." + std::to_string(partition) + "." + group.hex();
}

std::string group_log::msg_id(const id16& group, std::uint64_t seq) { return group.hex() + "." + std::to_string(seq); }

result<append_ack> group_log::append(std::uint32_t partition, const id16& group, std::uint64_t seq, byte_view data,
                                     const append_options& opt) const {
  if (seq == 0) return error{errc::bad_request, "group log: seq starts at 1"};
  const std::string subj = subject(partition, group);
  natsMsg* raw_msg = nullptr;
  natsStatus s = natsMsg_Create(&raw_msg, subj.c_str(), nullptr, reinterpret_cast<const char*>(data.data()),
                                static_cast<int>(data.size()));
  if (s != NATS_OK) return nats_error(s, "group log: message");
  nats_ptr<natsMsg> msg(raw_msg);
  for (const auto& [k, v] : opt.headers) {
    if (s = natsMsgHeader_Add(msg.get(), k.c_str(), v.c_str()); s != NATS_OK)
      return nats_error(s, "group log: header " + k);
  }

  const std::string id = msg_id(group, seq);
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MsgId = id.c_str();
  po.ExpectStream = o_.stream.c_str();  // a misrouted subject is an error, not a record elsewhere
  if (opt.expected_last_stream_seq) {
    if (*opt.expected_last_stream_seq == 0)
      po.ExpectNoMessage = true;
    else
      po.ExpectLastSubjectSeq = *opt.expected_last_stream_seq;
  }
  if (opt.timeout) po.MaxWait = opt.timeout->count();

  jsPubAck* raw_ack = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  s = js_PublishMsg(&raw_ack, js_, msg.get(), &po, &code);
  nats_ptr<jsPubAck> ack(raw_ack);
  if (s != NATS_OK) return nats_error(s, "group log: append " + id, code);
  return append_ack{ack->Duplicate ? append_outcome::duplicate : append_outcome::stored, ack->Sequence};
}

result<std::optional<record>> group_log::last(std::uint32_t partition, const id16& group) const {
  const std::string subj = subject(partition, group);
  natsMsg* raw = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetLastMsg(&raw, js_, o_.stream.c_str(), subj.c_str(), nullptr, &code);
  if (s == NATS_NOT_FOUND) return std::optional<record>();
  if (s != NATS_OK) return nats_error(s, "group log: last of " + subj, code);
  nats_ptr<natsMsg> msg(raw);
  return std::optional<record>(to_record(msg.get()));
}

result<record> group_log::get(std::uint64_t stream_seq) const {
  natsMsg* raw = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetMsg(&raw, js_, o_.stream.c_str(), stream_seq, nullptr, &code);
  if (s != NATS_OK) return nats_error(s, "group log: get " + std::to_string(stream_seq), code);
  nats_ptr<natsMsg> msg(raw);
  return to_record(msg.get());
}

result<std::vector<record>> group_log::read(std::uint32_t partition, const id16& group, std::uint64_t from_stream_seq,
                                            std::size_t max, std::uint64_t through) const {
  const std::string subj = subject(partition, group);
  std::vector<record> out;
  std::uint64_t next = from_stream_seq == 0 ? 1 : from_stream_seq;
  while (out.size() < max) {
    jsDirectGetMsgOptions dg;
    jsDirectGetMsgOptions_Init(&dg);
    dg.Sequence = next;
    dg.NextBySubject = subj.c_str();
    natsMsg* raw = nullptr;
    natsStatus s = js_DirectGetMsg(&raw, js_, o_.stream.c_str(), nullptr, &dg);
    if (s == NATS_NOT_FOUND) break;
    if (s != NATS_OK) return nats_error(s, "group log: read " + subj + " from " + std::to_string(next));
    nats_ptr<natsMsg> msg(raw);
    out.push_back(to_record(msg.get()));
    next = out.back().stream_seq + 1;
  }
  // The replica that answered may lag behind the leader: walk the leader up to `through`.
  for (; next <= through && out.size() < max; ++next) {
    auto r = get(next);
    if (!r) {
      if (r.err().code == errc::not_found) continue;  // expired, or another stream's hole
      return std::move(r).err();
    }
    if (r->subject == subj) out.push_back(std::move(*r));
  }
  return out;
}

result<std::string> group_log::leader() const {
  jsStreamInfo* raw = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&raw, js_, o_.stream.c_str(), nullptr, &code);
  if (s != NATS_OK) return nats_error(s, "group log: stream info " + o_.stream, code);
  nats_ptr<jsStreamInfo> info(raw);
  if (info->Cluster == nullptr || info->Cluster->Leader == nullptr) return std::string();
  return std::string(info->Cluster->Leader);
}

}  // namespace sealcast::cluster
