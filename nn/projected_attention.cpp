#include "nn/projected_attention.h"

#include <cmath>

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

QKV ProjectedAttention::step_heads(const Tensor& x_t) const {
    Tensor qkv = raw::reshape(raw::contiguous(qkv_.forward(x_t)), {x_t.size(0), 3, heads_, head_dim_});
    return {raw::select(qkv, 1, 0), raw::select(qkv, 1, 1), raw::select(qkv, 1, 2)};
}

ProjectedAttention::ProjectedAttention(const GPTConfig& c, Rng& rng)
    : heads_(c.heads),
      head_dim_(c.head_dim()),
      qkv_(add_module("qkv", std::make_unique<Linear>(c.width, 3 * c.width, true, rng))),
      proj_(add_module("proj", std::make_unique<Linear>(c.width, c.width, true, rng,
                                                        0.02f / std::sqrt(2.f * c.layers)))) {}

}  // namespace splatlm
