// nn_math.h — the per-element and per-row formulas of the fused row kernels (nn_kernels.cpp on the
// CPU, cuda/nn_kernels.cu on the GPU), written once as SPLATLM_HD functions. A row is the last axis,
// of length C. The host tests run them exactly as the kernels do.
#pragma once
#include <cmath>
#include <cstdint>

#include "tensor/elementwise_math.h"
#include "tensor/hd.h"

namespace splatlm {

// ---- log Σ exp, in one pass: the running max m and s = Σ exp(x_i − m) ----
// Adding x: if x > m, rescale s to the new max (s·e^{m−x} + 1); else s += e^{x−m}. Merging two
// partials rescales the one with the smaller max. −∞ contributes e^{−∞} = 0 and is skipped, so an
// all −∞ row keeps m = −∞, s = 0 (and its log-sum-exp is −∞, as on the CPU).
struct LogSumExp {
    float m, s;  // no initialisers: the GPU keeps these in shared memory
    SPLATLM_HD static LogSumExp empty() { return {-INFINITY, 0.f}; }
    SPLATLM_HD static LogSumExp merge(LogSumExp a, LogSumExp b) {
        if (b.m == -INFINITY) return a;
        if (a.m == -INFINITY) return b;
        if (a.m == b.m) return {a.m, a.s + b.s};  // also two +∞ partials, where m − m would be NaN
        return a.m >= b.m ? LogSumExp{a.m, a.s + b.s * exp_poly(b.m - a.m)} : LogSumExp{b.m, b.s + a.s * exp_poly(a.m - b.m)};
    }
    SPLATLM_HD LogSumExp add(float x) const { return merge(*this, LogSumExp{x, 1.f}); }
    SPLATLM_HD float value() const { return m == -INFINITY ? m : m + logf(s); }
};

// ---- softmax / log-softmax backward elements, given the row's dot Σ g⊙y (resp. Σ g) ----
// y = softmax(x): dx_i = y_i (g_i − Σ_j g_j y_j)
SPLATLM_HD inline float softmax_grad(float y, float g, float dot) { return y * (g - dot); }
// y = log_softmax(x): dx_i = g_i − e^{y_i} Σ_j g_j
SPLATLM_HD inline float log_softmax_grad(float y, float g, float gsum) { return g - exp_poly(y) * gsum; }

// ---- layer norm: n = (x − μ)·rstd, y = n ⊙ w + b, rstd = 1/√(var + eps) ----
// From Σ (x − μ)² over the row (accumulated in double).
SPLATLM_HD inline float layernorm_rstd(double squares, int64_t C, float eps) {
    return static_cast<float>(1.0 / sqrt(squares / C + eps));
}
SPLATLM_HD inline float layernorm_normalized(float x, float mean, float rstd) { return (x - mean) * rstd; }
SPLATLM_HD inline float layernorm_y(float x, float mean, float rstd, float w, float b) {
    return (x - mean) * rstd * w + b;
}
// dn = g ⊙ w;  dx = rstd · (dn − mean(dn) − n · mean(dn ⊙ n))
SPLATLM_HD inline float layernorm_dx(float dn, float n, float rstd, float mean_dn, float mean_dn_n) {
    return rstd * (dn - mean_dn - n * mean_dn_n);
}

// Column c's parameter-gradient sums over rows [r0, r1) of a [rows, C] input: Σ g·n (dweight) and
// Σ g (dbias), in double, rows in order. The GPU sums chunks of rows this way, then the chunks in order.
struct LayerNormParamSums {
    double dweight, dbias;
};
SPLATLM_HD inline LayerNormParamSums layernorm_param_sums(const float* x, const float* g, const float* mean,
                                                          const float* rstd, int64_t C, int64_t c, int64_t r0,
                                                          int64_t r1) {
    LayerNormParamSums s{0.0, 0.0};
    for (int64_t r = r0; r < r1; ++r) {
        const float n = layernorm_normalized(x[r * C + c], mean[r], rstd[r]);
        s.dweight += g[r * C + c] * n;
        s.dbias += g[r * C + c];
    }
    return s;
}

// ---- embedding backward: dtable[v, c] = Σ_{r: id[r] = v} g[r, c] ----
// With the rows sorted by id (stably, so each run of equal ids keeps rows in ascending order), a run
// sums its rows' gradients in that order — the CPU's order, so the float sum has the CPU's bits.
SPLATLM_HD inline float embedding_grad_run(const int32_t* rows, int64_t begin, int64_t end, const float* g, int64_t C,
                                           int64_t c) {
    float acc = 0.f;
    for (int64_t k = begin; k < end; ++k) acc += g[int64_t(rows[k]) * C + c];
    return acc;
}

// ---- cross-entropy: dx = (softmax(x) − onehot(t)) · scale, scale = g/counted; 0 on ignored rows ----
SPLATLM_HD inline float cross_entropy_grad(float x, float lse, float scale, bool is_target) {
    return exp_poly(x - lse) * scale - (is_target ? scale : 0.f);
}

}  // namespace splatlm
