#include "nn/delta_attention.h"

#include "nn/delta_rule.h"
#include "tensor/ops.h"

namespace splatlm {

namespace {
constexpr float kUnitEps = 1e-6f;  // keeps φ(0) finite; a key of norm ≫ 1e-3 is unit to float precision
}  // namespace

Tensor unit_rows(const Tensor& x) { return x / sqrt(sum(x * x, x.dim() - 1, true) + kUnitEps); }

Tensor write_strength(const Linear& gate, const Tensor& x) {
    const Tensor b = sigmoid(gate.forward(x));
    return x.dim() == 3 ? permute(b, {0, 2, 1}) : b;
}

// The gate draws after the frame (qkv, proj, conv), so the frame initialises as in every kind;
// its bias starts at 0: every write strength starts at σ(0) = ½.
DeltaAttention::DeltaAttention(const GPTConfig& c, int64_t layer, Rng& rng)
    : ProjectedAttention(c, rng), write_gate_(add_module("write_gate", std::make_unique<Linear>(c.width, c.heads, true, rng))) {}

Tensor DeltaAttention::mix(const QKV& h, const Tensor& x) {
    return delta_rule(unit_rows(h.q), unit_rows(h.k), h.v, write_strength(write_gate_, x));
}

std::unique_ptr<AttentionCache> DeltaAttention::new_mix_cache(int64_t batch, int64_t) const {
    auto cache = std::make_unique<DeltaCache>();
    cache->S = Tensor::zeros({batch, heads_, head_dim_, head_dim_});
    return cache;
}

Tensor DeltaAttention::step_mix(const QKV& h, const Tensor& x_t, AttentionCache& base) {
    DeltaCache& cache = dynamic_cast<DeltaCache&>(base);
    const Tensor y = delta_rule_step(unit_rows(h.q), unit_rows(h.k), h.v, write_strength(write_gate_, x_t), cache.S);
    return raw::reshape(y, {x_t.size(0), heads_ * head_dim_});
}

}  // namespace splatlm
