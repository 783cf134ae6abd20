#include "nn/softmax_attention.h"

#include "nn/causal_attention.h"
#include "nn/kv_cache.h"
#include "tensor/ops.h"

namespace splatlm {

SoftmaxAttention::SoftmaxAttention(const GPTConfig& c, int64_t layer, Rng& rng, int64_t window)
    : ProjectedAttention(c, rng), window_(window) {}

Tensor SoftmaxAttention::mix(const QKV& h) { return causal_softmax_attention(h.q, h.k, h.v, window_); }

std::unique_ptr<AttentionCache> SoftmaxAttention::new_cache(int64_t batch, int64_t max_len) const {
    return std::make_unique<KVCache>(batch, heads_, head_dim_, max_len, window_);  // `local`: a ring of `window` slots
}

// One query against the cached keys/values: the same softmax as the parallel form, row t = length.
Tensor SoftmaxAttention::step(const Tensor& x_t, AttentionCache& cache) {
    const int64_t B = x_t.size(0), H = heads_, D = head_dim_;
    Tensor qkv = raw::reshape(raw::contiguous(qkv_.forward(x_t)), {B, 3, H, D});
    Tensor y = dynamic_cast<KVCache&>(cache).attend(raw::select(qkv, 1, 0), raw::select(qkv, 1, 1),
                                                     raw::select(qkv, 1, 2));
    return proj_.forward(raw::reshape(y, {B, H * D}));
}

}  // namespace splatlm
