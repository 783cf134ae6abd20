// delta_rule.h — the delta-rule recurrence (DeltaNet: Schlag et al. 2021, Yang et al. 2024) as one
// autograd op, a generic mixer under the `delta` kind (nn/delta_attention.h) and splat/'s
// `splat_delta`. Per (batch, head), a matrix state S ∈ R^{D×P}, S_0 = 0, and for t = 0..T−1:
//
//   S_t = S_{t−1} + β_t (v_t − S_{t−1} k_t) k_tᵀ        (correct what S stores under k_t toward v_t)
//   o_t = S_t q_t
//
// With ‖k_t‖ ≤ 1 and β_t ∈ (0, 1), S_{t−1}(I − β_t k_t k_tᵀ) is a contraction: the state stays bounded.
// The forward saves S every kDeltaChunk tokens; the backward recomputes each chunk's states from its
// checkpoint and runs the reverse scan (derivation in the .cpp). CUDA tensors (D, P ≤ 128) go to the
// same scans as kernels, one thread block per head (cuda/delta_scan_steps.h; tested on the host, not
// yet run on a GPU).
#pragma once
#include <cstdint>
#include <vector>

#include "cuda/delta_scan_steps.h"
#include "tensor/tensor.h"

namespace splatlm {

using cuda::kDeltaChunk;  // tokens between the states the forward keeps (one constant for CPU and GPU)

// q, k: [B, H, T, P]; v: [B, H, T, D]; beta: [B, H, T] or [B, H, T, 1] (any strides) → o: [B, H, T, D].
Tensor delta_rule(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& beta);
// The same recurrence in float64, one token at a time: the tests' yardstick.
Tensor delta_rule_reference(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& beta);

// One position of the recurrence, for generation (no autograd): q, k [B, H, P], v [B, H, D], beta
// [B, H] on any device; `state` [B, H, D, P] on the CPU, advanced in place → o [B, H, D] on q's device.
// A model on the GPU steps on the host too (its q, k, v, β come over, o goes back: small copies per
// layer and token), which is simple and exactly the CPU's step; a device step is not written.
Tensor delta_rule_step(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& beta, Tensor& state);

// One head's state S (D×P, row-major: row i = value dim i) in memory someone else owns: the per-token
// math of the op, its backward's recomputation and the generation step.
struct DeltaState {
    float* S;
    int64_t D, P;
    // S += β (v − S k) kᵀ; the prediction error u = v − S k (before the write) goes to `error` (D floats).
    void write(const float* k, const float* v, float beta, float* error) const;
    void read(const float* q, float* out) const;  // out = S q
};

}  // namespace splatlm
