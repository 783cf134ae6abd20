// splat_cpu.h — the splat op on the CPU as named passes on explicit dimensions (B, H, T, K, D), forward
// beside backward, in the shape of llm.c's layernorm_forward / layernorm_backward. splat_op.cpp wraps
// them in one autograd node; splat_step runs the forward on one token from a carried state.
//
// Forward (splat_forward_cpu):
//   1. affinity_pass  lk, lq per range of kTokens rows (one GEMM X·μᵀ each), and top-p routes;
//   2. scalar_pass    the running max m and z̃ (the one sequential pass, O(K) per token), then the
//                     read-out weights π over splats, per range of tokens;
//   3. column_pass    the state S̃ and the output y, O(K·D) per token, in blocks of kColumns columns.
// Backward (splat_backward_cpu), the same in reverse:
//   4. column_adjoint_pass     per column block: S̃ rebuilt forward, the adjoint Ŝ carried back in time;
//                              dv and the partial dot products dy·S̃ and Ŝ·v;
//   5. token_adjoint_pass      per token: dlq and the direct z-term X (splat_math.h's read_out_adjoint);
//   6. normaliser_adjoint_pass per head: the reverse scan of Ẑ → dlk, and the decay/read-bias sums;
//   7. affinity_backward_pass  per head and side: dq, dk and the splats' shares (GEMMs), summed after.
// Work is split in fixed 256-token ranges and 16-column blocks, never by thread count, so results
// are bitwise the same for any number of threads. Math and derivation: docs/SPLAT.md.
#pragma once
#include <cstdint>
#include <vector>

#include "splat/splat_kernels.h"
#include "splat/splat_op.h"
#include "splat/splat_routes.h"
#include "tensor/tensor.h"

namespace splatlm {

struct SplatDims {
    int64_t B, H, T, K, D;
};

// What the forward keeps for the backward: every affinity (O(T·K) per head), the per-token scalars
// and, with top-p, the routes. Nothing O(T·K·D) is kept: the backward rebuilds S̃.
struct SplatSaved {
    Tensor lq, lk;  // [B, H, T, K]
    HeadScalars scalars;
    Routes routes;
    SplatSaved(const SplatDims& n, int64_t top);
};

// y = splat attention of q, k, v: [B, H, T, D] (any strides) → [B, H, T, D], a view of a [B, T, H, D]
// buffer. With `carry` (the recurrent step's state, on the CPU), the scan starts from its m, z̃, S̃
// instead of the empty state and leaves the state after the last token in it.
Tensor splat_forward_cpu(const Tensor& q, const Tensor& k, const Tensor& v, const Splats& sp, SplatSaved& saved,
                         SplatState* carry = nullptr);

// The gradients of q, k, v, centres, log_scale, log_amp and of the options that are on (log_decay,
// send_bias, read_bias: splat_op.cpp's op_inputs order), from the output's gradient `grad`.
std::vector<Tensor> splat_backward_cpu(const Tensor& q, const Tensor& k, const Tensor& v, const Splats& sp,
                                       const SplatOptions& opt, const SplatSaved& saved, const Tensor& grad);

// Passes 1 and 2 alone: the read-out weights π [B, H, T, K] of every token over the splats.
Tensor splat_read_weights_cpu(const Tensor& q, const Tensor& k, const Splats& sp, int64_t top);
// The π [B, H, T, K] a forward kept in `saved` (a copy: later passes do not touch it).
Tensor saved_read_weights(const SplatSaved& saved, const SplatDims& n);

}  // namespace splatlm
