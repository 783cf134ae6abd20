// splat_delta.h — the `splat_delta` kind: one delta-rule memory per head whose key is routed into
// K Gaussian splats, each with its own P-dimensional sub-space (docs/SPLAT.md §15):
//
//   lk[t,j] = log a_j − ‖k_t − μ_j‖² / (2 s_j²)      w_t = softmax_j lk[t,·]     (the op's send affinity, §1)
//   lq[t,j] =         − ‖q_t − μ_j‖² / (2 s_j²)      π_t = softmax_j lq[t,·]     (its receive affinity)
//   φ_j(x)  = normalise(U_j (x − μ_j))  ∈ R^P         the offset of x within splat j, in the splat's frame U_j: P×D
//   φ(k_t)  = concat_j √w_tj · φ_j(k_t),   φ(q_t) = concat_j √π_tj · φ_j(q_t)      ∈ R^{K·P}, unit norm
//   y       = delta_rule(φ(q), φ(k), v, β),   β_t = σ(x_t·w_β + b_β) per head    (nn/delta_rule.h)
//
// So the state is K blocks M_j ∈ R^{D×P}; a write corrects block j by the share w_tj along the key's
// offset inside splat j: keys in different splats never interfere, keys in one splat are told apart
// by their direction from its centre. (The scale s_j drops out of φ_j — normalise(U_j(x − μ)/s) is
// normalise(U_j(x − μ)) — and acts through the affinities only.) K·P state columns per head, so
// O(K·P·D) per token. Scales and amplitudes start as splat attention's, centres at a fifth of its
// spread (N(0, 0.1²): inside the keys, see the .cpp); U_j ~ N(0, 1/D).
// (Own frames rather than one U per head: with one U every splat sees the key only through the same
// P numbers U k, so the K·P features of a key carry P dimensions of its identity plus the routing.)
// With `splat_delta_key_route`, a query reads through its own token's send shares: φ(q_t) uses w_t (from
// k_t) in place of π_t, so a token that comes back reads the very splats it was written into, and q
// and k need not learn to agree on the routing as well as on the direction.
// With `splat_top` = p, a token's send shares outside its p largest are 0 (the kept ones are not
// renormalised): it writes to p blocks only, and the other blocks of the state are untouched by its
// write, however many such tokens follow. Reads stay dense.
// Health, statistics, pictures and splat life (splat/splat_health.h …) cover `splat` and
// `splat_local` only. On CUDA through the op's kernels (K·P ≤ 128 state columns there).
#pragma once
#include "nn/delta_attention.h"

namespace splatlm {

// √w_t (or √π_t) of the table above: x [B, H, T, D], centres [H, K, D], log_scale [H, K]; log_amp [H, K] for
// keys (send affinities), undefined for queries (receive) → [B, H, T, K]. top ∈ (0, K): each token keeps
// its `top` largest shares and the others are 0 (top-p routing; 0 = every splat).
Tensor splat_root_shares(const Tensor& x, const Tensor& centres, const Tensor& log_scale, const Tensor& log_amp,
                         int64_t top = 0);
// φ(x) of the table above from x's root shares [B, H, T, K]: frames [H, K·P, D] (U_j: rows j·P …) → [B, H, T, K·P].
Tensor splat_delta_features(const Tensor& x, const Tensor& centres, const Tensor& frame, const Tensor& root_share);

class SplatDeltaAttention : public ProjectedAttention {
  public:
    SplatDeltaAttention(const GPTConfig& config, int64_t layer, Rng& rng);  // qkv, proj, conv, centres, frame, gate

    Tensor& centres;    // [H, K, D]
    Tensor& log_scale;  // [H, K]
    Tensor& log_amp;    // [H, K]
    Tensor& frame;      // [H, K·P, D]: U_j (rows j·P … j·P + P − 1), the directions splat j tells its keys apart by

  private:
    Tensor mix(const QKV& h, const Tensor& x) override;
    Tensor step_mix(const QKV& h, const Tensor& x_t, AttentionCache& cache) override;
    std::unique_ptr<AttentionCache> new_mix_cache(int64_t batch, int64_t max_len) const override;
    // φ(q), φ(k) for heads [B, H, T, D].
    std::pair<Tensor, Tensor> features(const Tensor& q, const Tensor& k) const;

    Linear& write_gate_;  // C → H: the logits of β
    bool key_route_;      // φ(q_t) routed by k_t's send shares (splat_delta_key_route)
    int64_t top_;         // splat_top: each token writes to its top splats only (0 = all); reads stay dense
};

}  // namespace splatlm
