#include "client/epoch_keys.hpp"

namespace sealcast::client::detail {

epoch_keys make_epoch_keys(const crypto::group_key& key, const id16& key_id, aead_alg alg, const id16& issuer,
                           std::span<const id16> roster, const id16& me) {
  epoch_keys k;
  k.key_id = key_id;
  k.alg = alg;
  k.issuer = issuer;
  for (const auto& user : roster) {
    if (user == me)
      k.own = crypto::sender_chain(crypto::initial_chain(key, user), 0);
    else
      k.peers.insert_or_assign(user, crypto::receiver_chain(crypto::initial_chain(key, user), 0));
  }
  return k;
}

result<sealed_at> seal_next(epoch_keys& keys, const crypto::signing_key& signer, crypto::message_context ctx,
                            byte_view plaintext) {
  auto next = keys.own.next();
  if (!next) return next.err();
  ctx.index = next->first;
  ctx.alg = keys.alg;
  auto sealed = crypto::encrypt_message(signer, next->second, ctx, plaintext);
  if (!sealed) return sealed.err();
  return sealed_at{next->first, std::move(*sealed)};
}

open_result open_message(epoch_keys& keys, byte_view sender_sign_pk, const crypto::message_context& ctx,
                         const crypto::sealed_message& msg) {
  open_result r;
  const auto where =
      "message " + std::to_string(ctx.index) + " of " + ctx.sender.hex() + " in epoch " + std::to_string(ctx.epoch);
  if (auto v = crypto::verify_message_sig(sender_sign_pk, ctx, msg); !v) {
    r.kind = warning_kind::bad_signature;
    r.message = where + ": the signature does not verify (" + v.err().message + ")";
    return r;
  }
  auto peer = keys.peers.find(ctx.sender);
  if (peer == keys.peers.end()) {
    r.kind = warning_kind::bad_signature;
    r.message = where + ": the sender is not another member of the epoch";
    return r;
  }
  auto mk = peer->second.take(ctx.index);
  if (!mk) {
    r.kind = mk.err().code == errc::replay || mk.err().code == errc::too_large ? warning_kind::replay
                                                                               : warning_kind::decrypt_failed;
    r.message = where + " refused: " + mk.err().message;
    return r;
  }
  auto pt = crypto::decrypt_message(*mk, ctx, msg);
  if (!pt) {
    r.kind = warning_kind::decrypt_failed;
    r.message = where + " does not decrypt: " + pt.err().message;
    return r;
  }
  r.body = std::move(*pt);
  return r;
}

}  // namespace sealcast::client::detail
