// splat_op.h — Gaussian splat attention as one fused autograd op, its O(T²) reference, and the
// O(K·D)-per-token recurrent step used for generation. The math (and the backward's derivation)
// is in docs/SPLAT.md; tests are `./bin/tests "[splat]"`. Where each part lives: the op and its
// autograd node splat_op.cpp, the CPU passes splat_cpu.cpp, the GPU's splat_gpu.cpp, the step
// splat_step.cpp, the reference splat_reference.cpp (splat/README.md).
//
// Per head, K splats j with centre μ_j ∈ R^D, scale s_j = exp(log_scale_j), amplitude
// a_j = exp(log_amp_j). With c_j = 1 / (2 s_j²):
//
//   lk[t,j] = log a_j − c_j·‖k_t − μ_j‖²            (how strongly token t writes into splat j)
//   lq[t,j] =         − c_j·‖q_t − μ_j‖²            (how strongly token t reads from splat j)
//   z_t[j]  = Σ_{u≤t} exp(lk[u,j]),   S_t[j] = Σ_{u≤t} exp(lk[u,j])·v_u        (causal splat state)
//   y_t     = Σ_j exp(lq[t,j])·S_t[j] / (Σ_j exp(lq[t,j])·z_t[j] + ε·exp(M_t)),
//             M_t = max_j (lq[t,j] + log z_t[j]),  ε = kSplatEps
//
// i.e. each splat keeps the running (exp lk-weighted) mean of past values, and each token mixes
// those means with softmax weights over splats of lq + log z. The implied token-to-token weights
// are ≥ 0, zero for u > t, of rank ≤ K, and each row sums to 1/(1 + ε/Σ_j exp(ℓ_j − M_t)) ≤ 1.
//
// Options (SplatOptions, each off unless given; docs/SPLAT.md §9):
//   decay:     r_j = exp(log_decay_j) ≥ 0 per token; a write at u counts at t with e^{lk[u,j] − r_j·(t−u)},
//              so z_t = e^{−r}·z_{t−1} + e^{lk[t]} and S_t likewise — splats forget at learned rates;
//   send_bias: b[t,j] added to lk (content gating: b = log σ(x_t·g_j) scales what t writes by the gate);
//   read_bias: ρ_j added to lq (the learned weight of splat j's level in hierarchical splats);
//   top:       sparse routing, p = top ∈ [1, K] (0 = all K splats, the dense op; docs/SPLAT.md §10):
//              token t writes only into its p splats of largest lk[t] (its write elsewhere is absent,
//              as if lk = −∞) and reads only from its p splats of largest lq[t] (π = 0 elsewhere);
//              ties go to the lower index. A read splat nothing has been written to yet contributes
//              nothing, and a token whose p read splats are all empty gets y_t = 0. Gradients flow
//              through the selected entries only (the selection is piecewise constant).
//   token_decay: ρ[t,j] ≥ 0, an input-dependent rate added to r_j when token t is absorbed: the state
//              before t is scaled by e^{−(r_j + ρ[t,j])}, so a write at u counts at t with
//              e^{lk[u,j] − Σ_{s=u+1..t} (r_j + ρ[s,j])} (the forget gate of GLA / Mamba; SPLAT.md §14).
//
// Cost: O(T·K·D) time per head (forward and backward), memory linear in T; with top = p the state and
// read-out columns cost O(T·p·D) (an unselected splat's scaled state is untouched, decay or not), the
// affinities stay O(T·K·D). Nothing ever sums a splat's state over the whole sequence, and no T×T
// matrix exists outside the reference.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "splat/splat_math.h"
#include "tensor/tensor.h"

namespace splatlm {

// Optional extensions of the op; an undefined tensor means "off". The tensors are differentiable.
struct SplatOptions {
    Tensor log_decay;  // [H, K]: recency decay rate r = exp(log_decay) per token
    Tensor send_bias;  // [B, H, T, K] ([B, H, K] for splat_step): added to the key affinities lk
    Tensor read_bias;  // [H, K]: added to the query affinities lq
    int64_t top = 0;   // 0 ≤ top ≤ K: each token writes to / reads from its top splats only (0 = all)
    Tensor token_decay{};  // [B, H, T, K] ([B, H, K] for splat_step), ≥ 0: added to the decay rate at token t
};

// q, k, v: [B, H, T, D] (any strides); centres: [H, K, D]; log_scale, log_amp: [H, K].
// Returns y: [B, H, T, D] (a view of a [B, T, H, D] buffer, so merging heads afterwards is free).
// The op saves only per-token scalars (O(T·K) per head) and the backward recomputes the splat
// state from t = 0 in column blocks, so activation memory is O(T·K) per head beyond the inputs and
// outputs. Work is split in fixed 256-token ranges and 16-column blocks, never by thread count.
// With `read_weights`, it is also set to π [B, H, T, K] as splat_read_weights gives it, on the inputs'
// device and with no gradient (splat_flow's input: splat/splat_flow.h). The CPU forward has π anyway;
// on CUDA inputs it is computed again on the host (splat_read_weights), a copy each way per call.
Tensor splat_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& centres,
                       const Tensor& log_scale, const Tensor& log_amp, const SplatOptions& options = {},
                       Tensor* read_weights = nullptr);

// The O(T²·K) reference in float64: builds every weight w[t,u] explicitly and returns Σ_u w[t,u]·v_u.
Tensor splat_attention_reference(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& centres,
                                 const Tensor& log_scale, const Tensor& log_amp, const SplatOptions& options = {});

// The implied token-to-token weights of one (batch b, head h), computed in float64 as in the
// reference: [T, T] with w[t,u] = Σ_j π_tj·exp(lk[u,j] − Σ_{s=u+1..t} (r_j + ρ[s,j])) / z_t[j] for u ≤ t (ρ: the
// token decay, 0 when off), 0 above the diagonal.
Tensor splat_weights_reference(const Tensor& q, const Tensor& k, const Tensor& centres, const Tensor& log_scale,
                               const Tensor& log_amp, int64_t b, int64_t h, const SplatOptions& options = {});

// The routing rule of SplatOptions::top on one token's affinities l[0, K), for float64 recomputations
// (the reference, splat_stats): whether splat j is among the `top` largest, ties to the lower index.
// Always true for top = 0.
bool splat_picked(const double* l, int64_t K, int64_t top, int64_t j);

// π of one (batch b, head h) in float64 as the reference computes it: [T, K], the oracle of
// splat_read_weights.
Tensor splat_read_weights_reference(const Tensor& q, const Tensor& k, const Tensor& centres, const Tensor& log_scale,
                                    const Tensor& log_amp, int64_t b, int64_t h, const SplatOptions& options = {});

// Where each token's write goes, of one (batch b, head h) in float64: [T, K] with
// share[t,j] = softmax over the splats t writes to of lk[t,j] (send_bias included), 0 for a splat
// that top-p routing leaves out. Rows sum to 1. (Decay acts later, on how long the write counts.)
Tensor splat_write_shares_reference(const Tensor& q, const Tensor& k, const Tensor& centres, const Tensor& log_scale,
                                    const Tensor& log_amp, int64_t b, int64_t h, const SplatOptions& options = {});

// The read-out weights π [B, H, T, K] of every token over the splats, with every option applied, as
// the op computes them (its first two passes; no autograd; inputs on any device, result on the CPU).
// Each row sums to 1/(1 + ε/Σ_j e^{ℓ_j − M}) ≤ 1, or to 0 for a routed token with nothing to read.
Tensor splat_read_weights(const Tensor& q, const Tensor& k, const Tensor& centres, const Tensor& log_scale,
                          const Tensor& log_amp, const SplatOptions& options = {});

// ---- generation: the recurrent form (no KV cache) ----
// Per (batch, head, splat): running max m of the decayed lk (m ← max(m − r, lk)), z̃ = z·e^{−m},
// S̃ = S·e^{−m}. So z = exp(m)·z̃ and S = exp(m)·S̃ exactly; m starts at −∞ and z̃, S̃ at 0.
struct SplatState {
    int64_t batch = 0, heads = 0, splats = 0, dim = 0, length = 0;  // length: tokens absorbed so far
    Tensor m, z, S;  // [B, H, K], [B, H, K], [B, H, K, D]
    SplatState() = default;
    SplatState(int64_t batch, int64_t heads, int64_t splats, int64_t dim, Device device = Device::CPU);
    // m, z, S as CPU copies named prefix + "m" …, and back (AttentionCache::contents/restore).
    void save_to(NamedTensors& out, const std::string& prefix = "") const;
    void restore(const NamedTensors& saved, int64_t length, const std::string& prefix = "");
};

// One position: q_t, k_t, v_t: [B, H, D] (any strides) → y_t: [B, H, D]; absorbs k_t, v_t into
// `state` first (position t sees itself), exactly as the parallel form does. No autograd.
// CUDA inputs need a CUDA state (SplatState(B, H, K, D, Device::CUDA)). With `read_weights`, it is
// also set to the token's π [B, H, K], as the parallel form's π at that position (on a GPU, computed
// by the CPU step on host copies).
Tensor splat_step(const Tensor& q_t, const Tensor& k_t, const Tensor& v_t, const Tensor& centres,
                  const Tensor& log_scale, const Tensor& log_amp, SplatState& state, const SplatOptions& options = {},
                  Tensor* read_weights = nullptr);

}  // namespace splatlm
