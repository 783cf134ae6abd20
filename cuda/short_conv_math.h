// short_conv_math.h — the per-element sums of the short causal depthwise convolution
// (nn/short_conv.h), written once for both sides: the CPU loops of nn/short_conv.cpp and the
// kernels of short_conv.cu call the same functions, so the host tests check what the GPU runs.
//
//   y[b, t, n]  = Σ_{j<K, j≤t}      w[n, j] · x[b, t − j, n]      (tap j looks j positions back)
//   dx[b, t, n] = Σ_{j<K, t+j<T}    w[n, j] · dy[b, t + j, n]
//   dw[n, j]    = Σ_{b, t≥j}        dy[b, t, n] · x[b, t − j, n]
// x, y, dx, dy contiguous [B, T, N]; w, dw contiguous [N, K].
#pragma once
#include <cstdint>

#include "tensor/hd.h"

namespace splatlm::cuda {

struct ShortConvShape {
    int64_t B, T, N, K;
};

SPLATLM_HD inline float short_conv_output(const float* x, const float* w, ShortConvShape s, int64_t b, int64_t t,
                                          int64_t n) {
    float acc = 0.f;
    for (int64_t j = 0; j < s.K && j <= t; ++j) acc += w[n * s.K + j] * x[(b * s.T + t - j) * s.N + n];
    return acc;
}

SPLATLM_HD inline float short_conv_input_grad(const float* dy, const float* w, ShortConvShape s, int64_t b, int64_t t,
                                              int64_t n) {
    float acc = 0.f;
    for (int64_t j = 0; j < s.K && t + j < s.T; ++j) acc += w[n * s.K + j] * dy[(b * s.T + t + j) * s.N + n];
    return acc;
}

SPLATLM_HD inline float short_conv_weight_grad(const float* dy, const float* x, ShortConvShape s, int64_t n,
                                               int64_t j) {
    float acc = 0.f;
    for (int64_t b = 0; b < s.B; ++b)
        for (int64_t t = j; t < s.T; ++t) acc += dy[(b * s.T + t) * s.N + n] * x[(b * s.T + t - j) * s.N + n];
    return acc;
}

}  // namespace splatlm::cuda
