// splat_attention.h — the `splat` attention kind: multi-head attention in which tokens talk only
// through K learned Gaussian splats per head (splat/splat_op.h has the op and its math).
//
//   q, k, v = split(x·W_qkvᵀ + b);  y = merge_heads(splat_attention(q, k, v, μ, log s, log a))·W_projᵀ + b
//
// Generation keeps, per layer, the O(H·K·D) splat state instead of a KV cache: step() costs
// O(K·D) per head and token whatever the position.
#pragma once
#include "nn/projected_attention.h"
#include "splat/splat_op.h"

namespace splatlm {

class SplatAttention : public ProjectedAttention {
  public:
    SplatAttention(const GPTConfig& config, int64_t layer, Rng& rng);  // qkv, proj, then the splats draw
    std::unique_ptr<AttentionCache> new_cache(int64_t batch, int64_t max_len) const override;
    Tensor step(const Tensor& x_t, AttentionCache& cache) override;

    int64_t splats() const { return centres.size(1); }

  private:
    Tensor mix(const QKV& h) override;

  public:  // per-head splat parameters (no weight decay)
    Tensor& centres;    // [H, K, D], init N(0, 0.5²)
    Tensor& log_scale;  // [H, K], init log √D
    Tensor& log_amp;    // [H, K], init 0
};

}  // namespace splatlm
