#include "nn/softmax_attention.h"

#include <cmath>
#include <vector>

#include "nn/causal_attention.h"
#include "tensor/error.h"
#include "tensor/ops.h"

namespace splatlm {

QKV split_heads(const Tensor& qkv, int64_t heads) {
    const int64_t B = qkv.size(0), T = qkv.size(1), D = qkv.size(2) / (3 * heads);
    Tensor r = reshape(qkv, {B, T, 3, heads, D});
    auto part = [&](int64_t i) { return permute(select(r, 2, i), {0, 2, 1, 3}); };
    return {part(0), part(1), part(2)};
}

Tensor merge_heads(const Tensor& y) {
    const int64_t B = y.size(0), H = y.size(1), T = y.size(2), D = y.size(3);
    return reshape(permute(y, {0, 2, 1, 3}), {B, T, H * D});
}

SoftmaxAttention::SoftmaxAttention(const GPTConfig& c, int64_t layer, Rng& rng, int64_t window)
    : heads_(c.heads),
      window_(window),
      qkv_(add_module("qkv", std::make_unique<Linear>(c.width, 3 * c.width, true, rng))),
      proj_(add_module("proj", std::make_unique<Linear>(c.width, c.width, true, rng,
                                                        0.02f / std::sqrt(2.f * c.layers)))) {}

Tensor SoftmaxAttention::forward(const Tensor& x) {
    QKV h = split_heads(qkv_.forward(x), heads_);
    return proj_.forward(merge_heads(causal_softmax_attention(h.q, h.k, h.v, window_)));
}

namespace {
struct KVCache : AttentionCache {
    Tensor k, v;  // [B, H, max_len, D]
    int64_t len = 0;
};
}  // namespace

std::unique_ptr<AttentionCache> SoftmaxAttention::new_cache(int64_t batch, int64_t max_len) const {
    auto cache = std::make_unique<KVCache>();
    const int64_t D = qkv_.weight.size(0) / (3 * heads_);
    cache->k = Tensor::zeros({batch, heads_, max_len, D});
    cache->v = Tensor::zeros({batch, heads_, max_len, D});
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
