// optimizer_math.h — one element of the AdamW update and the block partials of the gradient norm,
// shared by the CPU loops (train/adamw.cpp) and the CUDA kernels (cuda/optimizer.cu).
#pragma once
#include <cmath>
#include <cstdint>

#include "tensor/hd.h"

namespace splatlm {

// The per-step constants of AdamW: c1 = 1/(1−β1ᵗ) and c2 = 1/(1−β2ᵗ) undo the moments' bias
// toward their zero start; grad_scale is the clipping factor (1 when the norm is within bounds).
struct AdamWConstants {
    float beta1, beta2, eps, lr, c1, c2, grad_scale;
};

// p ← p·shrink − lr · m̂ / (√v̂ + ε) after m ← β1·m + (1−β1)·g and v ← β2·v + (1−β2)·g², with
// g = grad_scale · the gradient: clipping applied as the gradient is read, not as a pass of its own.
// shrink = 1 − lr·wd where the parameter decays, else 1 (decoupled weight decay).
SPLATLM_HD inline void adamw_update(float& p, float& m, float& v, float gradient, float shrink, const AdamWConstants& k) {
    const float g = gradient * k.grad_scale;
    m = k.beta1 * m + (1.f - k.beta1) * g;
    v = k.beta2 * v + (1.f - k.beta2) * g * g;
    p = p * shrink - k.lr * (m * k.c1) / (sqrtf(v * k.c2) + k.eps);
}

// The gradient norm is summed in blocks of this many elements, each block's partial in double,
// then the partials in block order: the same norm for any thread count (CPU) or launch (GPU).
inline constexpr int64_t kNormBlock = 4096;

}  // namespace splatlm
