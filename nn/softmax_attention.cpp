#include "nn/softmax_attention.h"

#include "nn/causal_attention.h"
#include "nn/kv_cache.h"
#include "tensor/ops.h"

namespace splatlm {

SoftmaxAttention::SoftmaxAttention(const GPTConfig& c, int64_t layer, Rng& rng, int64_t window)
    : ProjectedAttention(c, rng), window_(window) {}

Tensor SoftmaxAttention::mix(const QKV& h, const Tensor&) { return causal_softmax_attention(h.q, h.k, h.v, window_); }

std::unique_ptr<AttentionCache> SoftmaxAttention::new_mix_cache(int64_t batch, int64_t max_len) const {
    return std::make_unique<KVCache>(batch, heads_, head_dim_, max_len, window_);  // `local`: a ring of `window` slots
}

// One query against the cached keys/values: the same softmax as the parallel form, row t = length.
Tensor SoftmaxAttention::step_mix(const QKV& h, const Tensor& x_t, AttentionCache& cache) {
    Tensor y = dynamic_cast<KVCache&>(cache).attend(h.q, h.k, h.v);
    return raw::reshape(y, {x_t.size(0), heads_ * head_dim_});
}

}  // namespace splatlm
