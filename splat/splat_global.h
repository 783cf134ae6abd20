// splat_global.h — non-causal Gaussian splat attention: every query reads the splat state built from
// ALL keys and values. Bidirectional when q, k, v come from one sequence; cross-attention when the
// queries come from another (Tq ≠ Tk allowed). Same parameters and affinities as the causal op
// (splat/splat_op.h, docs/SPLAT.md §1), with c_j = 1 / (2 s_j²):
//
//   lk[u,j] = log a_j − c_j·‖k_u − μ_j‖²,     lq[t,j] = −c_j·‖q_t − μ_j‖²
//   v̄_j     = Σ_u softmax_u(lk[:,j]) · v_u                 each splat's mean of all values
//   ℓ_tj    = lq[t,j] + logsumexp_u lk[u,j]                 (= lq + log z_j, z_j = Σ_u e^{lk[u,j]})
//   y_t     = Σ_j softmax_j(ℓ_t) · v̄_j
//
// This is the causal op's last row for every query (up to its relative ε = 1e-6), and it does not
// depend on the order of the keys. Written as a composite of differentiable ops (matmul, softmax,
// max-subtracted logsumexp), so autograd gives the backward; no exponent is ever positive.
// Cost O((Tq + Tk)·K·D) time, O((Tq + Tk)·K) memory beyond the inputs. Tests: ./bin/tests "[splat_global]".
#pragma once
#include "tensor/tensor.h"

namespace splatlm {

// q: [B, H, Tq, D]; k, v: [B, H, Tk, D] (any strides); centres [H, K, D]; log_scale, log_amp [H, K].
// Returns y: [B, H, Tq, D].
Tensor splat_attention_global(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& centres,
                              const Tensor& log_scale, const Tensor& log_amp);

// The float64 O(Tq·Tk·K) reference: builds w[t,u] = Σ_j softmax_j(ℓ_t)·e^{lk[u,j]} / z_j explicitly
// (direct squares ‖x − μ‖², no expansion) and returns Σ_u w[t,u]·v_u. The test oracle.
Tensor splat_attention_global_reference(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& centres,
                                        const Tensor& log_scale, const Tensor& log_amp);

}  // namespace splatlm
