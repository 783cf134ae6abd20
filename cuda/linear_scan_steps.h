// linear_scan_steps.h — the body of the linear-attention kernels (linear_scan.cu): one thread block
// per (batch, head) scans t in order with the D×D state in shared memory, exactly the recurrence of
// nn/linear_attention.cpp (same summation order), written once for both sides: the kernels call it
// with their block's team, the host tests with a one-thread team.
//
//   forward:  S += φ(k_t) v_tᵀ, z += φ(k_t);  y_t = φ(q_t)ᵀS / (φ(q_t)ᵀz + ε)
//   backward: with a_t = dy_t / den_t, c_t = −(dy_t·y_t) / den_t,
//             dq̃_t = S_t a_t + z_t c_t                           (forward scan)
//             dk̃_u = R_u v_u + r_u,  dv_u = R_uᵀ φ(k_u),          (reverse scan)
//             R_u = Σ_{t≥u} φ(q_t) a_tᵀ,  r_u = Σ_{t≥u} c_t φ(q_t);  dq = dq̃ ⊙ φ'(q), dk = dk̃ ⊙ φ'(k).
//
// Why a sequential scan per head rather than a chunked one: it is the CPU's recurrence step for step
// (the same sums in the same order, so CUDA and CPU agree to rounding), needs no cross-block
// reduction, and is deterministic; its parallelism is B·H blocks × D² threads of work per step, which
// suits training shapes (B·H in the hundreds) but not one long sequence of one head. A chunked scan is
// the upgrade if that matters.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "cuda/head_view.h"
#include "tensor/elementwise_math.h"

namespace splatlm::cuda {

inline constexpr float kLinearEps = 1e-6f;          // the ε of nn/linear_attention.cpp
inline constexpr int64_t kLinearMaxHeadDim = 128;  // the D×D state must fit in shared memory

SPLATLM_HD inline float phi(float x) { return apply_unary<Unary::EluPlusOne>(x); }
SPLATLM_HD inline float phi_grad(float x) { return x > 0.f ? 1.f : expf(x); }

struct LinearShape {
    int64_t B, H, T, D;
};

struct LinearForward {
    LinearShape s;
    HeadView q, k, v, y;
    float* den;  // [B, H, T], contiguous
};

struct LinearBackward {
    LinearShape s;
    HeadView q, k, v, y, dy, dq, dk, dv;
    const float* den;
};

// Shared memory (floats): the state S (D×D, rows ld = shared_ld(D) apart: the dq and dk loops have
// each thread read its own row i), z (D), and this step's φ(q), φ(k), v, a, and c.
SPLATLM_HD inline size_t linear_scan_floats(int64_t D) { return D * shared_ld(D) + 6 * D + 1; }

struct ScanState {
    int64_t ld;
    float *S, *z, *fq, *fk, *v, *a, *c;
    SPLATLM_HD ScanState(float* shared, int64_t D)
        : ld(shared_ld(D)), S(shared), z(S + D * ld), fq(z + D), fk(fq + D), v(fk + D), a(v + D), c(a + D) {}
};

SPLATLM_HD inline void clear_state(const ScanState& st, int64_t D, Team team) {
    for (int64_t i = team.tid; i < D * D; i += team.count) st.S[padded(i, D, st.ld)] = 0.f;
    for (int64_t i = team.tid; i < D; i += team.count) st.z[i] = 0.f;
}

// S += x yᵀ, z += w·x  (the forward's S += φ(k)vᵀ, z += φ(k) with w = 1; the reverse scan's
// R += φ(q)aᵀ, r += c·φ(q)).
SPLATLM_HD inline void add_outer(const ScanState& st, const float* x, const float* y, float w, int64_t D, Team team) {
    for (int64_t e = team.tid; e < D * D; e += team.count) st.S[padded(e, D, st.ld)] += x[e / D] * y[e % D];
    for (int64_t i = team.tid; i < D; i += team.count) st.z[i] += w * x[i];
}

// Step t's φ(q_t), φ(k_t), v_t and, for the backward, a_t and c_t.
SPLATLM_HD inline void load_step(const HeadView& q, const HeadView& k, const HeadView& v, int64_t b, int64_t h,
                                 int64_t t, int64_t D, const ScanState& st, Team team) {
    const float *qt = q.row(b, h, t), *kt = k.row(b, h, t), *vt = v.row(b, h, t);
    for (int64_t i = team.tid; i < D; i += team.count) {
        st.fq[i] = phi(qt[i * q.sd]);
        st.fk[i] = phi(kt[i * k.sd]);
        st.v[i] = vt[i * v.sd];
    }
}
SPLATLM_HD inline void load_step_grads(const LinearBackward& a, int64_t b, int64_t h, int64_t t, const ScanState& st,
                                       Team team) {
    const int64_t D = a.s.D;
    const float den = a.den[(b * a.s.H + h) * a.s.T + t], *g = a.dy.row(b, h, t), *y = a.y.row(b, h, t);
    for (int64_t j = team.tid; j < D; j += team.count) st.a[j] = g[j * a.dy.sd] / den;
    if (team.tid == 0) {
        float gy = 0.f;
        for (int64_t j = 0; j < D; ++j) gy += g[j * a.dy.sd] * y[j * a.y.sd];
        *st.c = -gy / den;
    }
}

// Forward for block (b·H + h).
SPLATLM_HD inline void linear_forward_block(const LinearForward& a, int64_t bh, float* shared, Team team) {
    const int64_t D = a.s.D, b = bh / a.s.H, h = bh % a.s.H;
    const ScanState st(shared, D);
    clear_state(st, D, team);
    for (int64_t t = 0; t < a.s.T; ++t) {
        team_sync();  // the previous step's reads of fq are done
        load_step(a.q, a.k, a.v, b, h, t, D, st, team);
        team_sync();
        add_outer(st, st.fk, st.v, 1.f, D, team);
        team_sync();
        float* y = a.y.row(b, h, t);
        for (int64_t j = team.tid; j < D; j += team.count) {
            float den = kLinearEps, num = 0.f;
            for (int64_t i = 0; i < D; ++i) den += st.fq[i] * st.z[i];
            for (int64_t i = 0; i < D; ++i) num += st.fq[i] * st.S[i * st.ld + j];
            y[j * a.y.sd] = num / den;
            if (j == 0) a.den[bh * a.s.T + t] = den;
        }
    }
}

// Backward for block (b·H + h): the forward scan for dq, then the reverse scan for dk and dv.
SPLATLM_HD inline void linear_backward_block(const LinearBackward& a, int64_t bh, float* shared, Team team) {
    const int64_t D = a.s.D, b = bh / a.s.H, h = bh % a.s.H;
    const ScanState st(shared, D);
    clear_state(st, D, team);
    for (int64_t t = 0; t < a.s.T; ++t) {
        team_sync();
        load_step(a.q, a.k, a.v, b, h, t, D, st, team);
        load_step_grads(a, b, h, t, st, team);
        team_sync();
        add_outer(st, st.fk, st.v, 1.f, D, team);
        team_sync();
        const float* q = a.q.row(b, h, t);
        float* dq = a.dq.row(b, h, t);
        for (int64_t i = team.tid; i < D; i += team.count) {
            float acc = st.z[i] * *st.c;
            for (int64_t j = 0; j < D; ++j) acc += st.S[i * st.ld + j] * st.a[j];
            dq[i * a.dq.sd] = acc * phi_grad(q[i * a.q.sd]);
        }
    }
    team_sync();
    clear_state(st, D, team);  // now R and r
    for (int64_t u = a.s.T - 1; u >= 0; --u) {
        team_sync();
        load_step(a.q, a.k, a.v, b, h, u, D, st, team);
        load_step_grads(a, b, h, u, st, team);
        team_sync();
        add_outer(st, st.fq, st.a, *st.c, D, team);
        team_sync();
        const float* k = a.k.row(b, h, u);
        float *dk = a.dk.row(b, h, u), *dv = a.dv.row(b, h, u);
        for (int64_t i = team.tid; i < D; i += team.count) {
            float acc = st.z[i];
            for (int64_t j = 0; j < D; ++j) acc += st.S[i * st.ld + j] * st.v[j];
            dk[i * a.dk.sd] = acc * phi_grad(k[i * a.k.sd]);
        }
        for (int64_t j = team.tid; j < D; j += team.count) {
            float acc = 0.f;
            for (int64_t i = 0; i < D; ++i) acc += st.S[i * st.ld + j] * st.fk[i];
            dv[j * a.dv.sd] = acc;
        }
    }
}

}  // namespace splatlm::cuda
