// splat_math.h — the per-token math of the splat op, written once for the CPU passes (splat_cpu.cpp)
// and the GPU's chunked passes (splat_scan_passes.h): absorbing a token into a splat's scalars, merging
// two states, the read-out weights over splats, and their adjoint. Everything here is SPLATLM_HD, so
// the host tests run the very arithmetic the kernels run. Math: docs/SPLAT.md §2–§4.
//
// Per (batch b, head h, splat j) the op carries m, the running max of the decayed key affinities,
// and z̃, S̃ with z = e^m·z̃, S = e^m·S̃ (the exp-weighted count and sum of values). Absorbing token t
// (key affinity l = lk[t,j], decay rate r ≥ 0 per token):
//   m' = max(m − r, l),  α = e^{m − r − m'},  β = e^{l − m'},  z̃' = α·z̃ + β,  S̃' = α·S̃ + β·v_t.
// The empty state is m = −∞, z̃ = 0, S̃ = 0. Token t reads ℓ_j = lq[t,j] + m_j + log z̃_j through the
// softmax π = e^{ℓ−M} / (Σ e^{ℓ−M} + ε), M = max ℓ, and y_t = Σ_j π_j·S̃_j/z̃_j.
#pragma once
#include <cstdint>

#include "tensor/elementwise_math.h"
#include "tensor/hd.h"

namespace splatlm {

// The ε of the read-out, relative to the largest splat term (see splat_op.h and SPLAT.md).
constexpr float kSplatEps = 1e-6f;

constexpr float kScanNegInf = -__builtin_huge_valf();

// A [B, H, T, D] (or [B, H, T, K]) tensor by its strides; p at element [0, 0, 0, 0].
template <class F>
struct HeadsView {
    F* p = nullptr;
    int64_t sb = 0, sh = 0, st = 0, sd = 0;
    SPLATLM_HD F* row(int64_t b, int64_t h, int64_t t) const { return p + b * sb + h * sh + t * st; }
};

// ---- which splats a token writes to / reads from (SplatOptions::top) ----
// As the i-th of size() per token: all K in the dense op (the i-th is splat i), or p per token from a
// [T][p] list in ascending splat order (top-p routing, splat_routes.h).
struct AllSplats {
    static constexpr bool kAll = true;
    int64_t K;
    SPLATLM_HD int64_t size() const { return K; }
    SPLATLM_HD int64_t operator()(int64_t, int64_t i) const { return i; }
};
struct SplatList {
    static constexpr bool kAll = false;
    const int32_t* idx;  // [T][p], token t's splats ascending
    int64_t p;
    SPLATLM_HD int64_t size() const { return p; }
    SPLATLM_HD int64_t operator()(int64_t t, int64_t i) const { return idx[t * p + i]; }
};

// ---- the state algebra ----

// Token with key affinity l enters (m, z̃): returns α, β; m and z̃ updated.
struct Absorbed {
    float alpha, beta;
};
SPLATLM_HD inline Absorbed absorb(float& m, float& z, float l, float r) {
    const float decayed = m - r, mn = decayed > l ? decayed : l;
    const Absorbed w{exp_poly(decayed - mn), exp_poly(l - mn)};  // exp_poly(−∞) = 0: the empty state
    z = w.alpha * z + w.beta;
    m = mn;
    return w;
}

// Two states A (tokens before) and B (the next tokens) merge into the state of both. B's tokens decay
// what came before them by R_B, the sum of their rates (r·n_B for n_B tokens of a constant rate r;
// Σ (r + ρ_t) with token decay):
//   m = max(m_A − R_B, m_B),  a = e^{m_A − R_B − m},  b = e^{m_B − m},  z̃ = a·z̃_A + b·z̃_B,  S̃ likewise,
// which is associative ((A·B)·C = A·(B·C), the R adding up like lengths); absorbing a token is merging
// with its one-token state (m = l, z̃ = 1, S̃ = v, R = its rate). Returns m, a, b.
struct Merged {
    float m, a, b;
};
SPLATLM_HD inline Merged merge_scales(float mA, float mB, float decay_B) {
    const float decayed = mA - decay_B, m = decayed > mB ? decayed : mB;
    if (m == kScanNegInf) return {m, 0.f, 0.f};  // both empty
    return {m, exp_poly(decayed - m), exp_poly(mB - m)};
}

// ---- the read-out over splats ----

// Token t's read-out weights from its rows lq, m, z̃ ([K] each), over the splats it reads: with
// U = max_j (lq_j + m_j), w_j = e^{lq_j + m_j − U}·z̃_j = e^{ℓ_j − U} (no log), W = max_j w_j,
// den = ε + Σ_j w_j/W, π_j = w_j/(W·den), coef_j = π_j/z̃_j (the weight of S̃_j in y_t). W ≥ 1: z̃ ≥ 1
// for a splat written to, and U is attained at one. An empty splat (m = −∞, z̃ = 0; routed only) has
// w = 0 and coef = 0; when every splat t reads is empty (U = −∞), π = coef = 0 and y_t = 0. w is
// parked in coef; pi may be null (not kept). Returns den and arg, the first splat with w = W (the
// one that carries the ε·e^M term's gradient). Splats t does not read are left alone.
struct ReadOut {
    float den;
    int64_t arg;
};
template <class Reads>
SPLATLM_HD inline ReadOut read_out(const float* lq, const float* m, const float* z, int64_t t, const Reads& reads,
                                   float* pi, float* coef) {
    const int64_t n = reads.size();
    float U = kScanNegInf;
    SPLATLM_SIMD(reduction(max : U))
    for (int64_t i = 0; i < n; ++i) {
        const int64_t j = reads(t, i);
        const float x = lq[j] + m[j];
        U = x > U ? x : U;  // (this form vectorises; std::max stays scalar)
    }
    if (U == kScanNegInf) {  // nothing to read: π = 0 (then gy = 0, and the backward's ε term is 0 too)
        for (int64_t i = 0; i < n; ++i) {
            const int64_t j = reads(t, i);
            coef[j] = 0.f;
            if (pi) pi[j] = 0.f;
        }
        return {1.f, 0};
    }
    float W = 0.f;
    SPLATLM_SIMD(reduction(max : W))
    for (int64_t i = 0; i < n; ++i) {
        const int64_t j = reads(t, i);
        coef[j] = exp_poly(lq[j] + m[j] - U) * z[j];
        W = coef[j] > W ? coef[j] : W;
    }
    const float invW = 1.f / W;
    float den = kSplatEps;
    // (a vectorised sum's order is fixed by the compiled code, never by the thread count)
    SPLATLM_SIMD(reduction(+ : den))
    for (int64_t i = 0; i < n; ++i) den += coef[reads(t, i)] * invW;
    int64_t arg = 0;
    while (arg + 1 < n && coef[reads(t, arg)] != W) ++arg;  // bounded: W may be NaN
    arg = reads(t, arg);
    const float scale = invW / den;
    SPLATLM_SIMD()
    for (int64_t i = 0; i < n; ++i) {
        const int64_t j = reads(t, i);
        const float p = coef[j] * scale;
        if (pi) pi[j] = p;
        coef[j] = z[j] > 0.f ? p / z[j] : 0.f;
    }
    return {den, arg};
}

// The adjoint of read_out for one token, all K splats: from a_j = dy_t·S̃_j/z̃_j (the gradient's dot
// with splat j's running mean; 0 where t does not read), gy = dy·y = Σ π_j a_j and
//   dℓ_j = π_j (a_j − gy) − [j = arg]·ε/den·gy   (→ dlq_j; the second term is the ε·e^M one's),
//   X_j  = (dℓ_j − π_j a_j)/z̃_j                  (the direct dependence of y_t on z_t → the Ẑ scan).
// π = a = 0 where t does not read, so dlq = X = 0 there; an empty splat (z̃ = 0) gets X = 0.
// x may alias a (each a_j is read before X_j is written).
SPLATLM_HD inline void read_out_adjoint(int64_t K, const float* pi, const float* z, const float* a, ReadOut ro,
                                        float* dlq, float* x) {
    float gy = 0.f;
    for (int64_t j = 0; j < K; ++j) gy += pi[j] * a[j];
    for (int64_t j = 0; j < K; ++j) {
        float dl = pi[j] * (a[j] - gy);
        if (j == ro.arg) dl -= kSplatEps / ro.den * gy;
        const float xj = z[j] > 0.f ? (dl - pi[j] * a[j]) / z[j] : 0.f;
        dlq[j] = dl;
        x[j] = xj;
    }
}

// ---- input-dependent (token) decay ----

// The gradient of one splat's token decay ρ[t] (SplatOptions::token_decay), from its affinity
// gradients dlk[t], dlq[t] (entries `stride` floats apart, t ∈ [0, T)). With R_t = Σ_{s≤t} (r + ρ[s]),
// the state at t is e^{−R_t}·Σ_{u≤t} e^{lk[u] + R_u}·(1, v_u), so y sees R only through lk[u] + R_u
// and lq[t] − R_t: dR_t = dlk[t] − dlq[t], and ρ[s] enters every R_t with t ≥ s:
//   dρ[s] = Σ_{t≥s} (dlk[t] − dlq[t])   (s ≥ 1),    dρ[0] = 0,
// the last because ρ[0] scales only the empty state (analytically Σ_t (dlk − dlq) = 0: shifting every
// lk up and lq down by one constant leaves y unchanged). Summed in float64, from the end.
SPLATLM_HD inline void token_decay_adjoint(int64_t T, int64_t stride, const float* dlk, const float* dlq, float* out) {
    double acc = 0;
    for (int64_t t = T - 1; t >= 1; --t) {
        acc += double(dlk[t * stride]) - double(dlq[t * stride]);
        out[t * stride] = float(acc);
    }
    if (T > 0) out[0] = 0.f;
}

}  // namespace splatlm
