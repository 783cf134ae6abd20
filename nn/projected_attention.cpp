#include "nn/projected_attention.h"

#include <cmath>

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

Tensor ProjectedAttention::step(const Tensor& x_t, AttentionCache& cache) {
    NoGradGuard no_grad;
    return proj_.forward(step_mix(step_heads(qkv_.forward(x_t), heads_, head_dim_), x_t, cache));
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
        raw::copy_into(row, step_mix(step_heads(raw::slice(qkv, 0, r, r + 1), heads_, head_dim_),
                                     raw::slice(x, 0, r, r + 1), *caches[r]));
    }
    return proj_.forward(mixed);
}

ProjectedAttention::ProjectedAttention(const GPTConfig& c, Rng& rng)
    : heads_(c.heads),
      head_dim_(c.head_dim()),
      qkv_(add_module("qkv", std::make_unique<Linear>(c.width, 3 * c.width, true, rng))),
      proj_(add_module("proj", std::make_unique<Linear>(c.width, c.width, true, rng,
                                                        0.02f / std::sqrt(2.f * c.layers)))) {}

}  // namespace splatlm
