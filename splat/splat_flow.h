// splat_flow.h — trajectory flow (`splat_flow`, docs/SPLAT.md §16): a splat layer learns where its
// tokens sit from which splats the same tokens read in the splat layer below.
//
//   δ[b,h,t,:] = Σ_j π_below[b,h,t,j]·W[h,j,:]      (W: the layer's `flow` [H, K_below, D], init 0)
//   q'_t = q_t + δ_t,   k'_t = k_t + δ_t              (then the affinities lq, lk of q', k', as always)
//
// π_below is the read-out weight of token t over the lower layer's splats (splat_op.h), so δ_t depends
// on tokens ≤ t only: causal. With W = 0 the layer is exactly the layer without flow. π_below enters
// as data (computed without a graph by the lower layer's op): the gradient reaches W and this layer's
// q and k, not the lower layer through π.
#pragma once
#include "nn/projected_attention.h"
#include "tensor/tensor.h"

namespace splatlm {

// δ = π·W per head: reads [B, H, T, K] (or one position's [B, H, K]), flow [H, K, D] → [B, H, T, D]
// (or [B, H, D]). Differentiable in `flow`.
Tensor flow_shift(const Tensor& reads, const Tensor& flow);
// A layer's heads with q and k moved: {q + δ, k + δ, v}, δ = flow_shift(reads, flow).
QKV moved_by_flow(const QKV& heads, const Tensor& reads, const Tensor& flow);

}  // namespace splatlm
