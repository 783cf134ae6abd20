#include "splat/splat_local.h"

#include <cmath>

#include "autograd/ops.h"
#include "nn/causal_attention.h"
#include "nn/kv_cache.h"
#include "splat/splat_op.h"
#include "tensor/error.h"
#include "tensor/ops.h"

namespace splatlm {

namespace {
// g·local + (1 − g)·splat = splat + g·(local − splat), g broadcast over [B, H, T, D] from [H].
Tensor gate_mix(const Tensor& local, const Tensor& splat, const Tensor& gate_logit) {
    const Tensor g = reshape(sigmoid(gate_logit), {1, gate_logit.size(0), 1, 1});
    return splat + g * (local - splat);
}
}  // namespace

Tensor splat_local_attention(const Tensor& q, const Tensor& k, const Tensor& v, int64_t window, const Tensor& centres,
                             const Tensor& log_scale, const Tensor& log_amp, const Tensor& gate_logit) {
    SPLATLM_CHECK(window > 0, "splat_local attention: the window must be positive, got ", window);
    SPLATLM_CHECK(gate_logit.dim() == 1 && q.dim() == 4 && gate_logit.size(0) == q.size(1),
                  "splat_local attention: gate_logit must be [H] for q of shape [B, H, T, D], got ",
                  shape_str(gate_logit.shape()), " and ", shape_str(q.shape()));
    return gate_mix(causal_softmax_attention(q, k, v, window), splat_attention(q, k, v, centres, log_scale, log_amp),
                    gate_logit);
}

SplatLocalAttention::SplatLocalAttention(const GPTConfig& c, int64_t layer, Rng& rng)
    : ProjectedAttention(c, rng),
      window_(c.window),
      centres(add_parameter("centres", Tensor::randn({c.heads, c.splats, c.head_dim()}, rng, 0.5f))),
      log_scale(add_parameter("log_scale", Tensor::full({c.heads, c.splats}, 0.5f * std::log(float(c.head_dim()))))),
      log_amp(add_parameter("log_amp", Tensor::zeros({c.heads, c.splats}))),
      gate_logit(add_parameter("gate_logit", Tensor::zeros({c.heads}))) {
    SPLATLM_CHECK(c.splats > 0, "splat_local attention: the number of splats must be positive, got ", c.splats);
    SPLATLM_CHECK(c.window > 0, "splat_local attention: the window must be positive, got ", c.window);
}

Tensor SplatLocalAttention::mix(const QKV& h) {
    return splat_local_attention(h.q, h.k, h.v, window_, centres, log_scale, log_amp, gate_logit);
}

namespace {
// The window's keys and values (a ring of `window` slots) beside the splat state.
struct SplatLocalCache : KVCache {
    SplatLocalCache(int64_t batch, int64_t heads, int64_t splats, int64_t dim, int64_t max_len, int64_t window)
        : KVCache(batch, heads, dim, max_len, window), splat(batch, heads, splats, dim) {}
    SplatState splat;
};
}  // namespace

std::unique_ptr<AttentionCache> SplatLocalAttention::new_cache(int64_t batch, int64_t max_len) const {
    return std::make_unique<SplatLocalCache>(batch, heads_, splats(), head_dim_, max_len, window_);
}

// One position: O(H·(w + K)·D) work, O(H·(w + K)·D) state.
Tensor SplatLocalAttention::step(const Tensor& x_t, AttentionCache& base) {
    SplatLocalCache& cache = dynamic_cast<SplatLocalCache&>(base);
    NoGradGuard no_grad;
    const int64_t B = x_t.size(0), H = heads_, D = head_dim_;
    Tensor qkv = raw::reshape(raw::contiguous(qkv_.forward(x_t)), {B, 3, H, D});
    const Tensor q = raw::select(qkv, 1, 0), k = raw::select(qkv, 1, 1), v = raw::select(qkv, 1, 2);
    Tensor local = cache.attend(q, k, v);  // checks the length first, before the splat state moves
    Tensor splat = splat_step(q, k, v, centres, log_scale, log_amp, cache.splat);
    Tensor y = gate_mix(raw::reshape(local, {B, H, 1, D}), raw::reshape(splat, {B, H, 1, D}), gate_logit);
    return proj_.forward(raw::reshape(y, {B, H * D}));
}

}  // namespace splatlm
