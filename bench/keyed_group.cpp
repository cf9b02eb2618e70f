#include "bench/keyed_group.hpp"

#include <charconv>

#include "crypto/random.hpp"
#include "protocol/codec.hpp"

namespace sealcast::bench {

keyed_group keyed_group::make(std::string topic, std::size_t senders) {
  keyed_group g;
  g.topic = std::move(topic);
  g.id = crypto::random_id();
  g.key = crypto::generate_group_key();
  for (std::size_t k = 0; k < senders; ++k) g.senders.push_back(crypto::identity::generate());
  return g;
}

std::optional<std::size_t> sender_index(std::string_view topic, char separator) {
  const auto at = topic.rfind(separator);
  if (at == std::string_view::npos) return std::nullopt;
  const auto tail = topic.substr(at + 1);
  std::size_t k = 0;
  const auto [p, ec] = std::from_chars(tail.data(), tail.data() + tail.size(), k);
  if (ec != std::errc{} || p != tail.data() + tail.size()) return std::nullopt;
  return k;
}

frame_sealer::frame_sealer(const keyed_group& g, std::size_t sender, const bench_options& o)
    : g_(g),
      me_(g.senders.at(sender)),
      chain_(crypto::initial_chain(g.key, me_.user_id()), 0),
      plaintext_(crypto::random_bytes(o.size)) {
  ctx_.group = g.id;
  ctx_.epoch = g.epoch;
  ctx_.sender = me_.user_id();
  ctx_.alg = o.alg;
}

result<std::string> frame_sealer::seal(std::uint64_t intended) {
  for (int i = 0; i < 8; ++i) plaintext_[i] = static_cast<std::uint8_t>(intended >> (56 - 8 * i));
  auto next_key = chain_.next();
  if (!next_key) return error{next_key.err().code, "ratchet: " + next_key.err().message};
  ctx_.index = next_key->first;
  auto sealed = crypto::encrypt_message(me_.signer(), next_key->second, ctx_, plaintext_);
  if (!sealed) return error{sealed.err().code, "encrypt: " + sealed.err().message};
  protocol::client::publish f;
  f.rid = protocol::request_id::from_number(++rid_);
  f.group = g_.id;
  f.epoch = g_.epoch;
  f.index = ctx_.index;
  f.alg = ctx_.alg;
  f.nonce = std::move(sealed->nonce);
  f.ct = std::move(sealed->ct);
  std::copy(sealed->sig.begin(), sealed->sig.end(), f.sig.begin());
  return protocol::to_json(f);
}

std::optional<std::uint64_t> frame_opener::open(std::optional<std::size_t> k, std::string_view payload) {
  auto parsed = protocol::parse_client_frame(payload);
  auto* f = parsed ? std::get_if<protocol::client::publish>(&*parsed) : nullptr;
  if (!f || f->group != g_.id || f->epoch != g_.epoch || !k || *k >= g_.senders.size()) return std::nullopt;
  const auto& sender = g_.senders[*k];
  crypto::message_context ctx;
  ctx.group = f->group;
  ctx.epoch = f->epoch;
  ctx.sender = sender.user_id();
  ctx.index = f->index;
  ctx.alg = f->alg;
  const crypto::sealed_message sealed{std::move(f->nonce), std::move(f->ct), bytes(f->sig.begin(), f->sig.end())};
  if (verify_ && !crypto::verify_message_sig(sender.sign_pk(), ctx, sealed)) return std::nullopt;
  if (chains_.size() != g_.senders.size()) chains_.resize(g_.senders.size());
  if (!chains_[*k]) chains_[*k] = crypto::receiver_chain(crypto::initial_chain(g_.key, sender.user_id()), 0);
  auto key = chains_[*k]->take(f->index);
  if (!key) return std::nullopt;
  auto pt = crypto::decrypt_message(*key, ctx, sealed);
  if (!pt || pt->size() < 8) return std::nullopt;
  return get_u64be(pt->data());
}

}  // namespace sealcast::bench
