// softmax_attention.h — multi-head causal softmax self-attention (`softmax`), and its sliding-window
// variant (`local`: each position sees only the last `window` positions). Generation uses a KV cache.
#pragma once
#include "nn/attention.h"
#include "nn/layers.h"

namespace splatlm {

class SoftmaxAttention : public Attention {
  public:
    SoftmaxAttention(const GPTConfig& config, int64_t layer, Rng& rng, int64_t window);
    Tensor forward(const Tensor& x) override;
    std::unique_ptr<AttentionCache> new_cache(int64_t batch, int64_t max_len) const override;
    Tensor step(const Tensor& x_t, AttentionCache& cache) override;

  private:
    int64_t heads_, window_;
    Linear& qkv_;   // x → [q | k | v], each `width` wide, heads side by side
    Linear& proj_;
};

// Splits a fused [..., T, 3·C] projection into q, k, v views of shape [B, H, T, D] (no copies).
struct QKV {
    Tensor q, k, v;
};
QKV split_heads(const Tensor& qkv, int64_t heads);
// [B, H, T, D] → [B, T, H·D]
Tensor merge_heads(const Tensor& y);

}  // namespace splatlm
