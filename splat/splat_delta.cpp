#include "splat/splat_delta.h"

#include <cmath>

#include "nn/delta_rule.h"
#include "splat/splat_attention.h"
#include "splat/splat_routes.h"
#include "tensor/error.h"
#include "tensor/ops.h"

namespace splatlm {

namespace {
// A centre is also the origin of its splat's offsets. Centres far outside the keys make every key's
// offset point the same way, so the memory sees all keys as one (keys have norm ≈ 2 at init at width
// 128): the centres start at norm ≈ 0.1·√D, inside the keys (docs/SPLAT.md §15 has the measurement).
constexpr float kCentreStd = 0.1f;

// 1 on each token's `top` splats of largest logit, 0 elsewhere (splat/splat_routes.h picks them, ties to
// the lower index): a constant of the graph, as a route is.
Tensor top_route_mask(const Tensor& logits, int64_t top) {
    const std::vector<float> l = logits.detach().to(Device::CPU).to_vector();  // row-major [B, H, T, K]
    const int64_t K = logits.size(-1), rows = logits.numel() / K;
    std::vector<float> mask(l.size(), 0.f), scratch(K);
    std::vector<int32_t> chosen(top);
    for (int64_t r = 0; r < rows; ++r) {
        top_splats(l.data() + r * K, K, top, chosen.data(), scratch.data());
        for (const int32_t j : chosen) mask[size_t(r * K + j)] = 1.f;
    }
    return Tensor::from_vector(mask, logits.shape()).to(logits.device());
}

}  // namespace

Tensor splat_root_shares(const Tensor& x, const Tensor& centres, const Tensor& log_scale, const Tensor& log_amp,
                         int64_t top) {
    const int64_t H = x.size(1), K = centres.size(1);
    // ‖x − μ_j‖² = ‖x‖² − 2 x·μ_j + ‖μ_j‖²: one product [B, H, T, D]·[H, D, K] instead of a [B, H, T, K, D] difference
    const Tensor d2 = sum(x * x, 3, true) - 2.f * matmul(x, transpose(centres, 1, 2)) +
                      reshape(sum(centres * centres, 2), {H, 1, K});
    Tensor logits = neg(d2 * reshape(0.5f * exp(-2.f * log_scale), {H, 1, K}));
    if (log_amp.defined()) logits = logits + reshape(log_amp, {H, 1, K});
    // √w = e^{½ log w}: finite gradients where a share underflows to 0 (√ has none there)
    const Tensor root_share = exp(0.5f * log_softmax(logits));
    // top-p: the shares outside a token's top splats become 0, the kept ones stay w (not renormalised,
    // so the routing keeps a gradient even at p = 1): a write never touches those blocks of the state.
    return top > 0 && top < K ? root_share * top_route_mask(logits, top) : root_share;
}

Tensor splat_delta_features(const Tensor& x, const Tensor& centres, const Tensor& frame, const Tensor& root_share) {
    const int64_t B = x.size(0), H = x.size(1), T = x.size(2), D = x.size(3), K = centres.size(1), P = frame.size(1) / K;
    // U_j(x − μ_j) = U_j x − U_j μ_j: every splat's frame in one product [B, H, T, D]·[H, D, K·P]
    const Tensor frames = reshape(frame, {H, K, P, D});
    const Tensor centre_offsets = sum(frames * reshape(centres, {H, K, 1, D}), 3);  // U_j μ_j: [H, K, P]
    const Tensor offset = reshape(matmul(x, transpose(frame, 1, 2)), {B, H, T, K, P}) - reshape(centre_offsets, {H, 1, K, P});
    return reshape(unit_rows(offset) * reshape(root_share, {B, H, T, K, 1}), {B, H, T, K * P});
}

// The frame draws after the centres, the gate last; scales and amplitudes take no draws.
SplatDeltaAttention::SplatDeltaAttention(const GPTConfig& c, int64_t layer, Rng& rng)
    : ProjectedAttention(c, rng),
      centres(add_parameter("centres", initial_centres(c.heads, c.splats, c.head_dim(), rng, kCentreStd))),
      log_scale(add_parameter("log_scale", initial_log_scale(c.heads, c.splats, c.head_dim(), 1))),
      log_amp(add_parameter("log_amp", initial_log_amp(c.heads, c.splats, c.splats))),
      frame(add_parameter("frame", Tensor::randn({c.heads, c.splats * c.splat_delta_rank, c.head_dim()}, rng,
                                                 1.f / std::sqrt(float(c.head_dim()))))),
      write_gate_(add_module("write_gate", std::make_unique<Linear>(c.width, c.heads, true, rng))),
      key_route_(c.splat_delta_key_route), top_(c.splat_top) {
    SPLATLM_CHECK(c.max_splats == 0 || c.max_splats == c.splats,
                  "splat_delta: max_splats is for splat life (splat and splat_local), got ", c.max_splats);
}

std::pair<Tensor, Tensor> SplatDeltaAttention::features(const Tensor& q, const Tensor& k) const {
    // top-p on the writes alone: it is the writes that wear a block down, and a read routed away from
    // the block its key was written to would leave the routing nothing to learn from (docs/SPLAT.md §15)
    const Tensor send = splat_root_shares(k, centres, log_scale, log_amp, top_);
    const Tensor receive = key_route_ ? send : splat_root_shares(q, centres, log_scale, Tensor());
    return {splat_delta_features(q, centres, frame, receive), splat_delta_features(k, centres, frame, send)};
}

Tensor SplatDeltaAttention::mix(const QKV& h, const Tensor& x) {
    const auto [fq, fk] = features(h.q, h.k);
    return delta_rule(fq, fk, h.v, write_strength(write_gate_, x));
}

std::unique_ptr<AttentionCache> SplatDeltaAttention::new_mix_cache(int64_t batch, int64_t) const {
    auto cache = std::make_unique<DeltaCache>();
    cache->S = Tensor::zeros({batch, heads_, head_dim_, frame.size(1)});
    return cache;
}

// One position: the heads [B, H, D] as a sequence of one, so the step's features are the forward's.
Tensor SplatDeltaAttention::step_mix(const QKV& h, const Tensor& x_t, AttentionCache& base) {
    DeltaCache& cache = dynamic_cast<DeltaCache&>(base);
    const int64_t B = x_t.size(0);
    auto one = [&](const Tensor& t) { return raw::reshape(raw::contiguous(t), {B, heads_, 1, head_dim_}); };
    const auto [fq, fk] = features(one(h.q), one(h.k));
    auto drop = [&](const Tensor& t) { return raw::select(t, 2, 0); };
    const Tensor y = delta_rule_step(drop(fq), drop(fk), h.v, write_strength(write_gate_, x_t), cache.S);
    return raw::reshape(y, {B, heads_ * head_dim_});
}

}  // namespace splatlm
