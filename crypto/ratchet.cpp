#include "crypto/ratchet.hpp"

#include <array>
#include <limits>
#include <utility>
#include <vector>

#include "crypto/detail/kdf.hpp"

namespace sealcast::crypto {
namespace {

constexpr std::array<std::uint8_t, 1> message_step = {0x01};
constexpr std::array<std::uint8_t, 1> chain_step = {0x02};

// The last index is never handed out, so that next_ (one past the last used) always fits in 32
// bits; the wire's index is a u32 and no epoch lives long enough to reach it.
constexpr std::uint32_t index_limit = std::numeric_limits<std::uint32_t>::max();

}  // namespace

chain_key initial_chain(const group_key& key, const id16& sender) {
  // Extract then expand in parts, so neither K_e nor the PRK is copied into an unwiped buffer.
  fixed_secret<32, struct chain_prk_tag> prk;
  detail::hkdf_extract(prk.span(), {}, {key.view()});
  chain_key out;
  detail::hkdf_expand(std::span<std::uint8_t>(out.data(), out.size()), prk.view(),
                      {as_bytes(chain_label), sender.view()});
  return out;
}

aead_key chain_message_key(const chain_key& chain) {
  aead_key out;
  detail::hmac_sha256(out.span(), chain.view(), {message_step});
  return out;
}

chain_key chain_advance(const chain_key& chain) {
  chain_key out;
  detail::hmac_sha256(out.span(), chain.view(), {chain_step});
  return out;
}

result<std::pair<std::uint32_t, aead_key>> sender_chain::next() {
  if (next_ >= index_limit) {
    return error{errc::bad_request, "the sender's ratchet indexes of this epoch are used up"};
  }
  std::pair<std::uint32_t, aead_key> out{next_, chain_message_key(chain_)};
  chain_ = chain_advance(chain_);
  ++next_;
  return out;
}

void sender_chain::skip(std::uint32_t n) {
  for (; n > 0 && next_ < index_limit; --n) {
    chain_ = chain_advance(chain_);
    ++next_;
  }
}

result<aead_key> receiver_chain::take(std::uint32_t i) {
  if (i < next_) {
    auto it = skipped_.find(i);
    if (it == skipped_.end()) {
      return error{errc::replay, "ratchet index " + std::to_string(i) + " was already used or is too old"};
    }
    aead_key k = std::move(it->second);
    skipped_.erase(it);
    return k;
  }
  if (i - next_ >= max_skip || i >= index_limit) {
    return error{errc::too_large,
                 "ratchet index " + std::to_string(i) + " is too far ahead of " + std::to_string(next_)};
  }
  // Skipped keys older than the reorder window would be dropped at once, so they are not even
  // derived; the chain still steps over them.
  const std::uint32_t keep_from = i - next_ > reorder_window ? i - static_cast<std::uint32_t>(reorder_window) : next_;
  chain_key chain = chain_;
  std::vector<std::pair<std::uint32_t, aead_key>> fresh;
  fresh.reserve(i - keep_from);
  for (std::uint32_t j = next_; j < i; ++j) {
    if (j >= keep_from) {
      fresh.emplace_back(j, chain_message_key(chain));
    }
    chain = chain_advance(chain);
  }
  aead_key k = chain_message_key(chain);

  // Nothing above can fail; from here on the state moves.
  chain_ = chain_advance(chain);
  next_ = i + 1;
  for (auto& [j, key] : fresh) {
    skipped_.insert_or_assign(j, std::move(key));
  }
  while (skipped_.size() > reorder_window) {
    skipped_.erase(skipped_.begin());
  }
  return k;
}

}  // namespace sealcast::crypto
