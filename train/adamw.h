// adamw.h — AdamW with decoupled weight decay (Loshchilov & Hutter), over flat buffers:
//
//   p ← p − lr·wd·p                         (only where the parameter decays)
//   m ← β1·m + (1−β1)·g,   v ← β2·v + (1−β2)·g²
//   p ← p − lr · m̂ / (√v̂ + ε),   m̂ = m/(1−β1ᵗ),  v̂ = v/(1−β2ᵗ)
//
// On CUDA parameters (FlatParameters on the GPU) the update is one fused kernel over the flat
// buffers, with the same per-element math (tensor/optimizer_math.h);
// plus global-norm gradient clipping and the learning-rate schedule (linear warm-up, cosine decay).
#pragma once
#include <cstdint>

#include "nn/flat_parameters.h"

namespace splatlm {

struct AdamWOptions {
    float beta1 = 0.9f, beta2 = 0.95f, eps = 1e-8f;
    float weight_decay = 0.1f;
    bool decay_everything = false;  // also decay biases, norms and embeddings
};

class AdamW {
  public:
    AdamW(FlatParameters& params, AdamWOptions options);
    // One update from the accumulated gradients, each multiplied by grad_scale as it is read (the
    // clipping factor of gradient_clip); advances the step count. The gradients are left as they are.
    void step(float lr, float grad_scale = 1.f);
    int64_t steps_taken() const { return t_; }

    // Optimiser state, for checkpoints: first and second moments (flat, like the parameters).
    Tensor& m() { return m_; }
    Tensor& v() { return v_; }
    void set_steps_taken(int64_t t) { t_ = t; }

  private:
    FlatParameters& params_;
    AdamWOptions opt_;
    Tensor m_, v_;
    Tensor decay_mask_;  // CUDA only: 1 where the parameter decays (the fused kernel's per-element flag)
    int64_t t_ = 0;
};

// Global-norm clipping: the gradients' L2 norm, and the factor that brings it to at most max_norm
// (1 when it is within bounds or not finite: a non-finite norm is the caller's to stop on). The
// factor goes to AdamW::step, which applies it as it reads each gradient: a pass over the flat
// buffer that scaled them in place cost as much as the norm itself.
struct GradClip {
    double norm;
    float scale;
};
GradClip gradient_clip(const FlatParameters& params, double max_norm);

// lr(step): linear warm-up from 0 over `warmup` steps, then cosine from `peak` to `floor` at `total`.
float learning_rate(int64_t step, int64_t warmup, int64_t total, float peak, float floor);

}  // namespace splatlm
