// short_conv.h — a short causal convolution along time with one filter per channel (depthwise), the
// "short conv" Based, H3 and Mamba put on the inputs of their mixers:
//
//   y[b, t, n] = Σ_{j<K, j≤t} w[n, j] · x[b, t − j, n]        (K taps; tap 0 is the position itself)
//
// Attention kinds apply it to the fused q/k/v projection (config key short_conv = K, 0 = off), so a
// key or value can carry the token before it — the one-step shift that associative recall needs and
// a mixer without positions has no other way to make. One autograd op (sums in cuda/short_conv_math.h,
// shared with the kernels of cuda/short_conv.cu). Generation carries the last K − 1 inputs.
// Test: ./bin/tests "[short_conv]"
#pragma once
#include "nn/module.h"
#include "tensor/rng.h"

namespace splatlm {

// x: [B, T, N] (any strides), weight: [N, K] → [B, T, N]; both on one device.
Tensor causal_short_conv(const Tensor& x, const Tensor& weight);

class ShortConv : public Module {
  public:
    ShortConv(int64_t channels, int64_t taps, Rng& rng);  // weight U(−1/√K, 1/√K), as Mamba's conv starts
    Tensor forward(const Tensor& x) const { return causal_short_conv(x, weight); }
    // The carried inputs of generation: [batch, K − 1, N] zeros (the positions before the start).
    Tensor new_window(int64_t batch, Device device) const;
    // One position x_t: [B, N] → [B, N], exactly forward()'s row t given the window of the K − 1
    // inputs before it (oldest first), which it advances. No autograd.
    Tensor step(const Tensor& x_t, Tensor& window) const;
    int64_t taps() const { return weight.size(1); }

    Tensor& weight;  // [N, K], no weight decay
};

}  // namespace splatlm
