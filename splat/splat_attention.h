// splat_attention.h — the `splat` attention kind: multi-head attention in which tokens talk only
// through K learned Gaussian splats per head (splat/splat_op.h has the op and its math).
//
//   q, k, v = split(x·W_qkvᵀ + b);  y = merge_heads(splat_attention(q, k, v, μ, log s, log a))·W_projᵀ + b
//
// Generation keeps, per layer, the O(H·K·D) splat state instead of a KV cache: step() costs
// O(K·D) per head and token whatever the position.
#pragma once
#include "nn/attention.h"
#include "nn/layers.h"
#include "nn/softmax_attention.h"
#include "splat/splat_op.h"

namespace splatlm {


class SplatAttention : public Attention {
  public:
    SplatAttention(const GPTConfig& config, int64_t layer, Rng& rng);
    Tensor forward(const Tensor& x) override;
    std::unique_ptr<AttentionCache> new_cache(int64_t batch, int64_t max_len) const override;
    Tensor step(const Tensor& x_t, AttentionCache& cache) override;

    int64_t splats() const { return centres.size(1); }
    // Read-only inspection (pictures, probes): the per-head q, k, v this layer would use for the
    // attention input x (the block's LayerNorm output), each [B, H, T, D]; forward() is unchanged.
    QKV head_views(const Tensor& x) const { return split_heads(qkv_.forward(x), heads_); }

  private:  // declared first: qkv and proj draw from the layer's rng before the splats do
    int64_t heads_, head_dim_;
    Linear& qkv_;   // x → [q | k | v], each `width` wide, heads side by side
    Linear& proj_;

  public:  // per-head splat parameters (no weight decay)
    Tensor& centres;    // [H, K, D], init N(0, 0.5²)
    Tensor& log_scale;  // [H, K], init log √D
    Tensor& log_amp;    // [H, K], init 0
};

}  // namespace splatlm
