#include "nn/projected_attention.h"

#include <cmath>

#include "autograd/graph.h"
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

namespace {
// q, k, v views [B, H, D] of one position's projection qkv_t: [B, 3·H·D].
QKV step_heads(const Tensor& qkv_t, int64_t heads, int64_t head_dim) {
    Tensor qkv = raw::reshape(raw::contiguous(qkv_t), {qkv_t.size(0), 3, heads, head_dim});
    return {raw::select(qkv, 1, 0), raw::select(qkv, 1, 1), raw::select(qkv, 1, 2)};
}
}  // namespace

ProjectedAttention::ProjectedAttention(const GPTConfig& c, Rng& rng)
    : heads_(c.heads),
      head_dim_(c.head_dim()),
      qkv_(add_module("qkv", std::make_unique<Linear>(c.width, 3 * c.width, true, rng))),
      proj_(add_module("proj", std::make_unique<Linear>(c.width, c.width, true, rng,
                                                        0.02f / std::sqrt(2.f * c.layers)))) {
    if (c.short_conv > 0) conv_ = &add_module("conv", std::make_unique<ShortConv>(3 * c.width, c.short_conv, rng));
}

namespace {
// A kind's cache with the short conv's window of the last K − 1 projected inputs beside it.
struct ShortConvCache : AttentionCache {
    std::unique_ptr<AttentionCache> mixer;
    Tensor window;  // [B, K − 1, 3C]
    NamedTensors contents() const override {
        NamedTensors out = mixer->contents();
        out.emplace_back("short_conv.window", saved_copy(window));
        return out;
    }
    void restore(const NamedTensors& saved, int64_t length) override {
        mixer->restore(saved, length);
        restore_tensor(window, saved, "short_conv.window");
    }
};
}  // namespace

std::unique_ptr<AttentionCache> ProjectedAttention::new_cache(int64_t batch, int64_t max_len) const {
    if (!conv_) return new_mix_cache(batch, max_len);
    auto cache = std::make_unique<ShortConvCache>();
    cache->mixer = new_mix_cache(batch, max_len);
    cache->window = conv_->new_window(batch, qkv_.weight.device());
    return cache;
}

AttentionCache& ProjectedAttention::mix_cache(AttentionCache& cache) const {
    return conv_ ? *dynamic_cast<ShortConvCache&>(cache).mixer : cache;
}

// One position's projection through the conv (when on), advancing its window; `cache` becomes the
// kind's part of the cache.
Tensor ProjectedAttention::step_qkv(const Tensor& qkv_t, AttentionCache*& cache) const {
    if (!conv_) return qkv_t;
    auto& with_conv = dynamic_cast<ShortConvCache&>(*cache);
    cache = with_conv.mixer.get();
    return conv_->step(qkv_t, with_conv.window);
}

Tensor ProjectedAttention::step(const Tensor& x_t, AttentionCache& cache) {
    NoGradGuard no_grad;
    AttentionCache* mixer = &cache;
    const Tensor qkv = step_qkv(qkv_.forward(x_t), mixer);
    return proj_.forward(step_mix(step_heads(qkv, heads_, head_dim_), x_t, *mixer));
}

// A product of ≤ a few rows computes each row as the one-row product does (tensor/gemm.cpp: short A
// reads its operands in place, in the same order), so sharing the projections keeps rows bitwise.
Tensor ProjectedAttention::step_rows(const Tensor& x, const std::vector<AttentionCache*>& caches) {
    NoGradGuard no_grad;
    const int64_t R = x.size(0);
    SPLATLM_CHECK(int64_t(caches.size()) == R, "attention: step_rows needs one cache per row, got ", caches.size(),
                  " for ", R);
    const Tensor qkv = qkv_.forward(x);
    Tensor mixed = Tensor::empty({R, heads_ * head_dim_}, x.device());
    for (int64_t r = 0; r < R; ++r) {
        Tensor row = raw::slice(mixed, 0, r, r + 1);
        AttentionCache* mixer = caches[r];
        const Tensor qkv_r = step_qkv(raw::slice(qkv, 0, r, r + 1), mixer);
        raw::copy_into(row, step_mix(step_heads(qkv_r, heads_, head_dim_), raw::slice(x, 0, r, r + 1), *mixer));
    }
    return proj_.forward(mixed);
}

}  // namespace splatlm
