// softmax_attention.h — multi-head causal softmax self-attention (`softmax`), and its sliding-window
// variant (`local`: each position sees only the last `window` positions). Generation uses a KV cache
// (nn/kv_cache.h), which for `local` holds only the last `window` positions.
#pragma once
#include "nn/projected_attention.h"

namespace splatlm {

class SoftmaxAttention : public ProjectedAttention {
  public:
    SoftmaxAttention(const GPTConfig& config, int64_t layer, Rng& rng, int64_t window);

  private:
    Tensor step_mix(const QKV& h, const Tensor& x_t, AttentionCache& cache) override;
    Tensor mix(const QKV& h, const Tensor& x) override;
    std::unique_ptr<AttentionCache> new_mix_cache(int64_t batch, int64_t max_len) const override;
    int64_t window_;
};

}  // namespace splatlm
