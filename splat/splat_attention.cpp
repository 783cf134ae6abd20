#include "splat/splat_attention.h"

#include <cmath>

#include "tensor/error.h"
#include "tensor/ops.h"

namespace splatlm {

namespace {
Tensor init_centres(int64_t H, int64_t K, int64_t D, Rng& rng) { return Tensor::randn({H, K, D}, rng, 0.5f); }
}  // namespace

// qkv and proj draw from the layer's rng exactly as in every ProjectedAttention, then the centres do.
SplatAttention::SplatAttention(const GPTConfig& c, int64_t layer, Rng& rng)
    : ProjectedAttention(c, rng),
      centres(add_parameter("centres", init_centres(c.heads, c.splats, c.head_dim(), rng))),
      log_scale(add_parameter("log_scale", Tensor::full({c.heads, c.splats}, 0.5f * std::log(float(c.head_dim()))))),
      log_amp(add_parameter("log_amp", Tensor::zeros({c.heads, c.splats}))) {
    SPLATLM_CHECK(c.splats > 0, "splat attention: the number of splats must be positive, got ", c.splats);
}

Tensor SplatAttention::mix(const QKV& h) { return splat_attention(h.q, h.k, h.v, centres, log_scale, log_amp); }

namespace {
struct SplatCache : AttentionCache {
    SplatState state;
    int64_t max_len = 0;
};
}  // namespace

std::unique_ptr<AttentionCache> SplatAttention::new_cache(int64_t batch, int64_t max_len) const {
    auto cache = std::make_unique<SplatCache>();
    cache->state = SplatState(batch, heads_, splats(), head_dim_);
    cache->max_len = max_len;
    return cache;
}

// One position: O(H·K·D) work and state, independent of how many positions came before.
Tensor SplatAttention::step(const Tensor& x_t, AttentionCache& base) {
    SplatCache& cache = dynamic_cast<SplatCache&>(base);
    SPLATLM_CHECK(cache.state.length < cache.max_len, "splat attention: cache full at ", cache.max_len,
                  " positions");
    const int64_t B = x_t.size(0), H = heads_, D = head_dim_;
    Tensor qkv = raw::reshape(raw::contiguous(qkv_.forward(x_t)), {B, 3, H, D});
    Tensor y = splat_step(raw::select(qkv, 1, 0), raw::select(qkv, 1, 1), raw::select(qkv, 1, 2), centres,
                          log_scale, log_amp, cache.state);
    return proj_.forward(raw::reshape(y, {B, H * D}));
}

}  // namespace splatlm
