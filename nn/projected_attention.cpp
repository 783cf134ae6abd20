#include "nn/projected_attention.h"

#include <cmath>

#include "autograd/graph.h"
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

Tensor ProjectedAttention::step(const Tensor& x_t, AttentionCache& cache) {
    NoGradGuard no_grad;
    const int64_t B = x_t.size(0);
    Tensor qkv = qkv_.forward(x_t);
    AttentionCache* mixer = &cache;
    if (conv_) {
        auto& with_conv = dynamic_cast<ShortConvCache&>(cache);
        qkv = conv_->step(qkv, with_conv.window);
        mixer = with_conv.mixer.get();
    }
    qkv = raw::reshape(raw::contiguous(qkv), {B, 3, heads_, head_dim_});
    const QKV h{raw::select(qkv, 1, 0), raw::select(qkv, 1, 1), raw::select(qkv, 1, 2)};
    return proj_.forward(raw::reshape(step_mix(h, x_t, *mixer), {B, heads_ * head_dim_}));
}

}  // namespace splatlm
