// splat_local.h — the `splat_local` attention kind: exact softmax attention over a sliding window of
// the last w tokens, plus the splat path over the whole past, mixed per head by a learned gate.
//
//   q, k, v = split(x·W_qkvᵀ + b)                                  (one projection feeds both paths)
//   y_h = g_h · local_w(q, k, v) + (1 − g_h) · splat(q, k, v, μ, log s, log a, options(x)),   g_h = σ(γ_h)
//   out = merge_heads(y)·W_projᵀ + b
//
// local_w is nn/causal_attention.h's fused op with window w = GPTConfig::window; the splat path is
// SplatAttention's, with every splat variant (decay, levels, gating) it offers. Both are causal and
// the gate is a per-head constant, so the mixture is causal. Why a gate and not one softmax over both
// (window keys and splats): docs/SPLAT.md, "Hybrid: splat + local window".
//
// Generation: per layer a KV ring of the last w positions (nn/kv_cache.h, O(w·D) per head) and the
// O(K·D) splat state — memory bounded whatever the length.
#pragma once
#include "splat/splat_attention.h"

namespace splatlm {

// The head mixing of splat_local on [B, H, T, D] views: gate_logit [H], the splat parameters and
// options as in splat_attention. Differentiable in every input; the bench times it as `splat_local`.
Tensor splat_local_attention(const Tensor& q, const Tensor& k, const Tensor& v, int64_t window, const Tensor& centres,
                             const Tensor& log_scale, const Tensor& log_amp, const Tensor& gate_logit,
                             const SplatOptions& options = {});

class SplatLocalAttention : public SplatAttention {
  public:
    SplatLocalAttention(const GPTConfig& config, int64_t layer, Rng& rng);  // SplatAttention's draws, then none
    int64_t window() const { return window_; }

  private:
    Tensor mix(const QKV& h, const Tensor& x) override;
    std::unique_ptr<AttentionCache> new_mix_cache(int64_t batch, int64_t max_len) const override;
    Tensor step_mix(const QKV& h, const Tensor& x_t, AttentionCache& cache) override;
    int64_t window_;

  public:
    Tensor& gate_logit;  // [H], init 0: g = ½, both paths start with equal say (no weight decay)
};

}  // namespace splatlm
