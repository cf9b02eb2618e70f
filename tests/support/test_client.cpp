#include "tests/support/test_client.hpp"

#include <algorithm>

#include "crypto/auth.hpp"
#include "crypto/direct.hpp"
#include "crypto/commit.hpp"
#include "crypto/group_key.hpp"
#include "crypto/message.hpp"

namespace sealcast::test {

namespace {

using steady = std::chrono::steady_clock;

std::chrono::milliseconds left_until(steady::time_point deadline) {
  return std::max(std::chrono::milliseconds(0),
                  std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()));
}

bool carries_key(protocol::change_action a) {
  return a == protocol::change_action::add || a == protocol::change_action::join;
}

crypto::message_context msg_context(const id16& group, std::uint64_t epoch, const id16& sender, std::uint32_t index,
                                    protocol::aead_alg alg) {
  crypto::message_context ctx;
  ctx.group = group;
  ctx.epoch = epoch;
  ctx.sender = sender;
  ctx.index = index;
  ctx.alg = alg;
  return ctx;
}

}  // namespace

/// What a key frame and a manifests entry share: everything section 6.6 checks but the unwrap.
struct test_client::epoch_claim {
  id16 group;
  std::uint64_t epoch = 0;
  id16 key_id;
  protocol::aead_alg alg = protocol::aead_alg::aes_256_gcm;
  protocol::key_custody custody = protocol::key_custody::broker;
  protocol::group_policy policy = protocol::group_policy::invite;
  id16 issuer;
  std::optional<key32> issuer_pk;
  sig64 sig{};
  const std::vector<protocol::change>* changes = nullptr;

  static epoch_claim of(const protocol::server::key& k) {
    return {k.group, k.epoch, k.key_id, k.alg, k.custody, k.policy, k.issuer, k.issuer_pk, k.sig, &k.changes};
  }
  static epoch_claim of(const id16& group, const protocol::manifest_entry& m) {
    return {group, m.epoch, m.key_id, m.alg, m.custody, m.policy, m.issuer, m.issuer_pk, m.sig, &m.changes};
  }
};

std::vector<crypto::change> to_crypto(const std::vector<protocol::change>& changes) {
  std::vector<crypto::change> out;
  out.reserve(changes.size());
  for (const auto& c : changes) out.push_back(to_crypto(c));
  return out;
}

std::string reply::describe() const {
  if (ok) return "ok " + ok->fields.json();
  if (error) return "error " + std::string(to_string(error->code)) + ": " + error->message;
  return "timeout";
}

test_client::test_client(crypto::identity id) : id_(std::move(id)) { know(id_.user_id(), id_.sign_pk(), id_.kx_pk()); }

void test_client::know(const id16& user, const bytes& sign_pk, const bytes& kx_pk) {
  auto& u = users_[user];
  u.sign_pk = sign_pk;
  if (!kx_pk.empty()) u.kx_pk = kx_pk;
}

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
  pending_keys_.clear();
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
  pending_keys_.clear();
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
  const bool single = frames->size() == 1;
  for (auto& f : *frames) {
    if (auto* k = std::get_if<protocol::server::key>(&f))
      pending_keys_.emplace_back(*k, single ? text->size() : protocol::to_json(*k).size());
    buffer_.push_back(std::move(f));
  }
  process_keys();
  return true;
}

void test_client::process_keys() {
  // Installing a key may need `manifests` first: that request reads on, and the key frames it
  // meets wait in pending_keys_ for this loop, so keys are installed in arrival order.
  if (processing_keys_) return;
  processing_keys_ = true;
  while (!pending_keys_.empty()) {
    auto [k, size] = std::move(pending_keys_.front());
    pending_keys_.pop_front();
    try {
      on_key(k);
      if (auto it = keys_.find({k.group, k.epoch}); it != keys_.end() && it->second.frame_bytes == 0)
        it->second.frame_bytes = size;
    } catch (const std::exception& e) {
      key_errors_.push_back("key " + k.group.hex() + "/" + std::to_string(k.epoch) + ": " + e.what());
    }
  }
  processing_keys_ = false;
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
  return {buffer_.begin() + static_cast<std::ptrdiff_t>(std::min(before, buffer_.size())), buffer_.end()};
}

reply test_client::request(protocol::client_frame frame, std::chrono::milliseconds timeout) {
  const auto rid = next_rid();
  std::optional<std::pair<protocol::key_custody, protocol::group_policy>> creating;
  if (auto* cg = std::get_if<protocol::client::create_group>(&frame)) creating.emplace(cg->custody, cg->policy);
  std::visit(
      [&](auto& f) {
        if constexpr (requires { f.rid; }) f.rid = rid;
      },
      frame);
  send_raw(protocol::to_json(frame));
  auto r = await_reply(rid, timeout);
  // The creator knows the context of its group before any manifest: it answers epoch 1's rekey.
  if (creating && r.is_ok())
    if (auto res = protocol::parse_ok_result<protocol::create_group_result>(*r.ok)) {
      auto& gv = groups_[res->group];
      gv.custody = creating->first;
      gv.policy = creating->second;
    }
  return r;
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

// -- keys and the group context (section 6.6) ---------------------------------------------------

result<verified_epoch> test_client::verify_epoch(const epoch_claim& c) {
  auto& gv = groups_[c.group];
  const bool pinned = gv.custody.has_value() && !gv.epochs.empty();
  if (pinned && (*gv.custody != c.custody || *gv.policy != c.policy))
    return error{errc::bad_request, "custody or policy differs from the pinned context"};
  const verified_epoch* prev = nullptr;
  if (c.epoch > 1) {
    auto it = gv.epochs.find(c.epoch - 1);
    if (it == gv.epochs.end())
      return error{errc::not_found, "epoch " + std::to_string(c.epoch - 1) + " is not verified"};
    prev = &it->second;
  }
  // The issuer: the broker in broker custody, an owner or admin of epoch e-1 in client custody.
  bytes issuer_pk;
  if (c.custody == protocol::key_custody::broker) {
    if (c.issuer != challenge_.broker) return error{errc::bad_request, "broker custody, issuer is not the broker"};
    issuer_pk.assign(challenge_.broker_pk.begin(), challenge_.broker_pk.end());
  } else {
    if (!c.issuer_pk) return error{errc::bad_request, "client custody without issuer_pk"};
    if (crypto::user_id_of(*c.issuer_pk) != c.issuer) return error{errc::bad_request, "issuer_pk is not the issuer's"};
    if (c.issuer == challenge_.broker || *c.issuer_pk == challenge_.broker_pk)
      return error{errc::bad_request, "client custody issued by the broker"};
    issuer_pk.assign(c.issuer_pk->begin(), c.issuer_pk->end());
  }
  // The changes, applied to epoch e-1's set with every proposal checked (apply_commit).
  const auto changes = to_crypto(*c.changes);
  crypto::commit_input in;
  in.group = c.group;
  in.epoch = c.epoch;
  in.custody = c.custody;
  in.policy = c.policy;
  in.issuer = c.issuer;
  in.prev = prev ? &prev->members : nullptr;
  in.changes = changes;
  auto set = crypto::apply_commit(in);
  if (!set) return error{set.err().code, "changes: " + set.err().message};
  // The manifest rebuilt from all of it verifies under the issuer's key.
  crypto::manifest m;
  m.group = c.group;
  m.epoch = c.epoch;
  m.key_id = c.key_id;
  m.alg = c.alg;
  m.custody = c.custody;
  m.policy = c.policy;
  m.issuer = c.issuer;
  if (prev) m.prev_hash = prev->manifest_hash;
  m.changes_hash = crypto::changes_hash(changes);
  m.members_hash = crypto::members_hash(*set);
  if (!m.verify(c.sig, issuer_pk)) return error{errc::bad_signature, "the manifest signature does not verify"};
  verified_epoch v;
  v.members = std::move(*set);
  v.manifest_hash = m.hash();
  v.changes = *c.changes;
  v.issuer = c.issuer;
  return v;
}

status test_client::sync_chain(const id16& group, std::uint64_t upto) {
  // From the first epoch not verified yet: epochs verified later (a member removed and added
  // again) are skipped, every other one is checked as a key frame is, but for the unwrap.
  std::uint64_t from = 1;
  while (groups_[group].epochs.contains(from)) ++from;
  while (from <= upto) {
    protocol::client::manifests q;
    q.group = group;
    q.from_epoch = from;
    auto r = request(q);
    if (!r.is_ok()) return error{r.code(), "manifests from " + std::to_string(from) + ": " + r.describe()};
    auto res = protocol::parse_ok_result<protocol::manifests_result>(*r.ok);
    if (!res) return error{errc::bad_request, "manifests result: " + res.err().message};
    if (res->manifests.empty()) return error{errc::not_found, "manifests from " + std::to_string(from) + " is empty"};
    for (const auto& entry : res->manifests) {
      if (entry.epoch != from)
        return error{errc::bad_request,
                     "manifests went from epoch " + std::to_string(from) + " to " + std::to_string(entry.epoch)};
      ++from;
      if (entry.epoch > upto) break;  // the key frame being installed verifies its own epoch
      if (groups_[group].epochs.contains(entry.epoch)) continue;
      auto v = verify_epoch(epoch_claim::of(group, entry));
      if (!v) return error{v.err().code, "manifest of epoch " + std::to_string(entry.epoch) + ": " + v.err().message};
      v->from_manifests = true;
      auto& gv = groups_[group];
      gv.custody = entry.custody;
      gv.policy = entry.policy;
      gv.epochs.emplace(entry.epoch, std::move(*v));
    }
    if (!res->next || from > upto) break;
    from = *res->next;
  }
  if (!groups_[group].epochs.contains(upto))
    return error{errc::not_found, "manifests ended before epoch " + std::to_string(upto)};
  return {};
}

void test_client::on_key(const protocol::server::key& k) {
  const std::string where = "key " + k.group.hex() + "/" + std::to_string(k.epoch) + ": ";
  auto& gv = groups_[k.group];
  bool verified_ok = true;
  auto fail = [&](const std::string& what) {
    key_errors_.push_back(where + what);
    verified_ok = false;
  };
  // 1. A new member (or one that missed epochs) replays the chain first, from epoch 1.
  if (k.epoch > 1 && !gv.epochs.contains(k.epoch) && !gv.epochs.contains(k.epoch - 1))
    if (auto s = sync_chain(k.group, k.epoch - 1); !s) fail("chain catch-up failed: " + s.err().message);
  // 2 to 5, or for an epoch already replayed: the same manifest hash.
  auto v = verify_epoch(epoch_claim::of(k));
  verified_epoch* ve = nullptr;
  if (!v) {
    fail(v.err().message);
  } else if (auto it = groups_[k.group].epochs.find(k.epoch); it != groups_[k.group].epochs.end()) {
    if (it->second.manifest_hash != v->manifest_hash) fail("manifest hash differs from the verified one");
    ve = &it->second;
  } else {
    auto& g = groups_[k.group];
    g.custody = k.custody;
    g.policy = k.policy;
    ve = &g.epochs.emplace(k.epoch, std::move(*v)).first->second;
  }
  // 6. This client is in the new set with its own key; the wrapped key opens and matches key_id.
  if (ve) {
    auto me = ve->members.find(user_id());
    if (me == ve->members.end() ||
        !std::equal(me->second.kx_pk.begin(), me->second.kx_pk.end(), id_.kx_pk().begin(), id_.kx_pk().end()))
      fail("this client is not in the epoch's member set with its kx_pk");
  }
  auto key = crypto::unwrap_group_key(id_.kx_sk(), k.group, k.epoch, k.key_id, k.wrapped);
  if (!key) {
    fail("unwrap failed: " + key.err().message);
    return;
  }
  if (auto it = keys_.find({k.group, k.epoch}); it != keys_.end() && it->second.frame.key_id == k.key_id) {
    return;  // the same key again (a reconnect): the chains move on, they do not restart
  }
  epoch_key ek{*key, k, {}, {}, false, 0, {}, {}};
  if (ve) {
    ek.members = ve->members;
    ek.manifest_hash = ve->manifest_hash;
  }
  ek.manifest_verified = verified_ok;
  // Section 7.1: a chain per member of the epoch, seeded from K_e.
  for (const auto& [user, entry] : ek.members)
    ek.receivers.emplace(user, crypto::receiver_chain(crypto::initial_chain(*key, user), 0));
  ek.own = crypto::sender_chain(crypto::initial_chain(*key, user_id()), 0);
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

const verified_epoch* test_client::verified(const id16& group, std::uint64_t epoch) const {
  auto g = groups_.find(group);
  if (g == groups_.end()) return nullptr;
  auto it = g->second.epochs.find(epoch);
  return it == g->second.epochs.end() ? nullptr : &it->second;
}

std::optional<std::pair<protocol::key_custody, protocol::group_policy>> test_client::pinned(const id16& group) const {
  auto g = groups_.find(group);
  if (g == groups_.end() || g->second.epochs.empty() || !g->second.custody) return std::nullopt;
  return std::pair{*g->second.custody, *g->second.policy};
}

id16 test_client::create_group(const std::string& name, const std::vector<id16>& members, protocol::key_custody custody,
                               protocol::group_policy policy) {
  protocol::client::create_group c;
  c.name = name;
  c.policy = policy;
  c.custody = custody;
  if (custody == protocol::key_custody::broker) c.members = members;
  const auto g = request(c).as<protocol::create_group_result>().group;
  if (custody == protocol::key_custody::broker) return g;
  // Client custody: the genesis, then the members, each with its own proposal, in one commit.
  auto genesis = commit(g);
  if (!genesis) throw protocol_failure("genesis commit: " + genesis.err().message);
  if (!wait_key(g, 1)) throw protocol_failure("no key frame for epoch 1 after the genesis commit");
  if (members.empty()) return g;
  for (const auto& m : members) {
    auto r = add_member(g, m);
    if (!r.is_ok()) throw protocol_failure("add_member " + m.hex() + ": " + r.describe());
  }
  auto e = commit(g);
  if (!e) throw protocol_failure("commit of the added members: " + e.err().message);
  if (!wait_key(g, *e)) throw protocol_failure("no key frame for epoch " + std::to_string(*e));
  return g;
}

// -- group messages -----------------------------------------------------------------------------

protocol::client::publish test_client::make_publish(const id16& group, const std::string& plaintext,
                                                    std::optional<std::uint64_t> epoch,
                                                    std::optional<protocol::aead_alg> alg) {
  const auto e = epoch.value_or(current_epoch(group));
  auto it = keys_.find({group, e});
  if (it == keys_.end()) throw protocol_failure("no key for group " + group.hex() + " epoch " + std::to_string(e));
  auto& ek = it->second;
  auto next = ek.own.next();
  if (!next) throw protocol_failure("sender chain: " + next.err().message);
  const auto a = alg.value_or(ek.frame.alg);
  const auto ctx = msg_context(group, e, user_id(), next->first, a);
  auto sealed = crypto::encrypt_message(id_.signer(), next->second, ctx, as_bytes(plaintext));
  if (!sealed) throw protocol_failure("encrypt failed: " + sealed.err().message);
  protocol::client::publish p;
  p.group = group;
  p.epoch = e;
  p.index = next->first;
  p.alg = a;
  p.nonce = sealed->nonce;
  p.ct = sealed->ct;
  p.sig = to_array<64>(sealed->sig);
  return p;
}

protocol::client::publish test_client::make_publish_at(const id16& group, std::uint64_t epoch, std::uint32_t index,
                                                       const std::string& plaintext) {
  const auto* ek = key(group, epoch);
  if (!ek) throw protocol_failure("no key for group " + group.hex() + " epoch " + std::to_string(epoch));
  auto chain = crypto::initial_chain(ek->key, user_id());
  for (std::uint32_t i = 0; i < index; ++i) chain = crypto::chain_advance(chain);
  const auto ctx = msg_context(group, epoch, user_id(), index, ek->frame.alg);
  auto sealed = crypto::encrypt_message(id_.signer(), crypto::chain_message_key(chain), ctx, as_bytes(plaintext));
  if (!sealed) throw protocol_failure("encrypt failed: " + sealed.err().message);
  protocol::client::publish p;
  p.group = group;
  p.epoch = epoch;
  p.index = index;
  p.alg = ek->frame.alg;
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
  if (auto it = users_.find(user); it != users_.end() && !it->second.sign_pk.empty()) return it->second.sign_pk;
  auto r = request(protocol::client::user_keys{{}, user});
  if (!r.is_ok()) return std::nullopt;
  auto k = r.as<protocol::user_keys_result>();
  bytes pk(k.sign_pk.begin(), k.sign_pk.end());
  bytes kx(k.kx_pk.begin(), k.kx_pk.end());
  if (crypto::user_id_of(pk) != user) return std::nullopt;  // ids are self-certifying
  know(user, pk, crypto::verify_kx_sig(pk, kx, k.kx_sig) ? kx : bytes{});
  return pk;
}

std::optional<key32> test_client::kx_pk_of(const id16& user) {
  if (auto it = users_.find(user); it != users_.end() && !it->second.kx_pk.empty())
    return to_array<32>(it->second.kx_pk);
  auto r = request(protocol::client::user_keys{{}, user});
  if (!r.is_ok()) return std::nullopt;
  auto k = r.as<protocol::user_keys_result>();
  const bytes pk(k.sign_pk.begin(), k.sign_pk.end()), kx(k.kx_pk.begin(), k.kx_pk.end());
  if (crypto::user_id_of(pk) != user || !crypto::verify_kx_sig(pk, kx, k.kx_sig)) return std::nullopt;
  know(user, pk, kx);
  return k.kx_pk;
}

result<std::string> test_client::decrypt(const protocol::server::message& m) {
  auto it = keys_.find({m.group, m.epoch});
  if (it == keys_.end()) return error{errc::not_found, "no key for epoch " + std::to_string(m.epoch)};
  auto& ek = it->second;
  auto pk = sign_pk_of(m.sender);
  if (!pk) return error{errc::unknown_user, "no signing key for sender " + m.sender.hex()};
  const auto ctx = msg_context(m.group, m.epoch, m.sender, m.index, m.alg);
  const crypto::sealed_message sealed{m.nonce, m.ct, bytes(m.sig.begin(), m.sig.end())};
  if (auto s = crypto::verify_message_sig(*pk, ctx, sealed); !s) return s.err();
  auto chain = ek.receivers.find(m.sender);
  if (chain == ek.receivers.end())
    return error{errc::not_member,
                 "sender " + m.sender.hex() + " is not in epoch " + std::to_string(m.epoch) + "'s set"};
  auto mk = chain->second.take(m.index);
  if (!mk) return error{mk.err().code, "index " + std::to_string(m.index) + ": " + mk.err().message};
  auto pt = crypto::decrypt_message(*mk, ctx, sealed);
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

// -- membership ---------------------------------------------------------------------------------

std::pair<protocol::key_custody, protocol::group_policy> test_client::context_of(const id16& group) {
  if (auto it = groups_.find(group); it != groups_.end() && it->second.custody)
    return {*it->second.custody, *it->second.policy};
  auto info = request(protocol::client::group_info{{}, group});
  if (!info.is_ok()) throw protocol_failure("group_info of " + group.hex() + ": " + info.describe());
  auto res = info.as<protocol::group_info_result>();
  // A hint only: the context is pinned by the first manifest this client verifies.
  auto& gv = groups_[group];
  gv.custody = res.custody;
  gv.policy = res.policy;
  return {res.custody, res.policy};
}

std::uint64_t test_client::proposal_epoch(const id16& group) {
  if (auto e = current_epoch(group); e > 0) return e;
  auto info = request(protocol::client::group_info{{}, group});
  return info.is_ok() ? info.as<protocol::group_info_result>().epoch : 0;
}

crypto::change test_client::change_for(protocol::change_action action, const id16& user,
                                       std::optional<protocol::member_role> role) {
  crypto::change c;
  c.action = static_cast<crypto::change_action>(static_cast<std::uint8_t>(action));
  c.user = user;
  if (carries_key(action)) {
    auto kx = kx_pk_of(user);
    if (!kx) throw protocol_failure("no verified kx_pk for " + user.hex());
    c.kx_pk = *kx;
    c.role = role.value_or(protocol::member_role::member);
  } else if (action == protocol::change_action::role) {
    c.role = role;
  }
  return c;
}

sig64 test_client::propose(const id16& group, std::uint64_t epoch, const crypto::change& c) const {
  return crypto::sign_proposal(id_.signer(), group, epoch, c);
}

protocol::client::add_member test_client::make_add_member(const id16& group, const id16& user,
                                                          protocol::member_role role,
                                                          std::optional<std::uint64_t> epoch) {
  protocol::client::add_member a;
  a.group = group;
  a.user = user;
  a.role = role;
  if (context_of(group).first == protocol::key_custody::client) {
    a.epoch = epoch.value_or(proposal_epoch(group));
    a.proposal = propose(group, *a.epoch, change_for(protocol::change_action::add, user, role));
  }
  return a;
}

protocol::client::remove_member test_client::make_remove_member(const id16& group, const id16& user,
                                                                std::optional<std::uint64_t> epoch) {
  protocol::client::remove_member r;
  r.group = group;
  r.user = user;
  if (context_of(group).first == protocol::key_custody::client) {
    r.epoch = epoch.value_or(proposal_epoch(group));
    r.proposal = propose(group, *r.epoch, change_for(protocol::change_action::remove, user));
  }
  return r;
}

protocol::client::set_role test_client::make_set_role(const id16& group, const id16& user, protocol::member_role role,
                                                      std::optional<std::uint64_t> epoch) {
  protocol::client::set_role s;
  s.group = group;
  s.user = user;
  s.role = role;
  if (context_of(group).first == protocol::key_custody::client) {
    s.epoch = epoch.value_or(proposal_epoch(group));
    s.proposal = propose(group, *s.epoch, change_for(protocol::change_action::role, user, role));
  }
  return s;
}

protocol::client::join test_client::make_join(const id16& group, std::optional<std::uint64_t> epoch) {
  protocol::client::join j;
  j.group = group;
  if (context_of(group).first == protocol::key_custody::client) {
    j.epoch = epoch.value_or(proposal_epoch(group));
    j.proposal = propose(group, *j.epoch, change_for(protocol::change_action::join, user_id()));
  }
  return j;
}

protocol::client::leave test_client::make_leave(const id16& group, std::optional<std::uint64_t> epoch) {
  protocol::client::leave l;
  l.group = group;
  if (context_of(group).first == protocol::key_custody::client) {
    l.epoch = epoch.value_or(proposal_epoch(group));
    l.proposal = propose(group, *l.epoch, change_for(protocol::change_action::leave, user_id()));
  }
  return l;
}

reply test_client::add_member(const id16& group, const id16& user, protocol::member_role role,
                              std::optional<std::uint64_t> epoch) {
  return request(make_add_member(group, user, role, epoch));
}

reply test_client::remove_member(const id16& group, const id16& user, std::optional<std::uint64_t> epoch) {
  return request(make_remove_member(group, user, epoch));
}

reply test_client::set_role(const id16& group, const id16& user, protocol::member_role role,
                            std::optional<std::uint64_t> epoch) {
  return request(make_set_role(group, user, role, epoch));
}

reply test_client::join(const id16& group, std::optional<std::uint64_t> epoch) {
  return request(make_join(group, epoch));
}

reply test_client::leave(const id16& group, std::optional<std::uint64_t> epoch) {
  return request(make_leave(group, epoch));
}

// -- client custody: commits (section 6.4) ------------------------------------------------------

result<crypto::member_set> test_client::check_rekey_request(const protocol::server::rekey_request& rq) {
  const auto [custody, policy] = context_of(rq.group);
  if (custody != protocol::key_custody::client) return error{errc::bad_request, "not a client-custody group"};
  if (rq.epoch == 0) return error{errc::bad_request, "epoch 0 is never committed"};
  // 1. The verified set of epoch e (catching up first) and prev_hash against it.
  const crypto::member_set* prev = nullptr;
  crypto::digest32 prev_hash{};
  if (rq.epoch > 1) {
    if (!verified(rq.group, rq.epoch - 1))
      if (auto s = sync_chain(rq.group, rq.epoch - 1); !s) return s.err();
    const auto* v = verified(rq.group, rq.epoch - 1);
    prev = &v->members;
    prev_hash = v->manifest_hash;
  }
  if (rq.prev_hash != prev_hash) return error{errc::bad_request, "prev_hash is not the verified epoch's manifest hash"};
  // 2. Each add or join names the subject's own key (the genesis names this client's).
  std::vector<crypto::change> changes;
  for (const auto& c : rq.changes) {
    auto cc = to_crypto(c);
    if (carries_key(c.action)) {
      if (c.user == user_id() && (!c.kx_pk || *c.kx_pk == to_array<32>(id_.kx_pk()))) {
        cc.kx_pk = to_array<32>(id_.kx_pk());
      } else {
        if (!c.kx_pk || !c.sign_pk || !c.kx_sig) return error{errc::bad_request, "an add or join without its keys"};
        if (crypto::user_id_of(*c.sign_pk) != c.user || !crypto::verify_kx_sig(*c.sign_pk, *c.kx_pk, *c.kx_sig))
          return error{errc::bad_signature, "kx_pk of " + c.user.hex() + " is not bound to that user"};
      }
    }
    changes.push_back(std::move(cc));
  }
  crypto::commit_input in;
  in.group = rq.group;
  in.epoch = rq.epoch;
  in.custody = custody;
  in.policy = policy;
  in.issuer = user_id();
  in.prev = prev;
  in.changes = changes;
  return crypto::apply_commit(in);
}

protocol::client::rekey test_client::make_rekey(const protocol::server::rekey_request& rq, protocol::aead_alg alg) {
  auto set = check_rekey_request(rq);
  if (!set) throw protocol_failure("an honest committer refuses this rekey_request: " + set.err().message);
  std::vector<crypto::change> changes;
  for (const auto& c : rq.changes) {
    auto cc = to_crypto(c);
    if (carries_key(c.action) && !c.kx_pk) cc.kx_pk = to_array<32>(id_.kx_pk());  // the genesis, checked above
    changes.push_back(std::move(cc));
  }
  crypto::commit_spec spec{rq.group, rq.epoch, alg, context_of(rq.group).second, rq.prev_hash, changes, &*set};
  auto sealed = crypto::seal_commit(id_.signer(), spec);
  if (!sealed) throw protocol_failure("an honest committer cannot seal this commit: " + sealed.err().message);
  protocol::client::rekey r;
  r.group = rq.group;
  r.epoch = rq.epoch;
  r.key_id = sealed->man.key_id;
  r.alg = alg;
  r.changes = rq.changes.size();
  r.sig = sealed->sig;
  r.wrapped = std::move(sealed->wrapped);
  return r;
}

std::optional<protocol::server::rekey_request> test_client::rekey_request(const id16& group,
                                                                          std::chrono::milliseconds timeout) {
  const auto held = current_epoch(group);
  auto is_for_group = [&](const protocol::server_frame& x) {
    auto* r = std::get_if<protocol::server::rekey_request>(&x);
    return r && r->group == group;
  };
  std::optional<protocol::server::rekey_request> newest;
  const auto deadline = steady::now() + timeout;
  while (!newest) {
    auto f = wait_for(is_for_group, left_until(deadline));
    if (!f) return std::nullopt;
    auto rq = std::get<protocol::server::rekey_request>(std::move(*f));
    if (rq.epoch > held) newest = std::move(rq);  // else committed already (by this or another admin)
  }
  while (auto more = wait_for(is_for_group, std::chrono::milliseconds(0))) {
    auto rq = std::get<protocol::server::rekey_request>(std::move(*more));
    if (rq.epoch > held) newest = std::move(rq);
  }
  return newest;
}

reply test_client::answer(const protocol::server::rekey_request& rq) {
  protocol::client::rekey rk;
  try {
    rk = make_rekey(rq);
  } catch (const protocol_failure& e) {
    reply refused;
    refused.error = protocol::server::error{std::nullopt, errc::bad_rekey, std::string("not sent: ") + e.what()};
    return refused;
  }
  return request(rk);
}

result<std::uint64_t> test_client::commit(const id16& group, std::chrono::milliseconds timeout) {
  std::string last = "no rekey_request arrived";
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto rq = rekey_request(group, timeout);
    if (!rq) return error{errc::internal, last};
    auto r = answer(*rq);
    if (r.is_ok()) {
      // The committer is in the new set: once it holds the key, it proposes against the new epoch.
      if (!wait_key(group, rq->epoch, timeout))
        return error{errc::internal, "committed epoch " + std::to_string(rq->epoch) + " but no key frame came"};
      return rq->epoch;
    }
    if (r.code() != errc::bad_rekey || !r.error->rid) return error{r.code(), r.describe()};
    last = "bad_rekey, and no fresh rekey_request: " + r.describe();  // proposals arrived meanwhile
  }
  return error{errc::bad_rekey, last};
}

}  // namespace sealcast::test
