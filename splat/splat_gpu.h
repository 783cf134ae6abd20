// splat_gpu.h — the splat op on CUDA tensors, the same three entry points as the CPU's (forward,
// backward, recurrent step), each a sequence of launches of the chunked scan (splat_scan_passes.h,
// splat_scan.cu). Without nvcc the launches are stubs that say so. splat_op.cpp and splat_step.cpp
// dispatch here; the host tests run the same passes in plain loops (tests/test_cuda_splat.cpp).
#pragma once
#include <vector>

#include "splat/splat_op.h"
#include "splat/splat_scan_passes.h"
#include "tensor/tensor.h"

namespace splatlm {

// y: [B, H, T, D] (a view of a [B, T, H, D] buffer, as on the CPU). The backward keeps nothing from
// the forward: it runs the forward's passes again, then its own.
Tensor splat_forward_gpu(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& centres,
                         const Tensor& log_scale, const Tensor& log_amp, const SplatOptions& opt);
// The gradients of every input (splat_inputs.h's order) from the output's gradient, grad.
std::vector<Tensor> splat_backward_gpu(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& centres,
                                       const Tensor& log_scale, const Tensor& log_amp, const SplatOptions& opt,
                                       const Tensor& grad);
// One token from (and into) a CUDA SplatState: passes A, D, E, F with the state as the incoming state.
Tensor splat_step_gpu(const Tensor& q_t, const Tensor& k_t, const Tensor& v_t, const Tensor& centres,
                      const Tensor& log_scale, const Tensor& log_amp, SplatState& state, const SplatOptions& opt);

// The per-head constants on the host, contiguous, as the CPU op computes them: μ [H, K, D],
// c = 1/(2s²), log a, decay rate r (0 when off), read bias ρ (0 when off) [H, K]. The GPU path uploads
// these; the host tests of its passes read them. Inputs on any device.
struct SplatConstants {
    std::vector<float> mu, c, la, rate, rb;
};
SplatConstants splat_constants(const Tensor& centres, const Tensor& log_scale, const Tensor& log_amp,
                               const SplatOptions& options = {});

// A [B, H, T, X] tensor by its strides for the scan's passes (a one-token [B, H, X] one as T = 1).
template <class F>
HeadsView<F> heads_view(const Tensor& x) {
    const Strides& st = x.strides();
    float* p = const_cast<float*>(x.data());
    return x.dim() == 4 ? HeadsView<F>{p, st[0], st[1], st[2], st[3]} : HeadsView<F>{p, st[0], st[1], 0, st[2]};
}

}  // namespace splatlm
