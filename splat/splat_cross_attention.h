// splat_cross_attention.h — cross-attention through Gaussian splats: queries from x, keys and values
// from a context sequence (an encoder's output, another document...), mixed non-causally by
// splat_attention_global (splat/splat_global.h):
//
//   q = split_heads(x·W_qᵀ + b),   k, v = split_heads(ctx·W_kvᵀ + b)
//   y = merge_heads(splat_attention_global(q, k, v, μ, log s, log a))·W_projᵀ + b
//
// Every query sees every context position, so this is NOT causal and is deliberately not registered
// as a GPT attention kind (the GPT's self-attention must stay causal). Use it as an extra layer that
// reads a context. Cost O((Tq + Tk)·K·D) per head.
#pragma once
#include "nn/layers.h"

namespace splatlm {

class SplatCrossAttention : public Module {
  public:
    // width: channels of x (and of the output); context_width: channels of the context.
    SplatCrossAttention(int64_t width, int64_t context_width, int64_t heads, int64_t splats, Rng& rng);
    // x: [B, Tq, width], context: [B, Tk, context_width] → [B, Tq, width]
    Tensor forward(const Tensor& x, const Tensor& context) const;

    Linear& q;
    Linear& kv;
    Linear& proj;
    Tensor& centres;    // [H, K, D], init N(0, 0.5²)
    Tensor& log_scale;  // [H, K], init log √D
    Tensor& log_amp;    // [H, K], init 0

  private:
    int64_t heads_;
};

}  // namespace splatlm
