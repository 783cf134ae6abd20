// splat_kernels.h — the CPU kernels of the splat op, each on one head (or one block of its columns):
// the splat constants and affinities, the scalar scan and read-out weights per token, the columns of
// the state S̃ forward and in reverse, and the per-token adjoints. The passes in splat_cpu.cpp run them
// over (batch, head, block) tasks. The per-token math itself is splat_math.h's, shared with the GPU.
//
// The work splits in two. The per-splat scalars of a token (running max m, z̃, the read-out weights π)
// depend on the past only through m and z̃ — O(K) per token: `scan_state` is the one sequential pass,
// `read_weights` then runs on any time range. Given those scalars the D columns of S̃ evolve
// independently, so `scan_columns` runs on a block of kColumns columns at a time. Every column sees
// the same arithmetic whatever the block split, so results do not depend on the thread count.
// Kernels take the splats a token writes to and reads from as AllSplats (dense) or SplatList (top-p).
#pragma once
#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "splat/splat_math.h"
#include "splat/splat_op.h"
#include "tensor/tensor.h"

namespace splatlm {

// Per-head splat constants, contiguous: μ [H, K, D], c = 1/(2 s²) [H, K], ‖μ‖² [H, K], log a [H, K],
// and the options: decay rate r [H, K] (0 when off), read bias ρ [H, K] (0 when off), send bias and
// token decay.
struct Splats {
    int64_t H, K, D;
    Tensor mu_t, sb_t, td_t;  // keep the contiguous copies alive
    const float* mu;
    const float* sb;  // send bias, contiguous [B, H, T, K] (T = 1 in splat_step), or null when off
    const float* td;  // token decay, likewise
    std::vector<float> c, mu2, la, rate, rb;
    Splats(const Tensor& centres, const Tensor& log_scale, const Tensor& log_amp, const SplatOptions& o);
    const float* centres(int64_t h) const { return mu + h * K * D; }
    // The send bias of tokens t0… of head i = b·H + h in a sequence of T tokens ([rows][K]), or null.
    const float* send_bias(int64_t i, int64_t T, int64_t t0) const { return sb ? sb + (i * T + t0) * K : nullptr; }
    // The token decay of head i's tokens [0, T) ([T][K]), or null.
    const float* token_rate(int64_t i, int64_t T) const { return td ? td + i * T * K : nullptr; }
};

// out[r, j] = bias_rj − c_j·max(0, ‖x_r‖² − 2·x_r·μ_j + ‖μ_j‖²) for `rows` rows of x (row stride rs,
// column stride cs): one GEMM X·μᵀ, then the norms. bias = log a_j + send_bias[r, j] for keys, read
// bias ρ_j for queries. The clamp guards the cancellation of the expanded square; the backward treats
// it as the identity.
void affinities(const float* x, int64_t rs, int64_t cs, int64_t rows, const Splats& sp, int64_t h, bool key,
                const float* send_bias, float* out);

// Per-token scalars of one head, [T][K] each (row t describes token t).
struct TokenScalars {
    float* alpha;  // e^{m_{t−1} − m_t}: rescales the old state (0 on the first token)
    float* beta;   // e^{lk_t − m_t}: weight of token t in the new state
    float* coef;   // π_t / z̃_t: read-out weight of the state S̃_t
    float* pi;     // π_t, the read-out softmax over splats
    float* z;      // z̃_t
    float* m;      // m_t, the running max of lk
    float* den;    // Σ_j e^{ℓ_j − M} + ε, [T]
    int64_t* arg;  // argmax_j ℓ_j, [T]
};

// The per-token scalars of B·H heads (the forward keeps them for the backward).
struct HeadScalars {
    static constexpr int64_t kPlanes = 6;
    int64_t T, K;
    Tensor f, den;  // [B·H, 6, T, K], [B·H, T]
    std::vector<int64_t> arg;
    HeadScalars(int64_t BH, int64_t T_, int64_t K_)
        : T(T_), K(K_), f(Tensor::empty({BH, kPlanes, T_, K_})), den(Tensor::empty({BH, T_})), arg(BH * T_) {}
    TokenScalars of(int64_t i) const {
        float* s = const_cast<float*>(f.data()) + i * kPlanes * T * K;
        const int64_t P = T * K;
        return {s, s + P, s + 2 * P, s + 3 * P, s + 4 * P, s + 5 * P, const_cast<float*>(den.data()) + i * T,
                const_cast<int64_t*>(arg.data()) + i * T};
    }
};

// Absorb tokens [0, T) with key affinities lk ([T][K]) into the splat scalars m, z̃ (in/out, [K]) with
// decay rates r ([K], 0 = no decay) plus, when not null, token t's own rates token_rate[t] ([T][K]),
// keeping each token's α, β, m, z̃ (splat_math.h's absorb).
// Routed (top-p), a splat token t does not write to has lk = −∞: m' = m − r, α = 1, β = 0, so its z̃
// (and S̃) stay untouched, decay or not — only m moves; a splat never written keeps m = −∞, z̃ = 0.
// The only sequential part of the op; O(K) per token, plus O(p) exponentials when routed.
template <class Writes>
void scan_state(const float* lk, int64_t T, int64_t K, const float* rate_of_splat, const float* token_rate, float* m,
                float* z, const TokenScalars& o, const Writes& writes) {
    std::vector<float> summed(token_rate ? K : 0);
    for (int64_t t = 0; t < T; ++t) {
        const float* lkt = lk + t * K;
        const float* rate = rate_of_splat;
        if (token_rate) {
            for (int64_t j = 0; j < K; ++j) summed[j] = rate_of_splat[j] + token_rate[t * K + j];
            rate = summed.data();
        }
        float *al = o.alpha + t * K, *be = o.beta + t * K, *zt = o.z + t * K, *mt = o.m + t * K;
        auto absorb_at = [&](int64_t j, float r) {  // token t writes into splat j
            const Absorbed w = absorb(m[j], z[j], lkt[j], r);
            al[j] = w.alpha, be[j] = w.beta, zt[j] = z[j], mt[j] = m[j];
        };
        if constexpr (Writes::kAll) {
#pragma omp simd
            for (int64_t j = 0; j < K; ++j) absorb_at(j, rate[j]);
        } else {
#pragma omp simd
            for (int64_t j = 0; j < K; ++j) {  // first every splat as if t did not write to it
                m[j] = mt[j] = m[j] - rate[j];
                al[j] = 1.f;
                be[j] = 0.f;
                zt[j] = z[j];
            }
            for (int64_t i = 0; i < writes.size(); ++i) absorb_at(writes(t, i), 0.f);  // (m is decayed already)
        }
    }
}

// The read-out weights of tokens [t0, t1) (splat_math.h's read_out), each on its own, so any time
// range can run in parallel. Routed, π and coef are 0 on the splats a token does not read.
template <class Reads>
void read_weights(const float* lq, int64_t t0, int64_t t1, int64_t K, const TokenScalars& o, const Reads& reads) {
    for (int64_t t = t0; t < t1; ++t) {
        float *pi = o.pi + t * K, *coef = o.coef + t * K;
        if constexpr (!Reads::kAll) std::fill(pi, pi + K, 0.f), std::fill(coef, coef + K, 0.f);
        const ReadOut r = read_out(lq + t * K, o.m + t * K, o.z + t * K, t, reads, pi, coef);
        o.den[t] = r.den;
        o.arg[t] = r.arg;
    }
}

// Tokens per task in the passes that are independent per token (affinities, read-out weights).
constexpr int64_t kTokens = 256;

// Columns of S̃ per task: a fixed count, so the split never depends on the thread count. 16 floats
// are one AVX-512 register (two AVX2 ones), so a token's v and y stay in registers across splats.
constexpr int64_t kColumns = 16;

// n ≤ kColumns columns of S̃ (K rows of stride ss) through tokens [0, T): per token
//   S̃_j ← α_j·S̃_j + β_j·v,   y = Σ_j coef_j·S̃_j.
// v rows at v + t·vt (column stride vd), y rows at y + t·yt (column stride yd).
// N = n when it is known at compile time (full blocks), so the D-loops unroll into registers.
// (The dense op: every token writes and reads every splat, in one fused pass over the splats.)
template <int64_t N>
void columns_forward(const float* alpha, const float* beta, const float* coef, int64_t T, int64_t K, int64_t n_,
                     float* S, int64_t ss, const float* v, int64_t vt, int64_t vd, float* y, int64_t yt, int64_t yd,
                     const AllSplats&, const AllSplats&) {
    const int64_t n = N ? N : n_;
    for (int64_t t = 0; t < T; ++t) {
        float vb[kColumns], yb[kColumns];
        for (int64_t d = 0; d < n; ++d) vb[d] = v[t * vt + d * vd], yb[d] = 0.f;
        const float *al = alpha + t * K, *be = beta + t * K, *co = coef + t * K;
        for (int64_t j = 0; j < K; ++j) {
            float* s = S + j * ss;
            const float a = al[j], b = be[j], c = co[j];
#pragma omp simd
            for (int64_t d = 0; d < n; ++d) {
                s[d] = a * s[d] + b * vb[d];
                yb[d] += c * s[d];
            }
        }
        for (int64_t d = 0; d < n; ++d) y[t * yt + d * yd] = yb[d];
    }
}

// columns_forward under top-p routing: token t updates only the splats it writes to (every other
// splat has α = 1, β = 0: its S̃ is untouched) and reads only those it reads from (coef = 0 elsewhere),
// so a token costs O(p·n) instead of O(K·n).
template <int64_t N>
void columns_forward(const float* alpha, const float* beta, const float* coef, int64_t T, int64_t K, int64_t n_,
                     float* S, int64_t ss, const float* v, int64_t vt, int64_t vd, float* y, int64_t yt, int64_t yd,
                     const SplatList& writes, const SplatList& reads) {
    const int64_t n = N ? N : n_, p = writes.p;
    for (int64_t t = 0; t < T; ++t) {
        float vb[kColumns], yb[kColumns];
        for (int64_t d = 0; d < n; ++d) vb[d] = v[t * vt + d * vd], yb[d] = 0.f;
        for (int64_t i = 0; i < p; ++i) {
            const int64_t j = writes(t, i);
            float* s = S + j * ss;
            const float a = alpha[t * K + j], b = beta[t * K + j];
#pragma omp simd
            for (int64_t d = 0; d < n; ++d) s[d] = a * s[d] + b * vb[d];
        }
        for (int64_t i = 0; i < p; ++i) {
            const int64_t j = reads(t, i);
            const float *s = S + j * ss, c = coef[t * K + j];
#pragma omp simd
            for (int64_t d = 0; d < n; ++d) yb[d] += c * s[d];
        }
        for (int64_t d = 0; d < n; ++d) y[t * yt + d * yd] = yb[d];
    }
}

// Calls f(N) with N = kColumns for a full block of n columns (the width known at compile time) and
// N = 0 for a ragged one.
template <class F>
void with_block_width(int64_t n, F&& f) {
    if (n == kColumns)
        f(std::integral_constant<int64_t, kColumns>{});
    else
        f(std::integral_constant<int64_t, 0>{});
}

template <class Writes, class Reads>
void scan_columns(const float* alpha, const float* beta, const float* coef, int64_t T, int64_t K, int64_t n,
                  float* S, int64_t ss, const float* v, int64_t vt, int64_t vd, float* y, int64_t yt, int64_t yd,
                  const Writes& writes, const Reads& reads) {
    with_block_width(n, [&](auto N) {
        columns_forward<N>(alpha, beta, coef, T, K, n, S, ss, v, vt, vd, y, yt, yd, writes, reads);
    });
}

// Splats per chunk in columns_backward's column-major sweeps: 16 floats, one AVX-512 register (two AVX2).
constexpr int64_t kSplatLanes = 16;

// For the m ≤ kSplatLanes splats of one chunk: St[d][j] ← a_j·St[d][j] + b_j·x_d over n columns (rows
// of St `stride` apart), and out[j] = Σ_d y_d·St[d][j] after the update. M = m when it is known at
// compile time (full chunks), so the sum over d runs in a register.
template <int64_t M>
void chunk_update_dot(float* St, int64_t stride, int64_t n, int64_t m_, const float* a, const float* b, const float* x,
                      const float* y, float* out) {
    const int64_t m = M ? M : m_;
    float acc[kSplatLanes] = {};
    for (int64_t d = 0; d < n; ++d) {
        float* s = St + d * stride;
        const float xd = x[d], yd = y[d];
#pragma omp simd
        for (int64_t j = 0; j < m; ++j) {
            s[j] = a[j] * s[j] + b[j] * xd;
            acc[j] += yd * s[j];
        }
    }
    for (int64_t j = 0; j < m; ++j) out[j] = acc[j];
}

// chunk_update_dot over all K splats, a chunk at a time (St rows K apart).
inline void update_dot(float* St, int64_t K, int64_t n, const float* a, const float* b, const float* x, const float* y,
                       float* out) {
    for (int64_t j0 = 0; j0 < K; j0 += kSplatLanes) {
        const int64_t m = std::min(kSplatLanes, K - j0);
        if (m == kSplatLanes)
            chunk_update_dot<kSplatLanes>(St + j0, K, n, m, a + j0, b + j0, x, y, out + j0);
        else
            chunk_update_dot<0>(St + j0, K, n, m, a + j0, b + j0, x, y, out + j0);
    }
}

// The backward of n ≤ kColumns columns (S: 2·K·kColumns scratch). Forward in time it rebuilds S̃ and
// leaves pa[t][j] = dy_t·S̃_tj over these columns. Reverse in time it carries the adjoint Ŝ in the
// scale of the current token's running max: Ŝ_j ← α_{t+1,j}·Ŝ_j + (π_j/z̃_j)·dy_t (the first factor
// is e^{m_t − m_{t+1}}), then dv_t = Σ_j β_j·Ŝ_j and pk[t][j] = Ŝ_j·v_t. Ŝ needs only the per-token
// scalars, so the columns stay independent; the dot products that couple them are left per block.
//
// The layouts avoid horizontal sums (a dot product written as a loop is summed lane after lane, in
// order): a sum over columns (pa, pk) runs on the state held column-major, St[d][j], adding K-wide
// vectors column after column; a sum over splats (dv) on the state held row-major, S[j][d], adding
// column-wide vectors splat after splat. So the reverse sweep keeps Ŝ both ways: the same update on
// each, every element twice, which costs less than the K dot products it replaces.
template <int64_t N>
void columns_backward(const TokenScalars& ts, int64_t T, int64_t K, int64_t n_, float* S, const float* g, int64_t gt,
                      int64_t gd, const float* v, int64_t vt, int64_t vd, float* pa, float* pk, float* dv,
                      int64_t dvt, const AllSplats&, const AllSplats&) {
    const int64_t n = N ? N : n_;
    float* St = S + K * kColumns;  // [kColumns][K]
    float gb[kColumns], vb[kColumns];
    auto load = [&](int64_t t) {
        for (int64_t d = 0; d < n; ++d) gb[d] = g[t * gt + d * gd], vb[d] = v[t * vt + d * vd];
    };
    std::fill(St, St + kColumns * K, 0.f);
    for (int64_t t = 0; t < T; ++t) {  // S̃ ← α·S̃ + β·v, pa = dy·S̃
        load(t);
        update_dot(St, K, n, ts.alpha + t * K, ts.beta + t * K, vb, gb, pa + t * K);
    }
    std::fill(S, S + 2 * K * kColumns, 0.f);  // now Ŝ, both ways
    const std::vector<float> none(K, 0.f);    // the α after the last token: nothing carries back
    for (int64_t t = T - 1; t >= 0; --t) {  // Ŝ ← α·Ŝ + coef·dy, pk = Ŝ·v, dv = Σ_j β_j·Ŝ_j
        load(t);
        const float *a = t + 1 < T ? ts.alpha + (t + 1) * K : none.data(), *c = ts.coef + t * K, *b = ts.beta + t * K;
        update_dot(St, K, n, a, c, gb, vb, pk + t * K);
        float dvb[kColumns] = {};
        for (int64_t j = 0; j < K; ++j) {
            float* s = S + j * kColumns;
            const float aj = a[j], cj = c[j], bj = b[j];
#pragma omp simd
            for (int64_t d = 0; d < n; ++d) {
                s[d] = aj * s[d] + cj * gb[d];
                dvb[d] += bj * s[d];
            }
        }
        for (int64_t d = 0; d < n; ++d) dv[t * dvt + d] = dvb[d];
    }
}

// columns_backward under top-p routing, O(p·n) per token. The partials are per route entry:
// pa[t][i] = dy_t·S̃_j for the i-th splat j token t reads, pk[t][i] = Ŝ_j·v_t for the i-th it writes.
// The reverse sweep keeps each Ŝ_j already multiplied by the α of the token after (α = 1 where that
// token did not write j), so a token touches only its own splats: Ŝ_j += coef_j·dy_t on its reads;
// then on its writes pk = Ŝ_j·v_t, dv_t += β_j·Ŝ_j, and Ŝ_j ← α_{t,j}·Ŝ_j for token t − 1.
template <int64_t N>
void columns_backward(const TokenScalars& ts, int64_t T, int64_t K, int64_t n_, float* S, const float* g, int64_t gt,
                      int64_t gd, const float* v, int64_t vt, int64_t vd, float* pa, float* pk, float* dv,
                      int64_t dvt, const SplatList& writes, const SplatList& reads) {
    const int64_t n = N ? N : n_, p = writes.p;
    std::fill(S, S + K * kColumns, 0.f);
    for (int64_t t = 0; t < T; ++t) {
        float gb[kColumns], vb[kColumns];
        for (int64_t d = 0; d < n; ++d) gb[d] = g[t * gt + d * gd], vb[d] = v[t * vt + d * vd];
        for (int64_t i = 0; i < p; ++i) {
            const int64_t j = writes(t, i);
            float* s = S + j * kColumns;
            const float al = ts.alpha[t * K + j], be = ts.beta[t * K + j];
#pragma omp simd
            for (int64_t d = 0; d < n; ++d) s[d] = al * s[d] + be * vb[d];
        }
        for (int64_t i = 0; i < p; ++i) {
            const float* s = S + reads(t, i) * kColumns;
            float dot = 0.f;
#pragma omp simd reduction(+ : dot)
            for (int64_t d = 0; d < n; ++d) dot += gb[d] * s[d];
            pa[t * p + i] = dot;
        }
    }
    std::fill(S, S + K * kColumns, 0.f);  // now Ŝ
    for (int64_t t = T - 1; t >= 0; --t) {
        float gb[kColumns], vb[kColumns], dvb[kColumns];
        for (int64_t d = 0; d < n; ++d) gb[d] = g[t * gt + d * gd], vb[d] = v[t * vt + d * vd], dvb[d] = 0.f;
        for (int64_t i = 0; i < p; ++i) {
            const int64_t j = reads(t, i);
            float* s = S + j * kColumns;
            const float w = ts.coef[t * K + j];
#pragma omp simd
            for (int64_t d = 0; d < n; ++d) s[d] += w * gb[d];
        }
        for (int64_t i = 0; i < p; ++i) {
            const int64_t j = writes(t, i);
            float* s = S + j * kColumns;
            const float al = ts.alpha[t * K + j], be = ts.beta[t * K + j];
            float dot = 0.f;
#pragma omp simd reduction(+ : dot)
            for (int64_t d = 0; d < n; ++d) {
                dot += s[d] * vb[d];
                dvb[d] += be * s[d];
                s[d] *= al;
            }
            pk[t * p + i] = dot;
        }
        for (int64_t d = 0; d < n; ++d) dv[t * dvt + d] = dvb[d];
    }
}

// Per token t in [t0, t1) of one head, from the column blocks' partials (pa: [NB][T][reads.size()],
// pk: [NB][T][writes.size()]): a_j = dy·S̃_j/z̃_j, then splat_math.h's read_out_adjoint gives dlq and
// X (parked in dlk, for the Ẑ scan); and wk_j = β_j·(Ŝ_j·v_t) ([T][K]). Where token t does not write,
// wk is left alone (the routed caller zeroes it; β = 0 there).
template <class Reads, class Writes>
void token_adjoints(const TokenScalars& ts, int64_t t0, int64_t t1, int64_t T, int64_t K, int64_t NB,
                    const Reads& reads, const Writes& writes, const float* pa, const float* pk, float* dlq,
                    float* dlk, float* wk) {
    const int64_t nr = reads.size(), nw = writes.size();
    std::vector<float> a(K);
    for (int64_t t = t0; t < t1; ++t) {
        const float* zt = ts.z + t * K;
        std::fill(a.begin(), a.end(), 0.f);
        for (int64_t i = 0; i < nr; ++i) {
            const int64_t j = reads(t, i);
            float dot = 0.f;
            for (int64_t nb = 0; nb < NB; ++nb) dot += pa[(nb * T + t) * nr + i];
            a[j] = zt[j] > 0.f ? dot / zt[j] : 0.f;  // (an empty splat, top-p only, has π = 0)
        }
        read_out_adjoint(K, ts.pi + t * K, zt, a.data(), {ts.den[t], ts.arg[t]}, dlq + t * K, dlk + t * K);
        for (int64_t i = 0; i < nw; ++i) {  // (in the dense op wk is pk's first block: entry i read, then written)
            const int64_t j = writes(t, i);
            float dot = 0.f;
            for (int64_t nb = 0; nb < NB; ++nb) dot += pk[(nb * T + t) * nw + i];
            wk[t * K + j] = ts.beta[t * K + j] * dot;
        }
    }
}

}  // namespace splatlm
