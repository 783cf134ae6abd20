// linear_attention.h — causal linear attention (`linear`), the O(n·D²) baseline of Katharopoulos
// et al. (2020) with the positive feature map φ(x) = elu(x) + 1:
//
//   y_t = φ(q_t)ᵀ S_t / (φ(q_t)ᵀ z_t + ε),   S_t = Σ_{u≤t} φ(k_u) v_uᵀ  (D×D),   z_t = Σ_{u≤t} φ(k_u)
//
// One fused autograd op: the forward is a scan carrying (S, z); the backward recomputes the
// forward scan for dq and runs a reverse scan for dk and dv (derivation in the .cpp). Generation
// keeps (S, z) per head: O(D²) per token whatever the context length.
#pragma once
#include "nn/projected_attention.h"

namespace splatlm {

// q, k, v: [B, H, T, D] (any strides) → [B, H, T, D].
Tensor causal_linear_attention(const Tensor& q, const Tensor& k, const Tensor& v);
// Builds every weight w[t,u] = φ(q_t)·φ(k_u) / Σ_{u'≤t} φ(q_t)·φ(k_u') explicitly, in double.
Tensor causal_linear_attention_reference(const Tensor& q, const Tensor& k, const Tensor& v);

class LinearAttention : public ProjectedAttention {
  public:
    LinearAttention(const GPTConfig& config, int64_t layer, Rng& rng) : ProjectedAttention(config, rng) {}

  private:
    Tensor step_mix(const QKV& h, const Tensor& x_t, AttentionCache& cache) override;
    Tensor mix(const QKV& h, const Tensor&) override { return causal_linear_attention(h.q, h.k, h.v); }
    std::unique_ptr<AttentionCache> new_mix_cache(int64_t batch, int64_t max_len) const override;
};

}  // namespace splatlm
