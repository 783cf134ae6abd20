// layers.h — the small building blocks of a transformer: Linear, Embedding, LayerNorm, MLP.
#pragma once
#include "autograd/ops.h"
#include "nn/module.h"

namespace splatlm {

// y = x·Wᵀ + b, W: [out, in] (so Wᵀ is a free transposed view for the GEMM).
class Linear : public Module {
  public:
    Linear(int64_t in, int64_t out, bool bias, Rng& rng, float init_std = 0.02f);
    Tensor forward(const Tensor& x) const;
    Tensor& weight;
    Tensor* bias = nullptr;
};

class Embedding : public Module {
  public:
    Embedding(int64_t count, int64_t dim, Rng& rng, float init_std = 0.02f);
    Tensor forward(const Indices& ids) const { return embedding(weight, ids); }
    Tensor& weight;  // [count, dim]
};

class LayerNorm : public Module {
  public:
    explicit LayerNorm(int64_t dim);
    Tensor forward(const Tensor& x) const { return layernorm(x, weight, bias); }
    Tensor& weight;
    Tensor& bias;
};

// x → GELU(x·W1ᵀ + b1)·W2ᵀ + b2, hidden width 4·dim.
class MLP : public Module {
  public:
    MLP(int64_t dim, Rng& rng, float proj_std);
    Tensor forward(const Tensor& x) const { return proj.forward(gelu(fc.forward(x))); }
    Linear& fc;
    Linear& proj;
};

}  // namespace splatlm
