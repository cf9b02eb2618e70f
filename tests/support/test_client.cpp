#include "tests/support/test_client.hpp"

#include <algorithm>

#include "crypto/auth.hpp"
#include "crypto/direct.hpp"
#include "crypto/group_key.hpp"
#include "crypto/message.hpp"

namespace sealcast::test {

namespace {

using steady = std::chrono::steady_clock;

std::chrono::milliseconds left_until(steady::time_point deadline) {
  return std::max(std::chrono::milliseconds(0),
                  std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()));
}

/// The manifest a key frame describes, in crypto's terms.
crypto::manifest manifest_of(const protocol::server::key& k) {
  crypto::manifest m;
  m.group = k.group;
  m.epoch = k.epoch;
  m.key_id = k.key_id;
  m.alg = static_cast<crypto::aead_alg>(k.alg);
  m.prev_hash = k.manifest.prev_hash;
  for (const auto& mm : k.manifest.members)
    m.members.push_back({mm.user, bytes(mm.kx_pk.begin(), mm.kx_pk.end()), static_cast<crypto::member_role>(mm.role)});
  return m;
}

}  // namespace

std::string reply::describe() const {
  if (ok) return "ok " + ok->fields.json();
  if (error) return "error " + std::string(to_string(error->code)) + ": " + error->message;
  return "timeout";
}

test_client::test_client(crypto::identity id) : id_(std::move(id)) { know(id_.user_id(), id_.sign_pk()); }

// -- session ------------------------------------------------------------------------------------

void test_client::connect(std::uint16_t port, std::vector<std::string> subprotocols, bool tls) {
  ws_options o;
  o.port = port;
  o.tls = tls;
  o.subprotocols = std::move(subprotocols);
  std::string err;
  ws_ = ws_client::connect(o, &err);
  if (!ws_) throw protocol_failure("connect failed: " + err);
  buffer_.clear();
  auto first = ws_->read_text(5s);
  if (!first) throw protocol_failure("no challenge");
  auto f = protocol::parse_server_frame(*first);
  if (!f || !std::holds_alternative<protocol::server::challenge>(*f))
    throw protocol_failure("first frame is not a challenge: " + *first);
  challenge_ = std::get<protocol::server::challenge>(*f);
}

protocol::server::welcome test_client::hello(const std::string& name) {
  protocol::client::hello h;
  h.sign_pk = to_array<32>(id_.sign_pk());
  h.kx_pk = to_array<32>(id_.kx_pk());
  h.kx_sig = to_array<64>(id_.kx_sig());
  h.sig = to_array<64>(crypto::sign_auth(id_.signer(), challenge_.nonce, challenge_.broker));
  if (!name.empty()) h.name = name;
  send_raw(protocol::to_json(h));
  auto f = wait_for(
      [](const protocol::server_frame& x) {
        return std::holds_alternative<protocol::server::welcome>(x) ||
               std::holds_alternative<protocol::server::error>(x);
      },
      5s);
  if (!f) throw protocol_failure("no welcome");
  if (auto* e = std::get_if<protocol::server::error>(&*f)) throw protocol_failure("hello refused: " + e->message);
  return std::get<protocol::server::welcome>(*f);
}

protocol::server::welcome test_client::login(std::uint16_t port, const std::string& name) {
  connect(port);
  return hello(name);
}

void test_client::disconnect() {
  if (ws_) ws_->close();
  ws_.reset();
  buffer_.clear();
}

bool test_client::send_raw(const std::string& text) { return ws_ && ws_->send_text(text); }

// -- frames -------------------------------------------------------------------------------------

bool test_client::read_one(std::chrono::milliseconds timeout) {
  if (!ws_) return false;
  auto text = ws_->read_text(timeout);
  if (!text) return false;
  auto frames = protocol::parse_server_frames(*text);
  if (!frames)
    throw protocol_failure("unparseable frame from the broker (" + frames.err().message + "): " + text->substr(0, 300));
  for (auto& f : *frames) {
    if (auto* k = std::get_if<protocol::server::key>(&f)) on_key(*k);
    buffer_.push_back(std::move(f));
  }
  return true;
}

std::optional<protocol::server_frame> test_client::wait_for(
    const std::function<bool(const protocol::server_frame&)>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = steady::now() + timeout;
  std::size_t scanned = 0;
  for (;;) {
    for (; scanned < buffer_.size(); ++scanned) {
      if (!pred(buffer_[scanned])) continue;
      auto f = std::move(buffer_[scanned]);
      buffer_.erase(buffer_.begin() + static_cast<std::ptrdiff_t>(scanned));
      return f;
    }
    const auto left = left_until(deadline);
    if (left.count() == 0 || !read_one(left)) {
      if (left.count() == 0 || !ws_ || ws_->closed()) return std::nullopt;
    }
  }
}

std::vector<protocol::server_frame> test_client::drain(std::chrono::milliseconds window) {
  const auto deadline = steady::now() + window;
  const auto before = buffer_.size();
  while (left_until(deadline).count() > 0) {
    if (!read_one(left_until(deadline)) && (!ws_ || ws_->closed())) break;
  }
  return {buffer_.begin() + static_cast<std::ptrdiff_t>(before), buffer_.end()};
}

reply test_client::request(protocol::client_frame frame, std::chrono::milliseconds timeout) {
  const auto rid = next_rid();
  std::visit(
      [&](auto& f) {
        if constexpr (requires { f.rid; }) f.rid = rid;
      },
      frame);
  send_raw(protocol::to_json(frame));
  return await_reply(rid, timeout);
}

reply test_client::await_reply(const protocol::request_id& rid, std::chrono::milliseconds timeout) {
  reply r;
  auto f = wait_for(
      [&](const protocol::server_frame& x) {
        if (auto* ok = std::get_if<protocol::server::ok>(&x)) return ok->rid == rid;
        if (auto* e = std::get_if<protocol::server::error>(&x)) return e->rid == rid;
        return false;
      },
      timeout);
  if (!f) return r;
  if (auto* ok = std::get_if<protocol::server::ok>(&*f))
    r.ok = std::move(*ok);
  else
    r.error = std::get<protocol::server::error>(std::move(*f));
  return r;
}

reply test_client::request_json(const std::string& json_object, std::chrono::milliseconds timeout) {
  const auto rid = next_rid();
  std::string text = json_object;
  const auto brace = text.find('{');
  const auto next = text.find_first_not_of(" \t\n", brace + 1);
  const bool empty = next != std::string::npos && text[next] == '}';
  text.insert(brace + 1, "\"rid\":" + rid.json() + (empty ? "" : ","));
  send_raw(text);
  return await_reply(rid, timeout);
}

// -- keys ---------------------------------------------------------------------------------------

void test_client::on_key(const protocol::server::key& k) {
  const std::string where = "key " + k.group.hex() + "/" + std::to_string(k.epoch) + ": ";
  auto key = crypto::unwrap_group_key(id_.kx_sk(), k.group, k.epoch, k.key_id, k.wrapped);
  if (!key) {
    key_errors_.push_back(where + "unwrap failed: " + key.err().message);
    return;
  }
  epoch_key ek{*key, k, {}, false};
  const auto man = manifest_of(k);
  if (auto h = man.hash())
    ek.manifest_hash = *h;
  else
    key_errors_.push_back(where + "manifest does not hash: " + h.err().message);

  // The issuer: the broker (its key came with the challenge) or, in client custody, an admin.
  std::optional<bytes> issuer_pk;
  if (k.issuer == challenge_.broker)
    issuer_pk = bytes(challenge_.broker_pk.begin(), challenge_.broker_pk.end());
  else if (auto it = sign_pks_.find(k.issuer); it != sign_pks_.end())
    issuer_pk = it->second;
  if (k.custody == protocol::key_custody::broker && k.issuer != challenge_.broker)
    key_errors_.push_back(where + "broker custody key not issued by the broker");
  if (issuer_pk) {
    ek.manifest_verified = man.verify(k.manifest.sig, *issuer_pk).ok();
    if (!ek.manifest_verified) key_errors_.push_back(where + "manifest signature does not verify");
  }
  const bool listed = std::any_of(k.manifest.members.begin(), k.manifest.members.end(), [&](const auto& m) {
    return m.user == user_id() && std::equal(m.kx_pk.begin(), m.kx_pk.end(), id_.kx_pk().begin(), id_.kx_pk().end());
  });
  if (!listed) key_errors_.push_back(where + "this client is not in the manifest");
  // The hash chain, when the previous epoch is known.
  if (k.epoch == 1 && k.manifest.prev_hash != crypto::digest32{})
    key_errors_.push_back(where + "epoch 1 with a non-zero prev_hash");
  if (auto prev = keys_.find({k.group, k.epoch - 1});
      prev != keys_.end() && prev->second.manifest_hash != k.manifest.prev_hash)
    key_errors_.push_back(where + "prev_hash does not chain to the previous manifest");
  keys_.insert_or_assign({k.group, k.epoch}, std::move(ek));
}

bool test_client::wait_key(const id16& group, std::uint64_t epoch, std::chrono::milliseconds timeout) {
  const auto deadline = steady::now() + timeout;
  while (!key(group, epoch)) {
    if (left_until(deadline).count() == 0) return false;
    if (!read_one(left_until(deadline)) && (!ws_ || ws_->closed())) return false;
  }
  return true;
}

const epoch_key* test_client::key(const id16& group, std::uint64_t epoch) const {
  auto it = keys_.find({group, epoch});
  return it == keys_.end() ? nullptr : &it->second;
}

std::uint64_t test_client::current_epoch(const id16& group) const {
  std::uint64_t e = 0;
  for (const auto& [k, v] : keys_)
    if (k.first == group) e = std::max(e, k.second);
  return e;
}

id16 test_client::create_group(const std::string& name, const std::vector<id16>& members,
                               protocol::key_custody custody) {
  protocol::client::create_group c;
  c.name = name;
  c.members = members;
  c.custody = custody;
  return request(c).as<protocol::create_group_result>().group;
}

// -- group messages -----------------------------------------------------------------------------

protocol::client::publish test_client::make_publish(const id16& group, const std::string& plaintext,
                                                    std::optional<std::uint64_t> epoch,
                                                    std::optional<protocol::aead_alg> alg) {
  const auto e = epoch.value_or(current_epoch(group));
  const auto* ek = key(group, e);
  if (!ek) throw protocol_failure("no key for group " + group.hex() + " epoch " + std::to_string(e));
  const auto a = alg.value_or(ek->frame.alg);
  const crypto::message_context ctx{group, e, user_id(), static_cast<crypto::aead_alg>(a)};
  auto sealed = crypto::encrypt_message(id_.signer(), ek->key, ctx, as_bytes(plaintext));
  if (!sealed) throw protocol_failure("encrypt failed: " + sealed.err().message);
  protocol::client::publish p;
  p.group = group;
  p.epoch = e;
  p.alg = a;
  p.nonce = sealed->nonce;
  p.ct = sealed->ct;
  p.sig = to_array<64>(sealed->sig);
  return p;
}

reply test_client::publish(const id16& group, const std::string& plaintext, std::optional<std::uint64_t> epoch,
                           std::optional<protocol::aead_alg> alg) {
  return request(make_publish(group, plaintext, epoch, alg));
}

std::optional<bytes> test_client::sign_pk_of(const id16& user) {
  if (auto it = sign_pks_.find(user); it != sign_pks_.end()) return it->second;
  auto r = request(protocol::client::user_keys{{}, user});
  if (!r.is_ok()) return std::nullopt;
  auto k = r.as<protocol::user_keys_result>();
  bytes pk(k.sign_pk.begin(), k.sign_pk.end());
  if (crypto::user_id_of(pk) != user) return std::nullopt;  // ids are self-certifying
  sign_pks_[user] = pk;
  return pk;
}

result<std::string> test_client::decrypt(const protocol::server::message& m) {
  const auto* ek = key(m.group, m.epoch);
  if (!ek) return error{errc::not_found, "no key for epoch " + std::to_string(m.epoch)};
  auto pk = sign_pk_of(m.sender);
  if (!pk) return error{errc::unknown_user, "no signing key for sender " + m.sender.hex()};
  const crypto::message_context ctx{m.group, m.epoch, m.sender, static_cast<crypto::aead_alg>(m.alg)};
  auto pt = crypto::decrypt_message(*pk, ek->key, ctx, {m.nonce, m.ct, bytes(m.sig.begin(), m.sig.end())});
  if (!pt) return pt.err();
  return std::string(pt->begin(), pt->end());
}

bool test_client::ack(const id16& group, std::uint64_t seq) {
  return send_raw(protocol::to_json(protocol::client::ack{group, seq}));
}

// -- direct messages ----------------------------------------------------------------------------

reply test_client::send_direct(const id16& to, const std::string& plaintext) {
  auto r = request(protocol::client::user_keys{{}, to});
  auto k = r.as<protocol::user_keys_result>();
  const bytes sign_pk(k.sign_pk.begin(), k.sign_pk.end()), kx_pk(k.kx_pk.begin(), k.kx_pk.end());
  if (crypto::user_id_of(sign_pk) != to || !crypto::verify_kx_sig(sign_pk, kx_pk, k.kx_sig))
    throw protocol_failure("user_keys of " + to.hex() + " do not belong to that user");
  auto sealed = crypto::seal_direct(id_, to, kx_pk, as_bytes(plaintext));
  if (!sealed) throw protocol_failure("seal_direct failed: " + sealed.err().message);
  return request(protocol::client::direct{{}, to, sealed->sealed, to_array<64>(sealed->sig)});
}

result<std::string> test_client::open_direct(const protocol::server::direct& d) {
  auto pk = sign_pk_of(d.from);
  if (!pk) return error{errc::unknown_user, "no signing key for sender " + d.from.hex()};
  auto pt = crypto::open_direct(id_, d.from, *pk, {d.sealed, bytes(d.sig.begin(), d.sig.end())});
  if (!pt) return pt.err();
  return std::string(pt->begin(), pt->end());
}

bool test_client::ack_direct(const id16& id) { return send_raw(protocol::to_json(protocol::client::ack_direct{id})); }

// -- client custody -----------------------------------------------------------------------------

protocol::client::rekey test_client::make_rekey(const protocol::server::rekey_request& rq, protocol::aead_alg alg) {
  const auto k = crypto::generate_group_key();
  protocol::client::rekey r;
  r.group = rq.group;
  r.epoch = rq.epoch;
  r.key_id = crypto::key_id(rq.group, rq.epoch, k);
  r.alg = alg;
  crypto::manifest man;
  man.group = rq.group;
  man.epoch = rq.epoch;
  man.key_id = r.key_id;
  man.alg = static_cast<crypto::aead_alg>(alg);
  man.prev_hash = rq.prev_hash;
  for (const auto& m : rq.members) {
    man.members.push_back({m.user, bytes(m.kx_pk.begin(), m.kx_pk.end()), static_cast<crypto::member_role>(m.role)});
    auto w = crypto::wrap_group_key(m.kx_pk, rq.group, rq.epoch, k);
    if (!w) throw protocol_failure("wrap failed for " + m.user.hex() + ": " + w.err().message);
    r.wrapped[m.user] = to_array<80>(*w);
  }
  auto sig = man.sign(id_.signer());
  if (!sig) throw protocol_failure("manifest sign failed: " + sig.err().message);
  r.manifest_sig = to_array<64>(*sig);
  return r;
}

}  // namespace sealcast::test
