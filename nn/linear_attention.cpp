#include "nn/linear_attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "autograd/graph.h"
#include "cuda/linear_scan.h"
#include "nn/heads.h"
#include "tensor/elementwise_math.h"
#include "tensor/error.h"
#include "tensor/ops.h"

namespace splatlm {

namespace {

// φ, φ' and ε are shared with the CUDA kernels (cuda/linear_scan_steps.h).
constexpr float kEps = cuda::kLinearEps;
using cuda::phi;
using cuda::phi_grad;

// The running state of one head: S (D×D, row i = feature i) and z (D).
struct LinearState {
    std::vector<float> S, z;
    explicit LinearState(int64_t D) : S(D * D, 0.f), z(D, 0.f) {}
    void add(const float* fk, const float* v, int64_t D) {  // S += φ(k)vᵀ, z += φ(k)
        for (int64_t i = 0; i < D; ++i) {
            z[i] += fk[i];
            for (int64_t j = 0; j < D; ++j) S[i * D + j] += fk[i] * v[j];
        }
    }
    // y = φ(q)ᵀS / (φ(q)ᵀz + ε); returns the denominator.
    float read(const float* fq, float* y, int64_t D) const {
        float den = kEps;
        for (int64_t j = 0; j < D; ++j) y[j] = 0.f;
        for (int64_t i = 0; i < D; ++i) {
            den += fq[i] * z[i];
            for (int64_t j = 0; j < D; ++j) y[j] += fq[i] * S[i * D + j];
        }
        for (int64_t j = 0; j < D; ++j) y[j] /= den;
        return den;
    }
};

// Gathers φ(x_t) (or x_t) for one head into a contiguous T×D buffer.
void gather(const Heads& x, int64_t b, int64_t h, int64_t T, int64_t D, bool features, float* out) {
    for (int64_t t = 0; t < T; ++t)
        for (int64_t d = 0; d < D; ++d) out[t * D + d] = features ? phi(x(b, h, t, d)) : x(b, h, t, d);
}

// The same op on CUDA tensors through the scan kernels (cuda/linear_scan.h): the same recurrences,
// one thread block per head.
Tensor causal_linear_attention_cuda(const Tensor& q, const Tensor& k, const Tensor& v) {
    const char* op = "causal_linear_attention";
    check_heads(op, q, k, v, 4, Device::CUDA);
    const int64_t B = q.size(0), H = q.size(1), T = q.size(2), D = q.size(3);
    SPLATLM_CHECK(D <= cuda::kLinearMaxHeadDim, op, ": head size ", D, " of ", shape_str(q.shape()),
                  " exceeds the CUDA kernel's limit of ", cuda::kLinearMaxHeadDim);
    const cuda::LinearShape shape{B, H, T, D};
    Tensor y = Tensor::empty({B, H, T, D}, Device::CUDA), den = Tensor::empty({B, H, T}, Device::CUDA);
    cuda::linear_attention_forward({shape, head_view(q), head_view(k), head_view(v), head_view(y), den.data()});
    Tensor y_saved = y.detach();
    return record(y, op, {q, k, v}, [q, k, v, y_saved, den, shape, op](const Tensor& grad) {
        check_device(op, grad, Device::CUDA);
        Tensor dq = Tensor::empty(q.shape(), Device::CUDA), dk = Tensor::empty(q.shape(), Device::CUDA),
               dv = Tensor::empty(q.shape(), Device::CUDA);
        cuda::linear_attention_backward({shape, head_view(q), head_view(k), head_view(v), head_view(y_saved),
                                         head_view(grad), head_view(dq), head_view(dk), head_view(dv),
                                         den.data()});
        return std::vector<Tensor>{dq, dk, dv};
    });
}

}  // namespace

Tensor causal_linear_attention(const Tensor& q, const Tensor& k, const Tensor& v) {
    if (common_device("causal_linear_attention", q, k, v) == Device::CUDA) return causal_linear_attention_cuda(q, k, v);
    check_heads("causal_linear_attention", q, k, v);
    const int64_t B = q.size(0), H = q.size(1), T = q.size(2), D = q.size(3);
    Tensor y = Tensor::empty({B, H, T, D}), den = Tensor::empty({B, H, T});
    const Heads Q(q), K(k), V(v);
#pragma omp parallel for collapse(2) schedule(dynamic)
    for (int64_t b = 0; b < B; ++b)
        for (int64_t h = 0; h < H; ++h) {
            std::vector<float> fq(T * D), fk(T * D), vv(T * D);
            gather(Q, b, h, T, D, true, fq.data());
            gather(K, b, h, T, D, true, fk.data());
            gather(V, b, h, T, D, false, vv.data());
            LinearState state(D);
            float* yh = y.data() + (b * H + h) * T * D;
            for (int64_t t = 0; t < T; ++t) {
                state.add(&fk[t * D], &vv[t * D], D);
                den.data()[(b * H + h) * T + t] = state.read(&fq[t * D], yh + t * D, D);
            }
        }
    Tensor y_saved = y.detach();
    // Backward. With q̃ = φ(q), k̃ = φ(k), a_t = g_t / den_t and c_t = −(g_t·y_t) / den_t:
    //   dq̃_t = S_t a_t + z_t c_t                     (forward scan, S_t and z_t recomputed)
    //   dk̃_u = R_u v_u + r_u,   dv_u = R_uᵀ k̃_u       (reverse scan, R_u = Σ_{t≥u} q̃_t a_tᵀ, r_u = Σ_{t≥u} c_t q̃_t)
    // and dq = dq̃ ⊙ φ'(q), dk = dk̃ ⊙ φ'(k).
    return record(y, "causal_linear_attention", {q, k, v}, [q, k, v, y_saved, den](const Tensor& grad) {
        const int64_t B = q.size(0), H = q.size(1), T = q.size(2), D = q.size(3);
        Tensor dq = Tensor::empty({B, H, T, D}), dk = Tensor::empty({B, H, T, D}), dv = Tensor::empty({B, H, T, D});
        const Heads Q(q), K(k), V(v), G(grad);
#pragma omp parallel for collapse(2) schedule(dynamic)
        for (int64_t b = 0; b < B; ++b)
            for (int64_t h = 0; h < H; ++h) {
                const int64_t head = (b * H + h) * T;
                std::vector<float> fq(T * D), fk(T * D), vv(T * D), a(T * D), c(T);
                gather(Q, b, h, T, D, true, fq.data());
                gather(K, b, h, T, D, true, fk.data());
                gather(V, b, h, T, D, false, vv.data());
                const float* yh = y_saved.data() + head * D;
                for (int64_t t = 0; t < T; ++t) {
                    const float d_t = den.data()[head + t];
                    float gy = 0.f;
                    for (int64_t j = 0; j < D; ++j) {
                        a[t * D + j] = G(b, h, t, j) / d_t;
                        gy += G(b, h, t, j) * yh[t * D + j];
                    }
                    c[t] = -gy / d_t;
                }
                LinearState state(D);
                for (int64_t t = 0; t < T; ++t) {
                    state.add(&fk[t * D], &vv[t * D], D);
                    for (int64_t i = 0; i < D; ++i) {
                        float acc = state.z[i] * c[t];
                        for (int64_t j = 0; j < D; ++j) acc += state.S[i * D + j] * a[t * D + j];
                        dq.data()[(head + t) * D + i] = acc * phi_grad(Q(b, h, t, i));
                    }
                }
                std::vector<float> R(D * D, 0.f), r(D, 0.f);
                for (int64_t u = T - 1; u >= 0; --u) {
                    for (int64_t i = 0; i < D; ++i) {
                        r[i] += c[u] * fq[u * D + i];
                        for (int64_t j = 0; j < D; ++j) R[i * D + j] += fq[u * D + i] * a[u * D + j];
                    }
                    for (int64_t i = 0; i < D; ++i) {
                        float acc = r[i];
                        for (int64_t j = 0; j < D; ++j) acc += R[i * D + j] * vv[u * D + j];
                        dk.data()[(head + u) * D + i] = acc * phi_grad(K(b, h, u, i));
                    }
                    float* dv_u = dv.data() + (head + u) * D;  // dv_u = Rᵀ k̃_u, rows of R in order
                    for (int64_t j = 0; j < D; ++j) dv_u[j] = 0.f;
                    for (int64_t i = 0; i < D; ++i)
                        for (int64_t j = 0; j < D; ++j) dv_u[j] += R[i * D + j] * fk[u * D + i];
                }
            }
        return std::vector<Tensor>{dq, dk, dv};
    });
}

Tensor causal_linear_attention_reference(const Tensor& q, const Tensor& k, const Tensor& v) {
    check_heads("causal_linear_attention", q, k, v);
    const int64_t B = q.size(0), H = q.size(1), T = q.size(2), D = q.size(3);
    Tensor y = Tensor::empty({B, H, T, D});
    for (int64_t b = 0; b < B; ++b)
        for (int64_t h = 0; h < H; ++h)
            for (int64_t t = 0; t < T; ++t) {
                std::vector<double> w(t + 1);
                double total = kEps;
                for (int64_t u = 0; u <= t; ++u) {
                    w[u] = 0;
                    for (int64_t d = 0; d < D; ++d) w[u] += double(phi(q.at({b, h, t, d}))) * phi(k.at({b, h, u, d}));
                    total += w[u];
                }
                for (int64_t d = 0; d < D; ++d) {
                    double acc = 0;
                    for (int64_t u = 0; u <= t; ++u) acc += w[u] * v.at({b, h, u, d});
                    y.data()[((b * H + h) * T + t) * D + d] = float(acc / total);
                }
            }
    return y;
}

namespace {
struct LinearCache : AttentionCache {
    std::vector<LinearState> heads;  // batch × heads
    int64_t dim = 0;
    // S as [batch·heads, D, D], z as [batch·heads, D].
    NamedTensors contents() const override {
        const int64_t N = static_cast<int64_t>(heads.size()), D = dim;
        Tensor S = Tensor::empty({N, D, D}), z = Tensor::empty({N, D});
        for (int64_t n = 0; n < N; ++n) {
            std::copy(heads[n].S.begin(), heads[n].S.end(), S.data() + n * D * D);
            std::copy(heads[n].z.begin(), heads[n].z.end(), z.data() + n * D);
        }
        return {{"S", S}, {"z", z}};
    }
    void restore(const NamedTensors& saved, int64_t) override {
        NamedTensors now = contents();  // the right shapes, to check the saved ones against
        restore_tensor(now[0].second, saved, "S");
        restore_tensor(now[1].second, saved, "z");
        const int64_t D = dim;
        for (size_t n = 0; n < heads.size(); ++n) {
            std::copy_n(now[0].second.data() + n * D * D, D * D, heads[n].S.begin());
            std::copy_n(now[1].second.data() + n * D, D, heads[n].z.begin());
        }
    }
};
}  // namespace

std::unique_ptr<AttentionCache> LinearAttention::new_mix_cache(int64_t batch, int64_t) const {
    auto cache = std::make_unique<LinearCache>();
    cache->heads.assign(batch * heads_, LinearState(head_dim_));
    cache->dim = head_dim_;
    return cache;
}

Tensor LinearAttention::step_mix(const QKV& heads, const Tensor& x_t, AttentionCache& base) {
    LinearCache& cache = dynamic_cast<LinearCache&>(base);
    const int64_t B = x_t.size(0), H = heads_, D = head_dim_;
    // The (S, z) states live on the host: a model on the GPU sends each token's q, k, v over and its
    // read back (small copies per layer and token; a device kernel for this step is still to come).
    const Tensor q = raw::contiguous(heads.q).to(Device::CPU), k = raw::contiguous(heads.k).to(Device::CPU),
                 v = raw::contiguous(heads.v).to(Device::CPU);  // [B, H, D] each
    Tensor y = Tensor::empty({B, H * D});
    std::vector<float> fq(D), fk(D);
    for (int64_t bh = 0; bh < B * H; ++bh) {
        const int64_t at = bh * D;
        for (int64_t d = 0; d < D; ++d) fq[d] = phi(q.data()[at + d]), fk[d] = phi(k.data()[at + d]);
        LinearState& s = cache.heads[bh];
        s.add(fk.data(), v.data() + at, D);
        s.read(fq.data(), y.data() + at, D);
    }
    return y.to(x_t.device());
}

}  // namespace splatlm
