#include "crypto/hpke.hpp"

#include <array>
#include <cstdint>
#include <string_view>
#include <utility>

#include "crypto/detail/aead_raw.hpp"
#include "crypto/detail/kdf.hpp"
#include "crypto/random.hpp"
#include "crypto/x25519.hpp"

namespace sealcast::crypto {
namespace {

// Sizes of the suite (RFC 9180 section 7): Nsecret, Nh, Nk, Nn.
constexpr std::size_t n_secret = 32;
constexpr std::size_t n_h = 32;
constexpr std::size_t n_k = 16;
constexpr std::size_t n_n = 12;
constexpr std::uint8_t mode_base = 0x00;

// suite_id of the KEM ("KEM" || I2OSP(kem_id, 2)) and of the key schedule
// ("HPKE" || I2OSP(kem_id, 2) || I2OSP(kdf_id, 2) || I2OSP(aead_id, 2)).
constexpr std::array<std::uint8_t, 5> kem_suite = {'K', 'E', 'M', 0x00, 0x20};
constexpr std::array<std::uint8_t, 10> hpke_suite = {'H',  'P',  'K',  'E',  0x00,
                                                     0x20, 0x00, 0x01, 0x00, 0x01};
constexpr std::string_view version_label = "HPKE-v1";

using secret32 = fixed_secret<32, struct hpke_secret_tag>;

// LabeledExtract(salt, label, ikm) = Extract(salt, "HPKE-v1" || suite_id || label || ikm).
void labeled_extract(std::span<std::uint8_t, 32> out, byte_view suite, byte_view salt,
                     std::string_view label, byte_view ikm) {
  detail::hkdf_extract(out, salt, {as_bytes(version_label), suite, as_bytes(label), ikm});
}

// LabeledExpand(prk, label, info, L) =
//   Expand(prk, I2OSP(L, 2) || "HPKE-v1" || suite_id || label || info, L); info given in parts.
void labeled_expand(std::span<std::uint8_t> out, byte_view suite, byte_view prk,
                    std::string_view label, byte_view info1, byte_view info2 = {}) {
  const std::array<std::uint8_t, 2> len = {static_cast<std::uint8_t>(out.size() >> 8),
                                           static_cast<std::uint8_t>(out.size() & 0xff)};
  detail::hkdf_expand(out, prk,
                      {len, as_bytes(version_label), suite, as_bytes(label), info1, info2});
}

// DHKEM ExtractAndExpand(dh, kem_context = enc || pkRm).
void extract_and_expand(std::span<std::uint8_t> shared_secret, byte_view dh, byte_view enc,
                        byte_view pk_r) {
  secret32 eae_prk;
  labeled_extract(eae_prk.span(), kem_suite, {}, "eae_prk", dh);
  labeled_expand(shared_secret, kem_suite, eae_prk.view(), "shared_secret", enc, pk_r);
}

// psk_id_hash = LabeledExtract("", "psk_id_hash", "") never changes in base mode.
const std::array<std::uint8_t, n_h>& psk_id_hash() {
  static const auto h = [] {
    std::array<std::uint8_t, n_h> out{};
    labeled_extract(out, hpke_suite, {}, "psk_id_hash", {});
    return out;
  }();
  return h;
}

// KeySchedule(mode_base, shared_secret, info, psk = "", psk_id = "").
void key_schedule(hpke_context& ctx, byte_view info) {
  std::array<std::uint8_t, 1 + 2 * n_h> ks_context{};
  ks_context[0] = mode_base;
  std::copy(psk_id_hash().begin(), psk_id_hash().end(), ks_context.begin() + 1);
  labeled_extract(std::span<std::uint8_t, 32>(ks_context.data() + 1 + n_h, n_h), hpke_suite, {},
                  "info_hash", info);

  secret32 secret;
  labeled_extract(secret.span(), hpke_suite, ctx.shared_secret, "secret", {});
  ctx.key.resize(n_k);
  labeled_expand(ctx.key, hpke_suite, secret.view(), "key", ks_context);
  ctx.base_nonce.resize(n_n);
  labeled_expand(ctx.base_nonce, hpke_suite, secret.view(), "base_nonce", ks_context);
}

// Shared by both sides: the sender passes its precomputed pkE as my_pk, the receiver has to
// compute pkR (kem_context = enc || pkRm).
result<hpke_context> setup(byte_view sk, byte_view my_pk, byte_view their_pk, byte_view info,
                           bool sender) {
  auto dh = x25519(sk, their_pk);  // checks sizes, refuses an all-zero result (RFC 9180 7.1.4)
  if (!dh) {
    return std::move(dh).err();
  }
  hpke_context ctx;
  ctx.shared_secret.resize(n_secret);
  if (sender) {
    ctx.enc.assign(my_pk.begin(), my_pk.end());
    extract_and_expand(ctx.shared_secret, dh->view(), ctx.enc, their_pk);
  } else {
    ctx.enc.assign(their_pk.begin(), their_pk.end());
    extract_and_expand(ctx.shared_secret, dh->view(), ctx.enc, my_pk);
  }
  key_schedule(ctx, info);
  return ctx;
}

result<hpke_context> setup(byte_view sk, byte_view their_pk, byte_view info, bool sender) {
  auto my_pk = x25519_public_key(sk);
  if (!my_pk) {
    return std::move(my_pk).err();
  }
  return setup(sk, *my_pk, their_pk, info, sender);
}

template <class F>
auto guarded(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception& e) {
    return error{errc::internal, e.what()};
  }
}

}  // namespace

result<hpke_context> hpke_setup_sender(byte_view sk_e, byte_view pk_r, byte_view info) {
  return guarded([&]() -> result<hpke_context> { return setup(sk_e, pk_r, info, true); });
}

result<hpke_context> hpke_setup_receiver(byte_view sk_r, byte_view enc, byte_view info) {
  return guarded([&]() -> result<hpke_context> { return setup(sk_r, enc, info, false); });
}

hpke_ephemeral hpke_ephemeral::generate() {
  hpke_ephemeral e;
  e.sk_ = random_fixed_secret<kx_secret>();
  e.pk_ = *x25519_public_key(e.sk_.view());
  e.usable_ = true;
  return e;
}

result<hpke_ephemeral> hpke_ephemeral::from_secret(byte_view sk) {
  auto pk = x25519_public_key(sk);
  if (!pk) {
    return std::move(pk).err();
  }
  hpke_ephemeral e;
  e.sk_ = *kx_secret::from_bytes(sk);
  e.pk_ = *pk;
  e.usable_ = true;
  return e;
}

hpke_ephemeral::hpke_ephemeral(hpke_ephemeral&& other) noexcept
    : sk_(other.sk_), pk_(other.pk_), usable_(std::exchange(other.usable_, false)) {
  other.sk_ = kx_secret{};
}

hpke_ephemeral& hpke_ephemeral::operator=(hpke_ephemeral&& other) noexcept {
  if (this != &other) {
    sk_ = other.sk_;
    pk_ = other.pk_;
    usable_ = std::exchange(other.usable_, false);
    other.sk_ = kx_secret{};
  }
  return *this;
}

result<bytes> hpke_seal(hpke_ephemeral ephemeral, byte_view pk_r, byte_view info, byte_view aad,
                        byte_view pt) {
  if (!ephemeral.usable_) {
    return error{errc::bad_key, "HPKE ephemeral key already used"};
  }
  ephemeral.usable_ = false;
  return guarded([&]() -> result<bytes> {
    auto ctx = setup(ephemeral.sk_.view(), ephemeral.pk_, pk_r, info, true);
    if (!ctx) {
      return std::move(ctx).err();
    }
    // Sequence number 0: the nonce is base_nonce itself.
    const bytes ct =
        detail::aead_seal(detail::cipher::aes_128_gcm, ctx->key, ctx->base_nonce, aad, pt);
    bytes out;
    out.reserve(ctx->enc.size() + ct.size());
    append(out, ctx->enc);
    append(out, ct);
    return out;
  });
}

result<bytes> hpke_seal_with_ephemeral(byte_view sk_e, byte_view pk_r, byte_view info,
                                       byte_view aad, byte_view pt) {
  auto e = hpke_ephemeral::from_secret(sk_e);
  if (!e) {
    return std::move(e).err();
  }
  return hpke_seal(std::move(*e), pk_r, info, aad, pt);
}

result<bytes> hpke_seal(byte_view pk_r, byte_view info, byte_view aad, byte_view pt) {
  return hpke_seal(hpke_ephemeral::generate(), pk_r, info, aad, pt);
}

result<secure_bytes> hpke_open(byte_view sk_r, byte_view info, byte_view aad, byte_view sealed) {
  if (sealed.size() < hpke_enc_size + hpke_tag_size) {
    return error{errc::bad_length, "HPKE ciphertext shorter than enc and tag"};
  }
  return guarded([&]() -> result<secure_bytes> {
    auto ctx = setup(sk_r, sealed.first(hpke_enc_size), info, false);
    if (!ctx) {
      return std::move(ctx).err();
    }
    return detail::aead_open(detail::cipher::aes_128_gcm, ctx->key, ctx->base_nonce, aad,
                             sealed.subspan(hpke_enc_size));
  });
}

}  // namespace sealcast::crypto
