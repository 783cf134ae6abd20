// causal_attention.h — exact causal softmax attention as one fused autograd op.
//
//   y_t = Σ_{u ∈ W(t)} softmax_u(q_t·k_u / √D) · v_u,   W(t) = [0, t]  (or [t−w+1, t] with a window w)
//
// Queries are processed in blocks of rows; each block's scores live only in a per-thread scratch
// buffer, so no T×T matrix is ever stored. The backward recomputes the probabilities from the
// saved per-row log-sum-exp (the flash-attention idea) — memory O(B·H·T) beyond q, k, v, y.
#pragma once
#include "tensor/tensor.h"

namespace splatlm {

// q, k, v: [B, H, T, D] (any strides). window = 0: full causal; w > 0: the last w positions only.
Tensor causal_softmax_attention(const Tensor& q, const Tensor& k, const Tensor& v, int64_t window = 0);

// The O(T²) reference that builds every weight explicitly: the test oracle.
Tensor causal_softmax_attention_reference(const Tensor& q, const Tensor& k, const Tensor& v, int64_t window = 0);

}  // namespace splatlm
