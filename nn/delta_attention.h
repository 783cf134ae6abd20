// delta_attention.h — the `delta` kind: DeltaNet (Schlag et al. 2021; Yang et al. 2024), the
// delta-rule baseline of issue 17's recall table:
//
//   q, k, v = the frame's heads (nn/projected_attention.h);   φ(x) = x / √(‖x‖² + ε)  (L2 over the head dim)
//   β_t     = σ(x_t·w_β + b_β)        one write strength per head from the layer input (a Linear C → H)
//   y       = delta_rule(φ(q), φ(k), v, β)    (nn/delta_rule.h: S_t = S_{t−1} + β_t(v_t − S_{t−1}k_t)k_tᵀ, y_t = S_t q_t)
//
// Unit keys and β ∈ (0, 1) make every write a contraction of the old state (docs/SPLAT.md §15).
// Generation carries S, D×D per head (the short conv's window rides in the frame's cache).
#pragma once
#include "nn/projected_attention.h"

namespace splatlm {

// x / √(Σ x² + ε) along the last axis, differentiable.
Tensor unit_rows(const Tensor& x);

// The delta rule's state per (batch, head): S [B, H, D, P] on the CPU.
struct DeltaCache : AttentionCache {
    Tensor S;
    NamedTensors contents() const override { return {{"S", saved_copy(S)}}; }
    void restore(const NamedTensors& saved, int64_t) override { restore_tensor(S, saved, "S"); }
};

class DeltaAttention : public ProjectedAttention {
  public:
    DeltaAttention(const GPTConfig& config, int64_t layer, Rng& rng);  // qkv, proj, conv, then the write gate

  private:
    Tensor mix(const QKV& h, const Tensor& x) override;
    Tensor step_mix(const QKV& h, const Tensor& x_t, AttentionCache& cache) override;
    std::unique_ptr<AttentionCache> new_mix_cache(int64_t batch, int64_t max_len) const override;

    Linear& write_gate_;  // C → H: the logits of β
};

// β = σ(gate(x)) as the op takes it: x [B, T, C] → [B, H, T]; one position x [B, C] → [B, H].
Tensor write_strength(const Linear& gate, const Tensor& x);

}  // namespace splatlm
