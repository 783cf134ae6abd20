#include "nn/softmax_attention.h"

#include <cmath>
#include <vector>

#include "nn/causal_attention.h"
#include "tensor/error.h"
#include "tensor/ops.h"

namespace splatlm {

SoftmaxAttention::SoftmaxAttention(const GPTConfig& c, int64_t layer, Rng& rng, int64_t window)
    : ProjectedAttention(c, rng), window_(window) {}

Tensor SoftmaxAttention::mix(const QKV& h) { return causal_softmax_attention(h.q, h.k, h.v, window_); }

namespace {
struct KVCache : AttentionCache {
    Tensor k, v;  // [B, H, max_len, D]
    int64_t len = 0;
};
}  // namespace

std::unique_ptr<AttentionCache> SoftmaxAttention::new_cache(int64_t batch, int64_t max_len) const {
    auto cache = std::make_unique<KVCache>();
    cache->k = Tensor::zeros({batch, heads_, max_len, head_dim_});
    cache->v = Tensor::zeros({batch, heads_, max_len, head_dim_});
    return cache;
}

// One query against the cached keys/values: the same softmax as the parallel form, row t = len.
Tensor SoftmaxAttention::step(const Tensor& x_t, AttentionCache& base) {
    KVCache& cache = dynamic_cast<KVCache&>(base);
    const int64_t B = x_t.size(0), H = heads_, max_len = cache.k.size(2), D = cache.k.size(3), C = H * D;
    const int64_t t = cache.len;
    SPLATLM_CHECK(t < max_len, "softmax attention: KV cache full at ", max_len, " positions");
    Tensor qkv = raw::contiguous(qkv_.forward(x_t));  // [B, 3C]
    Tensor y = Tensor::empty({B, C});
    const float scale = 1.f / std::sqrt(static_cast<float>(D));
    const int64_t first = window_ > 0 ? std::max<int64_t>(0, t - window_ + 1) : 0;
    for (int64_t b = 0; b < B; ++b)
        for (int64_t h = 0; h < H; ++h) {
            const float* row = qkv.data() + b * 3 * C;
            float* kc = cache.k.data() + ((b * H + h) * max_len) * D;
            float* vc = cache.v.data() + ((b * H + h) * max_len) * D;
            std::copy_n(row + C + h * D, D, kc + t * D);
            std::copy_n(row + 2 * C + h * D, D, vc + t * D);
            std::vector<float> w(t + 1);
            float m = -INFINITY, z = 0.f;
            for (int64_t u = first; u <= t; ++u) {
                float s = 0.f;
                for (int64_t d = 0; d < D; ++d) s += row[h * D + d] * kc[u * D + d];
                m = std::max(m, w[u] = s * scale);
            }
            for (int64_t u = first; u <= t; ++u) z += w[u] = std::exp(w[u] - m);
            float* out = y.data() + b * C + h * D;
            for (int64_t d = 0; d < D; ++d) {
                float acc = 0.f;
                for (int64_t u = first; u <= t; ++u) acc += w[u] * vc[u * D + d];
                out[d] = acc / z;
            }
        }
    cache.len = t + 1;
    return proj_.forward(y);
}

}  // namespace splatlm
