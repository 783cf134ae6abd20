#include "splat/splat_local.h"

#include "autograd/ops.h"
#include "nn/causal_attention.h"
#include "nn/kv_cache.h"
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
                             const Tensor& log_scale, const Tensor& log_amp, const Tensor& gate_logit,
                             const SplatOptions& options) {
    SPLATLM_CHECK(window > 0, "splat_local attention: the window must be positive, got ", window);
    SPLATLM_CHECK(gate_logit.dim() == 1 && q.dim() == 4 && gate_logit.size(0) == q.size(1),
                  "splat_local attention: gate_logit must be [H] for q of shape [B, H, T, D], got ",
                  shape_str(gate_logit.shape()), " and ", shape_str(q.shape()));
    return gate_mix(causal_softmax_attention(q, k, v, window),
                    splat_attention(q, k, v, centres, log_scale, log_amp, options), gate_logit);
}

SplatLocalAttention::SplatLocalAttention(const GPTConfig& c, int64_t layer, Rng& rng)
    : SplatAttention(c, layer, rng), window_(c.window), gate_logit(add_parameter("gate_logit", Tensor::zeros({c.heads}))) {
    SPLATLM_CHECK(c.window > 0, "splat_local attention: the window must be positive, got ", c.window);
}

Tensor SplatLocalAttention::mix(const QKV& h, const Tensor& x) {
    return splat_local_attention(h.q, h.k, h.v, window_, centres, log_scale, log_amp, gate_logit, options(x));
}

namespace {
// The window's keys and values (a ring of `window` slots) beside the splat state.
struct SplatLocalCache : KVCache {
    SplatLocalCache(int64_t batch, int64_t heads, int64_t splats, int64_t dim, int64_t max_len, int64_t window,
                    Device device)
        : KVCache(batch, heads, dim, max_len, window), splat(batch, heads, splats, dim, device) {}
    SplatState splat;
    NamedTensors contents() const override {
        NamedTensors out = KVCache::contents();
        splat.save_to(out, "splat.");
        return out;
    }
    void restore(const NamedTensors& saved, int64_t length) override {
        KVCache::restore(saved, length);
        splat.restore(saved, length, "splat.");
    }
};
}  // namespace

std::unique_ptr<AttentionCache> SplatLocalAttention::new_mix_cache(int64_t batch, int64_t max_len) const {
    return std::make_unique<SplatLocalCache>(batch, heads_, splats(), head_dim_, max_len, window_, centres.device());
}

// One position: O(H·(w + K)·D) work, O(H·(w + K)·D) state.
Tensor SplatLocalAttention::step_mix(const QKV& h, const Tensor& x_t, AttentionCache& base) {
    SplatLocalCache& cache = dynamic_cast<SplatLocalCache&>(base);
    const int64_t B = x_t.size(0), H = heads_, D = head_dim_;
    Tensor local = cache.attend(h.q, h.k, h.v);  // checks the length first, before the splat state moves
    Tensor splat = splat_step_heads(h, x_t, cache.splat);
    Tensor y = gate_mix(raw::reshape(local, {B, H, 1, D}), raw::reshape(splat, {B, H, 1, D}), gate_logit);
    return raw::reshape(y, {B, H * D});
}

}  // namespace splatlm
