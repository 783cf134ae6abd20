#include "nn/causal_attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "autograd/graph.h"
#include "cuda/flash_attention.h"
#include "nn/heads.h"
#include "tensor/elementwise_math.h"
#include "tensor/error.h"
#include "tensor/gemm.h"
#include "tensor/ops.h"

namespace splatlm {

namespace {

constexpr int64_t kBlock = 64;  // query rows per block

// First key a query row may see.
inline int64_t first_key(int64_t t, int64_t window) { return window > 0 ? std::max<int64_t>(0, t - window + 1) : 0; }

// Scores of query rows [t0, t1) against keys [k0, t1): S = scale·Q·Kᵀ, positions outside the causal
// window set to −∞.  S is (t1−t0) × (t1−k0), row-major.
void block_scores(const Heads& q, const Heads& k, int64_t b, int64_t h, int64_t t0, int64_t t1, int64_t k0, int64_t D,
                  float scale, int64_t window, float* S) {
    const int64_t rows = t1 - t0, cols = t1 - k0;
    gemm(rows, cols, D, scale, q.at(b, h, t0), q.st, q.sd, k.at(b, h, k0), k.sd, k.st, 0.f, S, cols, 1);
    for (int64_t r = 0; r < rows; ++r) {
        const int64_t t = t0 + r, lo = first_key(t, window);
        for (int64_t c = 0; c < cols; ++c)
            if (k0 + c < lo || k0 + c > t) S[r * cols + c] = -std::numeric_limits<float>::infinity();
    }
}

// The same op on CUDA tensors through the flash kernels (cuda/flash_attention.h): y in the same
// [B, T, H, D] storage as the CPU's, lse saved for the backward, which recomputes the probabilities.
Tensor causal_softmax_attention_cuda(const Tensor& q, const Tensor& k, const Tensor& v, int64_t window) {
    const char* op = "causal_softmax_attention";
    check_heads(op, q, k, v, 4, Device::CUDA);
    const int64_t B = q.size(0), H = q.size(1), T = q.size(2), D = q.size(3);
    SPLATLM_CHECK(D <= cuda::kFlashMaxHeadDim, op, ": head size ", D, " of ", shape_str(q.shape()),
                  " exceeds the CUDA kernel's limit of ", cuda::kFlashMaxHeadDim);
    const cuda::FlashProblem problem{B, H, T, D, window, 1.f / std::sqrt(static_cast<float>(D))};
    Tensor y = raw::permute(Tensor::empty({B, T, H, D}, Device::CUDA), {0, 2, 1, 3});
    Tensor lse = Tensor::empty({B, H, T}, Device::CUDA);
    cuda::flash_attention_forward({problem, head_view(q), head_view(k), head_view(v), head_view(y), lse.data()});
    Tensor y_saved = y.detach();
    return record(y, op, {q, k, v}, [q, k, v, y_saved, lse, problem, op](const Tensor& grad) {
        check_device(op, grad, Device::CUDA);
        const Shape shape = q.shape();
        Tensor dq = Tensor::empty(shape, Device::CUDA), dk = Tensor::empty(shape, Device::CUDA),
               dv = Tensor::empty(shape, Device::CUDA), delta = Tensor::empty(lse.shape(), Device::CUDA);
        cuda::flash_attention_backward({problem, head_view(q), head_view(k), head_view(v), head_view(y_saved),
                                        head_view(grad), head_view(dq), head_view(dk), head_view(dv),
                                        lse.data(), delta.data()});
        return std::vector<Tensor>{dq, dk, dv};
    });
}

}  // namespace

Tensor causal_softmax_attention(const Tensor& q, const Tensor& k, const Tensor& v, int64_t window) {
    SPLATLM_CHECK(window >= 0, "causal_softmax_attention: negative window ", window);
    if (common_device("causal_softmax_attention", q, k, v) == Device::CUDA)
        return causal_softmax_attention_cuda(q, k, v, window);
    check_heads("causal_softmax_attention", q, k, v);
    const int64_t B = q.size(0), H = q.size(1), T = q.size(2), D = q.size(3);
    const float scale = 1.f / std::sqrt(static_cast<float>(D));
    // y is stored as [B, T, H, D] and returned as a [B, H, T, D] view: merging heads afterwards is free.
    Tensor y_btHd = Tensor::empty({B, T, H, D});
    Tensor y = raw::permute(y_btHd, {0, 2, 1, 3});
    Tensor lse = Tensor::empty({B, H, T});
    const Heads Q(q), K(k), V(v), Y(y);
    float* L = lse.data();
#pragma omp parallel
    {
        std::vector<float> S(kBlock * (window > 0 ? kBlock + window : T));
#pragma omp for schedule(dynamic) collapse(2)
        for (int64_t b = 0; b < B; ++b)
            for (int64_t h = 0; h < H; ++h)
                for (int64_t t0 = 0; t0 < T; t0 += kBlock) {
                    const int64_t t1 = std::min(T, t0 + kBlock), k0 = first_key(t0, window), cols = t1 - k0;
                    block_scores(Q, K, b, h, t0, t1, k0, D, scale, window, S.data());
                    for (int64_t r = 0; r < t1 - t0; ++r) {  // row softmax, remembering log Σ exp
                        float* s = S.data() + r * cols;
                        float m = *std::max_element(s, s + cols), sum = 0.f;
                        for (int64_t c = 0; c < cols; ++c) s[c] = exp_poly(s[c] - m);
                        for (int64_t c = 0; c < cols; ++c) sum += s[c];
                        for (int64_t c = 0; c < cols; ++c) s[c] /= sum;
                        L[(b * H + h) * T + t0 + r] = m + std::log(sum);
                    }
                    gemm(t1 - t0, D, cols, 1.f, S.data(), cols, 1, V.at(b, h, k0), V.st, V.sd, 0.f, Y.at(b, h, t0),
                         Y.st, Y.sd);
                }
    }
    Tensor y_saved = y.detach();
    return record(y, "causal_softmax_attention", {q, k, v}, [q, k, v, y_saved, lse, window](const Tensor& grad) {
        const int64_t B = q.size(0), H = q.size(1), T = q.size(2), D = q.size(3);
        const float scale = 1.f / std::sqrt(static_cast<float>(D));
        Tensor dq = Tensor::empty({B, H, T, D}), dk = Tensor::zeros({B, H, T, D}), dv = Tensor::zeros({B, H, T, D});
        const Heads Q(q), K(k), V(v), Y(y_saved), G(grad), dQ(dq), dK(dk), dV(dv);
        const float* L = lse.data();
#pragma omp parallel
        {
            const int64_t width = window > 0 ? kBlock + window : T;
            std::vector<float> P(kBlock * width), dS(kBlock * width);
#pragma omp for schedule(dynamic) collapse(2)
            for (int64_t b = 0; b < B; ++b)
                for (int64_t h = 0; h < H; ++h)
                    for (int64_t t0 = 0; t0 < T; t0 += kBlock) {
                        const int64_t t1 = std::min(T, t0 + kBlock), rows = t1 - t0, k0 = first_key(t0, window),
                                      cols = t1 - k0;
                        // P = exp(S − lse): the forward probabilities, recomputed.
                        block_scores(Q, K, b, h, t0, t1, k0, D, scale, window, P.data());
                        for (int64_t r = 0; r < rows; ++r)
                            for (int64_t c = 0; c < cols; ++c)
                                P[r * cols + c] = exp_poly(P[r * cols + c] - L[(b * H + h) * T + t0 + r]);
                        // dP = dY·Vᵀ;  dS = P ⊙ (dP − rowsum(dY ⊙ Y)) · scale.
                        gemm(rows, cols, D, 1.f, G.at(b, h, t0), G.st, G.sd, V.at(b, h, k0), V.sd, V.st, 0.f,
                             dS.data(), cols, 1);
                        for (int64_t r = 0; r < rows; ++r) {
                            const float *g = G.at(b, h, t0 + r), *yr = Y.at(b, h, t0 + r);
                            float dot = 0.f;
                            for (int64_t d = 0; d < D; ++d) dot += g[d * G.sd] * yr[d * Y.sd];
                            for (int64_t c = 0; c < cols; ++c)
                                dS[r * cols + c] = P[r * cols + c] * (dS[r * cols + c] - dot) * scale;
                        }
                        // dQ = dS·K;  dK += dSᵀ·Q;  dV += Pᵀ·dY.
                        gemm(rows, D, cols, 1.f, dS.data(), cols, 1, K.at(b, h, k0), K.st, K.sd, 0.f,
                             dQ.at(b, h, t0), dQ.st, dQ.sd);
                        gemm(cols, D, rows, 1.f, dS.data(), 1, cols, Q.at(b, h, t0), Q.st, Q.sd, 1.f,
                             dK.at(b, h, k0), dK.st, dK.sd);
                        gemm(cols, D, rows, 1.f, P.data(), 1, cols, G.at(b, h, t0), G.st, G.sd, 1.f,
                             dV.at(b, h, k0), dV.st, dV.sd);
                    }
        }
        return std::vector<Tensor>{dq, dk, dv};
    });
}

Tensor causal_softmax_attention_reference(const Tensor& q, const Tensor& k, const Tensor& v, int64_t window) {
    check_heads("causal_softmax_attention", q, k, v);
    const int64_t B = q.size(0), H = q.size(1), T = q.size(2), D = q.size(3);
    Tensor y = Tensor::zeros({B, H, T, D});
    const double scale = 1.0 / std::sqrt(double(D));
    for (int64_t b = 0; b < B; ++b)
        for (int64_t h = 0; h < H; ++h)
            for (int64_t t = 0; t < T; ++t) {
                std::vector<double> w(T, 0.0);
                double m = -INFINITY, z = 0;
                for (int64_t u = first_key(t, window); u <= t; ++u) {
                    for (int64_t d = 0; d < D; ++d) w[u] += double(q.at({b, h, t, d})) * k.at({b, h, u, d}) * scale;
                    m = std::max(m, w[u]);
                }
                for (int64_t u = first_key(t, window); u <= t; ++u) z += w[u] = std::exp(w[u] - m);
                for (int64_t d = 0; d < D; ++d) {
                    double acc = 0;
                    for (int64_t u = first_key(t, window); u <= t; ++u) acc += w[u] / z * v.at({b, h, u, d});
                    y.data()[((b * H + h) * T + t) * D + d] = float(acc);
                }
            }
    return y;
}

}  // namespace splatlm
