#include "nn/delta_rule.h"

#include <algorithm>
#include <vector>

#include "autograd/graph.h"
#include "cuda/delta_scan.h"
#include "nn/heads.h"
#include "tensor/error.h"
#include "tensor/ops.h"

namespace splatlm {

void DeltaState::write(const float* k, const float* v, float beta, float* error) const {
    for (int64_t i = 0; i < D; ++i) {  // u = v − S k
        const float* row = &S[i * P];
        float sk = 0.f;
        for (int64_t j = 0; j < P; ++j) sk += row[j] * k[j];
        error[i] = v[i] - sk;
    }
    for (int64_t i = 0; i < D; ++i) {  // S += β u kᵀ
        float* row = &S[i * P];
        const float bu = beta * error[i];
        for (int64_t j = 0; j < P; ++j) row[j] += bu * k[j];
    }
}

void DeltaState::read(const float* q, float* out) const {
    for (int64_t i = 0; i < D; ++i) {
        const float* row = &S[i * P];
        float acc = 0.f;
        for (int64_t j = 0; j < P; ++j) acc += row[j] * q[j];
        out[i] = acc;
    }
}

namespace {

constexpr const char* kOp = "delta_rule";

using cuda::DeltaShape;  // B, H, T, P, D: the kernels' sizes are the CPU's

// The operands' sizes, after the one check of their shapes and device (all on q's).
DeltaShape check_operands(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& beta) {
    for (const Tensor* t : {&q, &k, &v, &beta}) SPLATLM_CHECK(t->defined(), kOp, ": undefined tensor");
    for (const Tensor* t : {&k, &v, &beta}) check_device(kOp, *t, q.device());
    SPLATLM_CHECK(q.dim() == 4 && q.shape() == k.shape(), kOp, ": q and k must share one [B, H, T, P] shape, got ",
                  shape_str(q.shape()), ", ", shape_str(k.shape()));
    const int64_t B = q.size(0), H = q.size(1), T = q.size(2), P = q.size(3);
    SPLATLM_CHECK(v.dim() == 4 && v.size(0) == B && v.size(1) == H && v.size(2) == T, kOp,
                  ": v must be [B, H, T, D] with the B, H, T of q ", shape_str(q.shape()), ", got ", shape_str(v.shape()));
    const bool beta_ok = (beta.dim() == 3 || (beta.dim() == 4 && beta.size(3) == 1)) && beta.size(0) == B &&
                         beta.size(1) == H && beta.size(2) == T;
    SPLATLM_CHECK(beta_ok, kOp, ": beta must be [B, H, T] or [B, H, T, 1] with the B, H, T of q ",
                  shape_str(q.shape()), ", got ", shape_str(beta.shape()));
    return {B, H, T, P, v.size(3)};
}

// One head's operands gathered into contiguous T×P, T×D and T buffers.
struct HeadInputs {
    std::vector<float> q, k, v, beta;
    HeadInputs(const Heads& Q, const Heads& K, const Heads& V, const cuda::HeadView& Bt, int64_t b, int64_t h,
               const DeltaShape& s)
        : q(s.T * s.P), k(s.T * s.P), v(s.T * s.D), beta(s.T) {
        for (int64_t t = 0; t < s.T; ++t) {
            for (int64_t j = 0; j < s.P; ++j) q[t * s.P + j] = Q(b, h, t, j), k[t * s.P + j] = K(b, h, t, j);
            for (int64_t i = 0; i < s.D; ++i) v[t * s.D + i] = V(b, h, t, i);
            beta[t] = Bt.row(b, h, t)[0];
        }
    }
};

using cuda::delta_chunks;

// The backward of one head, from the states the forward kept (`saved`: S before each chunk's first
// token). With dS the adjoint of S_t accumulated from every later step, u_t = v_t − S_{t−1}k_t and
// g = dS k_t, differentiating S_t = S_{t−1}(I − β_t k_t k_tᵀ) + β_t v_t k_tᵀ and o_t = S_t q_t:
//
//   dS   += do_t q_tᵀ                         (the read at t)
//   dq_t  = S_tᵀ do_t = S_{t−1}ᵀ do_t + β_t k_t (u_t·do_t)
//   dv_t  = β_t g,   dβ_t = g·u_t,   dk_t = β_t (dSᵀ u_t − S_{t−1}ᵀ g)
//   dS   ← dS (I − β_t k_t k_tᵀ) = dS − β_t g k_tᵀ    (the adjoint of S_{t−1})
void backward_head(const HeadInputs& in, const float* saved, const float* grad, const DeltaShape& s, float* dq,
                   float* dk, float* dv, float* dbeta) {
    const int64_t D = s.D, P = s.P, DP = D * P;
    std::vector<float> dS(DP, 0.f), before(kDeltaChunk * DP), u(kDeltaChunk * D), g(D), tmp(P);
    for (int64_t c = delta_chunks(s.T) - 1; c >= 0; --c) {
        const int64_t t0 = c * kDeltaChunk, t1 = std::min(s.T, t0 + kDeltaChunk);
        std::vector<float> S(saved + c * DP, saved + (c + 1) * DP);  // S_{t−1} and u_t of the chunk, recomputed
        const DeltaState state{S.data(), D, P};
        for (int64_t t = t0; t < t1; ++t) {
            std::copy(S.begin(), S.end(), before.begin() + (t - t0) * DP);
            state.write(&in.k[t * P], &in.v[t * D], in.beta[t], &u[(t - t0) * D]);
        }
        for (int64_t t = t1 - 1; t >= t0; --t) {
            const float* S0 = &before[(t - t0) * DP];
            const float *q = &in.q[t * P], *k = &in.k[t * P], *ut = &u[(t - t0) * D], *go = grad + t * D;
            const float beta = in.beta[t];
            float u_go = 0.f;
            for (int64_t i = 0; i < D; ++i) u_go += ut[i] * go[i];
            for (int64_t j = 0; j < P; ++j) tmp[j] = beta * k[j] * u_go;
            for (int64_t i = 0; i < D; ++i)
                for (int64_t j = 0; j < P; ++j) tmp[j] += S0[i * P + j] * go[i];
            std::copy(tmp.begin(), tmp.end(), dq + t * P);
            for (int64_t i = 0; i < D; ++i)
                for (int64_t j = 0; j < P; ++j) dS[i * P + j] += go[i] * q[j];
            float gu = 0.f;
            for (int64_t i = 0; i < D; ++i) {
                float acc = 0.f;
                for (int64_t j = 0; j < P; ++j) acc += dS[i * P + j] * k[j];
                g[i] = acc, gu += acc * ut[i];
                dv[t * D + i] = beta * acc;
            }
            dbeta[t] = gu;
            std::fill(tmp.begin(), tmp.end(), 0.f);
            for (int64_t i = 0; i < D; ++i)
                for (int64_t j = 0; j < P; ++j) tmp[j] += dS[i * P + j] * ut[i] - S0[i * P + j] * g[i];
            for (int64_t j = 0; j < P; ++j) dk[t * P + j] = beta * tmp[j];
            for (int64_t i = 0; i < D; ++i)
                for (int64_t j = 0; j < P; ++j) dS[i * P + j] -= beta * g[i] * k[j];
        }
    }
}

// The same op on CUDA tensors through the scan kernels (cuda/delta_scan.h): the same recurrence and
// checkpoints, one thread block per head; the backward's per-chunk states go to a scratch tensor.
Tensor delta_rule_cuda(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& beta, const DeltaShape& s) {
    SPLATLM_CHECK(s.D <= cuda::kDeltaMaxDim && s.P <= cuda::kDeltaMaxDim, kOp, ": state ", s.D, "×", s.P, " of ",
                  shape_str(q.shape()), " and ", shape_str(v.shape()), " exceeds the CUDA kernel's limit of ",
                  cuda::kDeltaMaxDim, " per side");
    const cuda::DeltaInputs in{s, head_view(q), head_view(k), head_view(v), scalar_view(beta)};
    Tensor o = Tensor::empty({s.B, s.H, s.T, s.D}, Device::CUDA);
    Tensor saved = Tensor::empty({s.B, s.H, delta_chunks(s.T), s.D, s.P}, Device::CUDA);
    cuda::delta_rule_forward({in, head_view(o), saved.data()});
    // The lambda holds q, k, v, β (which `in` points into) and the saved states alive until the backward.
    return record(o, kOp, {q, k, v, beta}, [q, k, v, beta, in, saved, s](const Tensor& grad) {
        check_device(kOp, grad, Device::CUDA);
        Tensor dq = Tensor::empty(q.shape(), Device::CUDA), dk = Tensor::empty(k.shape(), Device::CUDA),
               dv = Tensor::empty(v.shape(), Device::CUDA), dbeta = Tensor::empty(beta.shape(), Device::CUDA);
        Tensor scratch = Tensor::empty({s.B * s.H, int64_t(cuda::delta_scratch_floats(s.D, s.P))}, Device::CUDA);
        cuda::delta_rule_backward({in, head_view(grad), head_view(dq), head_view(dk), head_view(dv), scalar_view(dbeta),
                                   saved.data(), scratch.data()});
        return std::vector<Tensor>{dq, dk, dv, dbeta};
    });
}

}  // namespace

Tensor delta_rule(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& beta) {
    const DeltaShape s = check_operands(q, k, v, beta);
    if (q.device() == Device::CUDA) return delta_rule_cuda(q, k, v, beta, s);
    const int64_t DP = s.D * s.P, C = delta_chunks(s.T);
    Tensor o = Tensor::empty({s.B, s.H, s.T, s.D}), saved = Tensor::empty({s.B, s.H, C, s.D, s.P});
    const Heads Q(q), K(k), V(v);
    const cuda::HeadView Bt = scalar_view(beta);
    // One thread per head, each head's loop in one fixed order: bitwise the same for any thread count.
#pragma omp parallel for collapse(2) schedule(dynamic)
    for (int64_t b = 0; b < s.B; ++b)
        for (int64_t h = 0; h < s.H; ++h) {
            const HeadInputs in(Q, K, V, Bt, b, h, s);
            std::vector<float> S(DP, 0.f), u(s.D);
            const DeltaState state{S.data(), s.D, s.P};
            float* oh = o.data() + (b * s.H + h) * s.T * s.D;
            float* sh = saved.data() + (b * s.H + h) * C * DP;
            for (int64_t t = 0; t < s.T; ++t) {
                if (t % kDeltaChunk == 0) std::copy(S.begin(), S.end(), sh + (t / kDeltaChunk) * DP);
                state.write(&in.k[t * s.P], &in.v[t * s.D], in.beta[t], u.data());
                state.read(&in.q[t * s.P], oh + t * s.D);
            }
        }
    return record(o, kOp, {q, k, v, beta}, [q, k, v, beta, saved, s](const Tensor& grad) {
        Tensor dq = Tensor::empty(q.shape()), dk = Tensor::empty(k.shape()), dv = Tensor::empty(v.shape()),
               dbeta = Tensor::empty(beta.shape());
        const Heads Q(q), K(k), V(v), G(grad);
        const cuda::HeadView Bt = scalar_view(beta);
        const int64_t C = delta_chunks(s.T), DP = s.D * s.P;
#pragma omp parallel for collapse(2) schedule(dynamic)
        for (int64_t b = 0; b < s.B; ++b)
            for (int64_t h = 0; h < s.H; ++h) {
                const HeadInputs in(Q, K, V, Bt, b, h, s);
                std::vector<float> go(s.T * s.D);
                for (int64_t t = 0; t < s.T; ++t)
                    for (int64_t i = 0; i < s.D; ++i) go[t * s.D + i] = G(b, h, t, i);
                const int64_t head = b * s.H + h;
                backward_head(in, saved.data() + head * C * DP, go.data(), s, dq.data() + head * s.T * s.P,
                              dk.data() + head * s.T * s.P, dv.data() + head * s.T * s.D, dbeta.data() + head * s.T);
            }
        return std::vector<Tensor>{dq, dk, dv, dbeta};
    });
}

Tensor delta_rule_step(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& beta, Tensor& state) {
    const int64_t B = q.size(0), H = q.size(1), P = q.size(2), D = v.size(2);
    SPLATLM_CHECK(q.dim() == 3 && q.shape() == k.shape() && v.dim() == 3 && v.size(0) == B && v.size(1) == H &&
                      beta.shape() == Shape({B, H}) && state.shape() == Shape({B, H, D, P}),
                  kOp, ": a step takes q, k [B, H, P], v [B, H, D], beta [B, H] and a state [B, H, D, P], got ",
                  shape_str(q.shape()), ", ", shape_str(k.shape()), ", ", shape_str(v.shape()), ", ",
                  shape_str(beta.shape()), ", ", shape_str(state.shape()));
    check_device(kOp, state, Device::CPU);
    const Tensor qc = raw::contiguous(q).to(Device::CPU), kc = raw::contiguous(k).to(Device::CPU),
                 vc = raw::contiguous(v).to(Device::CPU), bc = raw::contiguous(beta).to(Device::CPU);
    Tensor o = Tensor::empty({B, H, D});
    std::vector<float> u(D);
    for (int64_t n = 0; n < B * H; ++n) {
        const DeltaState s{state.data() + n * D * P, D, P};
        s.write(kc.data() + n * P, vc.data() + n * D, bc.data()[n], u.data());
        s.read(qc.data() + n * P, o.data() + n * D);
    }
    return o.to(q.device());
}

Tensor delta_rule_reference(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& beta) {
    const DeltaShape s = check_operands(q, k, v, beta);
    check_device(kOp, q, Device::CPU);
    Tensor o = Tensor::empty({s.B, s.H, s.T, s.D});
    const Heads Q(q), K(k), V(v);
    const cuda::HeadView Bt = scalar_view(beta);
    for (int64_t b = 0; b < s.B; ++b)
        for (int64_t h = 0; h < s.H; ++h) {
            std::vector<double> S(s.D * s.P, 0.0), u(s.D);
            for (int64_t t = 0; t < s.T; ++t) {
                for (int64_t i = 0; i < s.D; ++i) {
                    double sk = 0;
                    for (int64_t j = 0; j < s.P; ++j) sk += S[i * s.P + j] * K(b, h, t, j);
                    u[i] = V(b, h, t, i) - sk;
                }
                for (int64_t i = 0; i < s.D; ++i)
                    for (int64_t j = 0; j < s.P; ++j) S[i * s.P + j] += double(Bt.row(b, h, t)[0]) * u[i] * K(b, h, t, j);
                for (int64_t i = 0; i < s.D; ++i) {
                    double acc = 0;
                    for (int64_t j = 0; j < s.P; ++j) acc += S[i * s.P + j] * Q(b, h, t, j);
                    o.data()[((b * s.H + h) * s.T + t) * s.D + i] = float(acc);
                }
            }
        }
    return o;
}

}  // namespace splatlm
