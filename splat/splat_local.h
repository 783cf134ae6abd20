// splat_local.h — the `splat_local` attention kind: exact softmax attention over a sliding window of
// the last w tokens, plus the splat path over the whole past, mixed per head by a learned gate.
//
//   q, k, v = split(x·W_qkvᵀ + b)                                  (one projection feeds both paths)
//   y_h = g_h · local_w(q, k, v) + (1 − g_h) · splat(q, k, v, μ, log s, log a),   g_h = σ(γ_h)
//   out = merge_heads(y)·W_projᵀ + b
//
// local_w is nn/causal_attention.h's fused op with window w = GPTConfig::window; splat is
// splat/splat_op.h's fused op with K = GPTConfig::splats. Both are causal and the gate is a
// per-head constant, so the mixture is causal. Why a gate and not one softmax over both
// (window keys and splats): docs/SPLAT.md, "Hybrid: splat + local window".
//
// Generation: per layer a KV ring of the last w positions (nn/kv_cache.h, O(w·D) per head) and the
// O(K·D) splat state — memory bounded whatever the length.
#pragma once
#include "nn/projected_attention.h"

namespace splatlm {

// The head mixing of splat_local on [B, H, T, D] views: gate_logit [H], the splat parameters as in
// splat_attention. Differentiable in every input; the bench times it as the `splat_local` op.
Tensor splat_local_attention(const Tensor& q, const Tensor& k, const Tensor& v, int64_t window, const Tensor& centres,
                             const Tensor& log_scale, const Tensor& log_amp, const Tensor& gate_logit);

class SplatLocalAttention : public ProjectedAttention {
  public:
    SplatLocalAttention(const GPTConfig& config, int64_t layer, Rng& rng);  // qkv, proj, then the centres draw
    std::unique_ptr<AttentionCache> new_cache(int64_t batch, int64_t max_len) const override;
    Tensor step(const Tensor& x_t, AttentionCache& cache) override;

    int64_t splats() const { return centres.size(1); }
    int64_t window() const { return window_; }

  private:
    Tensor mix(const QKV& h) override;
    int64_t window_;

  public:  // per-head parameters (no weight decay); the splat ones are initialised as in SplatAttention
    Tensor& centres;     // [H, K, D], init N(0, 0.5²)
    Tensor& log_scale;   // [H, K], init log √D
    Tensor& log_amp;     // [H, K], init 0
    Tensor& gate_logit;  // [H], init 0: g = ½, both paths start with equal say
};

}  // namespace splatlm
