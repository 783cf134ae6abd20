// splat_op.cpp — the fused Gaussian splat attention op: forward scan, hand-derived reverse scan, the
// recurrent step and the float64 reference, side by side. Math and derivation: docs/SPLAT.md.
//
// Layout of the work, per (batch, head), each pass split into fixed-size tasks (never by thread
// count, so results are bitwise the same for any number of threads):
//   1. affinities lk, lq per range of kTokens rows: one GEMM X·μᵀ each, then ‖x‖² and ‖μ‖² added;
//   2. the splat scalars: running max m and z̃ (the one sequential pass, O(K) per token), then the
//      read-out softmax over splats of ℓ = lq + m + log z̃ per token (parallel over time ranges);
//   3. the state S̃ and the output y, O(K·D) per token, in independent blocks of kColumns columns.
// The backward runs the same column blocks forward (rebuilding S̃) and in reverse time (carrying
// the adjoint Ŝ), then the per-token adjoint of the scalars, the sequential Ẑ recurrence, and GEMMs
// that turn dlk, dlq into gradients of k, q, centres and scales.
// Sparse routing (top = p > 0): pass 1 also picks each token's p write and p read splats (an unpicked
// affinity counts as −∞); the scalar pass moves every splat's running max (O(K), no exponentials) and
// absorbs only the p writes, the read-out weights, the column passes and the per-token adjoints visit
// only the picked splats — O(p·D) per token in the columns (the dense op keeps its fused kernels).
// CUDA tensors take another route: the chunked scan of splat/splat_scan_math.h (section "on CUDA").
#include "splat/splat_op.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "autograd/graph.h"
#include "cuda/splat_scan.h"
#include "nn/heads.h"
#include "tensor/elementwise_math.h"
#include "tensor/error.h"
#include "tensor/gemm.h"
#include "tensor/ops.h"

namespace splatlm {

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Per-head splat constants, contiguous: μ [H, K, D], c = 1/(2 s²) [H, K], ‖μ‖² [H, K], log a [H, K],
// and the options: decay rate r [H, K] (0 when off), read bias ρ [H, K] (0 when off), send bias.
struct Splats {
    int64_t H, K, D;
    Tensor mu_t, sb_t;  // keep the contiguous copies alive
    const float* mu;
    const float* sb;  // send bias, contiguous [B, H, T, K] (T = 1 in splat_step), or null when off
    std::vector<float> c, mu2, la, rate, rb;
    Splats(const Tensor& centres, const Tensor& log_scale, const Tensor& log_amp, const SplatOptions& o)
        : H(centres.size(0)), K(centres.size(1)), D(centres.size(2)), mu_t(raw::contiguous(centres)),
          sb_t(o.send_bias.defined() ? raw::contiguous(o.send_bias) : Tensor()), mu(mu_t.data()),
          sb(sb_t.defined() ? sb_t.data() : nullptr), c(H * K), mu2(H * K), la(H * K), rate(H * K, 0.f),
          rb(H * K, 0.f) {
        for (int64_t h = 0; h < H; ++h)
            for (int64_t j = 0; j < K; ++j) {
                const int64_t i = h * K + j;
                c[i] = float(0.5 * std::exp(-2.0 * double(log_scale.at({h, j}))));
                la[i] = log_amp.at({h, j});
                if (o.log_decay.defined()) rate[i] = std::exp(o.log_decay.at({h, j}));
                if (o.read_bias.defined()) rb[i] = o.read_bias.at({h, j});
                double n2 = 0;
                for (int64_t d = 0; d < D; ++d) n2 += double(mu[i * D + d]) * mu[i * D + d];
                mu2[i] = float(n2);
            }
    }
    const float* centres(int64_t h) const { return mu + h * K * D; }
    // The send bias of tokens t0… of head i = b·H + h in a sequence of T tokens ([rows][K]), or null.
    const float* send_bias(int64_t i, int64_t T, int64_t t0) const { return sb ? sb + (i * T + t0) * K : nullptr; }
};

// out[r, j] = bias_rj − c_j·max(0, ‖x_r‖² − 2·x_r·μ_j + ‖μ_j‖²) for `rows` rows of x (row stride rs,
// column stride cs). bias = log a_j + send_bias[r, j] for keys, read bias ρ_j for queries. The clamp
// guards the cancellation of the expanded square; it is treated as the identity by the backward.
void affinities(const float* x, int64_t rs, int64_t cs, int64_t rows, const Splats& sp, int64_t h, bool key,
                const float* send_bias, float* out) {
    const int64_t K = sp.K, D = sp.D;
    gemm(rows, K, D, 1.f, x, rs, cs, sp.centres(h), 1, D, 0.f, out, K, 1);
    const float *c = sp.c.data() + h * K, *mu2 = sp.mu2.data() + h * K, *la = sp.la.data() + h * K,
                *rb = sp.rb.data() + h * K;
    for (int64_t r = 0; r < rows; ++r) {
        double x2 = 0;
        for (int64_t d = 0; d < D; ++d) x2 += double(x[r * rs + d * cs]) * x[r * rs + d * cs];
        float* o = out + r * K;
        for (int64_t j = 0; j < K; ++j) {
            const float d2 = std::max(0.f, float(x2) - 2.f * o[j] + mu2[j]);
            const float bias = key ? la[j] + (send_bias ? send_bias[r * K + j] : 0.f) : rb[j];
            o[j] = bias - c[j] * d2;
        }
    }
}

// ---- the per-token kernels, shared by forward, backward and step ----
//
// The work splits in two. The per-splat scalars of a token (running max m, z̃, the read-out
// weights π) depend on the past only through m and z̃ — O(K) per token: `scan_state` is the one
// sequential pass, `read_weights` then runs on any time range. The D columns of S̃ then evolve independently of each other given those
// scalars, so `scan_columns` runs on a block of columns at a time (the unit of parallelism when
// there is one head). Every column sees the same arithmetic whatever the block split, so results
// do not depend on the thread count. exp_poly keeps the K-loops vectorisable.

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

// ---- sparse routing (SplatOptions::top) ----
//
// The splats token t writes to / reads from, as the i-th of size() per token: all K in the dense op
// (the i-th is splat i), or p per token from a [T][p] list in ascending splat order. The per-token
// kernels are written once against both; where the dense op has a faster fused form of its own, it
// is an overload on AllSplats.
struct AllSplats {
    static constexpr bool kAll = true;
    int64_t K;
    int64_t size() const { return K; }
    int64_t operator()(int64_t, int64_t i) const { return i; }
};
struct SplatList {
    static constexpr bool kAll = false;
    const int32_t* idx;  // [T][p], token t's splats ascending
    int64_t p;
    int64_t size() const { return p; }
    int64_t operator()(int64_t t, int64_t i) const { return idx[t * p + i]; }
};

// The p largest of l[0, K), ties to the lower index, into out[0, p) in ascending splat order (NaN
// ranks as −∞). First the p-th largest value θ: rounds of "the largest value below the last one",
// counting its repeats, until p values are ≥ θ (≤ p vectorised passes); then the splats above θ and
// the first ones equal to it, read off 64-bit masks. Branch-free but for the loop bounds (an insertion
// list or a sort mispredicts on random affinities, which costs more than the passes). v: [K] scratch.
void top_splats(const float* l, int64_t K, int64_t p, int32_t* out, float* v) {
    for (int64_t j = 0; j < K; ++j) v[j] = l[j] == l[j] ? l[j] : kNegInf;
    float theta = std::numeric_limits<float>::quiet_NaN();  // every value is "below" NaN at first
    int64_t above = 0;                                      // splats > θ
    for (;;) {
        float M = kNegInf;
#pragma omp simd reduction(max : M)
        for (int64_t j = 0; j < K; ++j) {
            const float x = v[j] >= theta ? kNegInf : v[j];
            M = x > M ? x : M;  // (this form vectorises; std::max stays scalar)
        }
        int64_t repeats = 0;
#pragma omp simd reduction(+ : repeats)
        for (int64_t j = 0; j < K; ++j) repeats += v[j] == M;
        theta = M;
        if (above + repeats >= p) break;
        above += repeats;
    }
    int64_t n = 0, ties = p - above;
    for (int64_t j0 = 0; j0 < K; j0 += 64) {
        uint64_t gt = 0, eq = 0;
        for (int64_t d = 0; d < std::min<int64_t>(64, K - j0); ++d) {
            gt |= uint64_t(v[j0 + d] > theta) << d;
            eq |= uint64_t(v[j0 + d] == theta) << d;
        }
        for (; eq && ties > 0; --ties) gt |= eq & (~eq + 1), eq &= eq - 1;  // the lowest-index ties
        for (; gt; gt &= gt - 1) out[n++] = int32_t(j0 + std::countr_zero(gt));
    }
}

// The routes of B·H heads of T tokens: per token, the p splats of largest lk (where it writes) and
// of largest lq (where it reads). 2·p ints per token, kept for the backward; none when p = 0 (dense).
struct Routes {
    int64_t T, p;
    std::vector<int32_t> write, read;  // [B·H][T][p]
    Routes(int64_t BH, int64_t T_, int64_t p_) : T(T_), p(p_), write(BH * T_ * p_), read(BH * T_ * p_) {}
    // Route tokens [t0, t1) of head i from its affinities lk, lq ([T][K] each).
    void select(int64_t i, int64_t t0, int64_t t1, int64_t K, const float* lk, const float* lq) {
        std::vector<float> v(p > 0 ? K : 0);
        for (int64_t t = t0; t < t1 && p > 0; ++t) {
            top_splats(lk + t * K, K, p, write.data() + (i * T + t) * p, v.data());
            top_splats(lq + t * K, K, p, read.data() + (i * T + t) * p, v.data());
        }
    }
    // f(writes, reads) with head i's routes, or with all K splats when the op is dense.
    template <class F>
    void visit(int64_t i, int64_t K, F&& f) const {
        if (p > 0)
            f(SplatList{write.data() + i * T * p, p}, SplatList{read.data() + i * T * p, p});
        else
            f(AllSplats{K}, AllSplats{K});
    }
};

// Absorb tokens [0, T) with key affinities lk ([T][K]) into the splat scalars m, z̃ (in/out, [K]),
// with decay rates r ([K], 0 = no decay): the old state's log-weights drop by r per token, so
//   m' = max(m − r, lk);  α = e^{m−r−m'};  β = e^{lk−m'};  z̃' = α·z̃ + β.
// Routed (top-p), a splat token t does not write to has lk = −∞: m' = m − r, α = 1, β = 0, so its z̃
// (and S̃) stay untouched, decay or not — only m moves; a splat never written keeps m = −∞, z̃ = 0.
// The only sequential part of the op; O(K) per token, plus O(p) exponentials when routed.
template <class Writes>
void scan_state(const float* lk, int64_t T, int64_t K, const float* rate, float* m, float* z,
                const TokenScalars& o, const Writes& writes) {
    for (int64_t t = 0; t < T; ++t) {
        const float* lkt = lk + t * K;
        float *al = o.alpha + t * K, *be = o.beta + t * K, *zt = o.z + t * K, *mt = o.m + t * K;
        auto absorb = [&](int64_t j, float decayed) {  // token t writes into splat j
            const float mn = std::max(decayed, lkt[j]);
            al[j] = exp_poly(decayed - mn);  // m = −∞ before the first write: exp_poly gives exactly 0
            be[j] = exp_poly(lkt[j] - mn);
            z[j] = zt[j] = al[j] * z[j] + be[j];
            m[j] = mt[j] = mn;
        };
        if constexpr (Writes::kAll) {
#pragma omp simd
            for (int64_t j = 0; j < K; ++j) absorb(j, m[j] - rate[j]);
        } else {
#pragma omp simd
            for (int64_t j = 0; j < K; ++j) {  // first every splat as if t did not write to it
                m[j] = mt[j] = m[j] - rate[j];
                al[j] = 1.f;
                be[j] = 0.f;
                zt[j] = z[j];
            }
            for (int64_t i = 0; i < writes.size(); ++i) absorb(writes(t, i), m[writes(t, i)]);
        }
    }
}

// The read-out weights of tokens [t0, t1), each on its own (so any time range can run in parallel):
// ℓ_j = lq_j + m_j + log z̃_j, π_j = e^{ℓ_j−M} / (Σ e^{ℓ−M} + ε), M = max ℓ. The log is avoided:
// with U = max_j (lq_j + m_j), e^{ℓ_j − U} = e^{lq_j + m_j − U}·z̃_j, and dividing by the largest
// of those gives e^{ℓ_j − M} (z̃ ≥ 1 for a splat written to, and U is attained at one, so the largest
// is ≥ 1). Routed (top-p), the sums run over the p splats token t reads (π = 0 elsewhere), and an
// empty splat (m = −∞, z̃ = 0) has ℓ = −∞, so π = 0 and coef = 0 there; when every splat t reads is
// empty (U = −∞), π = 0 throughout and y_t = 0.
template <class Reads>
void read_weights(const float* lq, int64_t t0, int64_t t1, int64_t K, const TokenScalars& o, const Reads& reads) {
    const int64_t n = reads.size();
    std::vector<float> w(n);
    for (int64_t t = t0; t < t1; ++t) {
        const float *lqt = lq + t * K, *mt = o.m + t * K, *zt = o.z + t * K;
        float *pi = o.pi + t * K, *co = o.coef + t * K;
        if constexpr (!Reads::kAll) std::fill(pi, pi + K, 0.f), std::fill(co, co + K, 0.f);
        float U = kNegInf;
#pragma omp simd reduction(max : U)
        for (int64_t i = 0; i < n; ++i) {
            const float x = lqt[reads(t, i)] + mt[reads(t, i)];
            U = x > U ? x : U;  // (this form vectorises; std::max stays scalar)
        }
        if (U == kNegInf) {  // nothing to read: π = 0 (then gy = 0, and the backward's ε term is 0 too)
            std::fill(pi, pi + K, 0.f);
            std::fill(co, co + K, 0.f);
            o.den[t] = 1.f;
            o.arg[t] = 0;
            continue;
        }
        float W = 0.f;
#pragma omp simd reduction(max : W)
        for (int64_t i = 0; i < n; ++i) {
            const int64_t j = reads(t, i);
            w[i] = exp_poly(lqt[j] + mt[j] - U) * zt[j];
            W = w[i] > W ? w[i] : W;
        }
        const float invW = 1.f / W;
        float den = kSplatEps;
        // (the simd sum's order is fixed by the compiled code, never by the thread count)
#pragma omp simd reduction(+ : den)
        for (int64_t i = 0; i < n; ++i) den += w[i] * invW;
        const float scale = invW / den;
#pragma omp simd
        for (int64_t i = 0; i < n; ++i) {
            const int64_t j = reads(t, i);
            pi[j] = w[i] * scale;
            co[j] = zt[j] > 0.f ? pi[j] / zt[j] : 0.f;
        }
        int64_t arg = 0;
        while (arg + 1 < n && w[arg] != W) ++arg;  // the first splat with the largest term (bounded: NaN)
        o.den[t] = den;
        o.arg[t] = reads(t, arg);
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

// The backward of n ≤ kColumns columns (S: K·kColumns scratch). Forward in time it rebuilds S̃ and
// leaves pa[t][j] = dy_t·S̃_tj over these columns. Reverse in time it carries the adjoint Ŝ in the
// scale of the current token's running max: Ŝ_j ← α_{t+1,j}·Ŝ_j + (π_j/z̃_j)·dy_t (the first factor
// is e^{m_t − m_{t+1}}), then dv_t = Σ_j β_j·Ŝ_j and pk[t][j] = Ŝ_j·v_t. Ŝ needs only the per-token
// scalars, so the columns stay independent; the dot products that couple them are left per block.
template <int64_t N>
void columns_backward(const TokenScalars& ts, int64_t T, int64_t K, int64_t n_, float* S, const float* g, int64_t gt,
                      int64_t gd, const float* v, int64_t vt, int64_t vd, float* pa, float* pk, float* dv,
                      int64_t dvt, const AllSplats&, const AllSplats&) {
    const int64_t n = N ? N : n_;
    std::fill(S, S + K * kColumns, 0.f);
    for (int64_t t = 0; t < T; ++t) {
        float gb[kColumns], vb[kColumns];
        for (int64_t d = 0; d < n; ++d) gb[d] = g[t * gt + d * gd], vb[d] = v[t * vt + d * vd];
        for (int64_t j = 0; j < K; ++j) {
            float* s = S + j * kColumns;
            const float al = ts.alpha[t * K + j], be = ts.beta[t * K + j];
            float dot = 0.f;
#pragma omp simd reduction(+ : dot)
            for (int64_t d = 0; d < n; ++d) {
                s[d] = al * s[d] + be * vb[d];
                dot += gb[d] * s[d];
            }
            pa[t * K + j] = dot;
        }
    }
    std::fill(S, S + K * kColumns, 0.f);  // now Ŝ
    for (int64_t t = T - 1; t >= 0; --t) {
        float gb[kColumns], vb[kColumns], dvb[kColumns];
        for (int64_t d = 0; d < n; ++d) gb[d] = g[t * gt + d * gd], vb[d] = v[t * vt + d * vd], dvb[d] = 0.f;
        for (int64_t j = 0; j < K; ++j) {
            float* s = S + j * kColumns;
            const float f = t + 1 < T ? ts.alpha[(t + 1) * K + j] : 0.f;
            const float w = ts.coef[t * K + j], be = ts.beta[t * K + j];
            float dot = 0.f;
#pragma omp simd reduction(+ : dot)
            for (int64_t d = 0; d < n; ++d) {
                s[d] = f * s[d] + w * gb[d];
                dot += s[d] * vb[d];
                dvb[d] += be * s[d];
            }
            pk[t * K + j] = dot;
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
// pk: [NB][T][writes.size()]): a_j = dy·v̄_j (v̄_j = S̃_j/z̃_j, the splat's running mean), gy = dy·y =
// Σ π_j a_j, dℓ_j = π_j (a_j − gy) plus the ε·e^M term's share on the argmax splat (→ dlq); the
// direct dependence of y_t on z_t, X_j = (dℓ_j − π_j a_j)/z̃_j (→ dlk, for the Ẑ scan); and
// β_j·(Ŝ_j·v_t) (→ wk, [T][K]). Where token t does not read, π = 0 and a = 0, so dlq = X = 0; where it
// does not write, wk is left alone (the routed caller zeroes it; β = 0 there). An empty splat
// (z̃ = 0, top-p only) has π = 0 and gets a = X = 0.
template <class Reads, class Writes>
void token_adjoints(const TokenScalars& ts, int64_t t0, int64_t t1, int64_t T, int64_t K, int64_t NB,
                    const Reads& reads, const Writes& writes, const float* pa, const float* pk, float* dlq,
                    float* dlk, float* wk) {
    const int64_t nr = reads.size(), nw = writes.size();
    std::vector<float> a(K), dl(K);
    for (int64_t t = t0; t < t1; ++t) {
        const float *pi = ts.pi + t * K, *zt = ts.z + t * K;
        // x / z̃_j, and 0 for an empty splat (z̃ ≥ 1 in the dense op, where the test compiles away)
        auto over_z = [&](float x, int64_t j) { return Reads::kAll || zt[j] > 0.f ? x / zt[j] : 0.f; };
        std::fill(a.begin(), a.end(), 0.f);
        float gy = 0.f;
        for (int64_t i = 0; i < nr; ++i) {
            const int64_t j = reads(t, i);
            float dot = 0.f;
            for (int64_t nb = 0; nb < NB; ++nb) dot += pa[(nb * T + t) * nr + i];
            a[j] = over_z(dot, j);
            gy += pi[j] * a[j];
        }
        for (int64_t j = 0; j < K; ++j) dl[j] = pi[j] * (a[j] - gy);
        dl[ts.arg[t]] -= kSplatEps / ts.den[t] * gy;
        for (int64_t j = 0; j < K; ++j) {
            dlq[t * K + j] = dl[j];
            dlk[t * K + j] = over_z(dl[j] - pi[j] * a[j], j);
        }
        for (int64_t i = 0; i < nw; ++i) {  // (in the dense op wk is pk's first block: entry i read, then written)
            const int64_t j = writes(t, i);
            float dot = 0.f;
            for (int64_t nb = 0; nb < NB; ++nb) dot += pk[(nb * T + t) * nw + i];
            wk[t * K + j] = ts.beta[t * K + j] * dot;
        }
    }
}

// Checks shapes and options; returns the one device every input lives on.
Device check_inputs(const char* op, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& centres,
                    const Tensor& log_scale, const Tensor& log_amp, const SplatOptions& o, int64_t rank) {
    const Device device = q.device();
    for (const auto& [t, name] :
         {std::pair{&k, "k"}, std::pair{&v, "v"}, std::pair{&centres, "centres"}, std::pair{&log_scale, "log_scale"},
          std::pair{&log_amp, "log_amp"}, std::pair{&o.log_decay, "log_decay"}, std::pair{&o.send_bias, "send_bias"},
          std::pair{&o.read_bias, "read_bias"}})
        SPLATLM_CHECK(!t->defined() || t->device() == device, op, ": inputs on different devices: q ",
                      shape_str(q.shape()), " on ", device_name(device), ", ", name, " ", shape_str(t->shape()), " on ",
                      device_name(t->device()));
    if (device == Device::CPU) {
        check_heads(op, q, k, v, rank);
    } else {
        SPLATLM_CHECK(q.dim() == rank && q.shape() == k.shape() && q.shape() == v.shape(), op,
                      ": q, k, v must share one ", rank == 4 ? "[B, H, T, D]" : "[B, H, D]", " shape, got ",
                      shape_str(q.shape()), ", ", shape_str(k.shape()), ", ", shape_str(v.shape()));
        SPLATLM_CHECK(o.top == 0, op, ": top-p routing (top = ", o.top, ") is not implemented on CUDA yet");
    }
    const int64_t H = q.size(1), D = q.size(-1);
    SPLATLM_CHECK(centres.dim() == 3 && centres.size(0) == H && centres.size(2) == D && centres.size(1) > 0, op,
                  ": centres must be [H, K, D] = [", H, ", K, ", D, "] with K > 0, got ", shape_str(centres.shape()));
    const Shape hk = {H, centres.size(1)};
    SPLATLM_CHECK(log_scale.shape() == hk && log_amp.shape() == hk, op, ": log_scale and log_amp must be ",
                  shape_str(hk), ", got ", shape_str(log_scale.shape()), " and ", shape_str(log_amp.shape()));
    for (const auto& [t, name] : {std::pair{&o.log_decay, "log_decay"}, std::pair{&o.read_bias, "read_bias"}})
        if (t->defined())
            SPLATLM_CHECK(t->shape() == hk, op, ": ", name, " must be ", shape_str(hk), ", got ",
                          shape_str(t->shape()));
    SPLATLM_CHECK(o.top >= 0 && o.top <= centres.size(1), op, ": top must be in [0, K = ", centres.size(1),
                  "] (0 = every splat), got ", o.top);
    if (o.send_bias.defined()) {
        Shape want = q.shape();  // [B, H, T, K] (rank 4) or [B, H, K] (rank 3, one position)
        want.back() = centres.size(1);
        SPLATLM_CHECK(o.send_bias.shape() == want, op, ": send_bias must be ", shape_str(want), ", got ",
                      shape_str(o.send_bias.shape()));
    }
    return device;
}

// The inputs an op call reads, in the order its backward returns their gradients.
std::vector<Tensor> op_inputs(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& centres,
                              const Tensor& log_scale, const Tensor& log_amp, const SplatOptions& o) {
    std::vector<Tensor> in{q, k, v, centres, log_scale, log_amp};
    for (const Tensor* t : {&o.log_decay, &o.send_bias, &o.read_bias})
        if (t->defined()) in.push_back(*t);
    return in;
}

}  // namespace

// ============================================================================ on CUDA
//
// CUDA tensors go through the chunked scan of splat/splat_scan_math.h (docs/SPLAT.md, "On the GPU"),
// launched by cuda/splat_scan.cu. Every kernel runs on the default stream, so scratch tensors may
// be released as soon as the launches are queued: the allocator's next user is ordered after them.

SplatConstants splat_constants(const Tensor& centres, const Tensor& log_scale, const Tensor& log_amp,
                               const SplatOptions& o) {
    SplatOptions host;  // the per-splat options, on the host (Splats reads them with at())
    if (o.log_decay.defined()) host.log_decay = o.log_decay.to(Device::CPU);
    if (o.read_bias.defined()) host.read_bias = o.read_bias.to(Device::CPU);
    const Splats sp(centres.to(Device::CPU), log_scale.to(Device::CPU), log_amp.to(Device::CPU), host);
    return {std::vector<float>(sp.mu, sp.mu + sp.H * sp.K * sp.D), sp.c, sp.la, sp.rate, sp.rb};
}

namespace {

// The per-head splat constants on the device (splat_constants); the send bias is read in place.
struct DeviceSplats {
    Tensor mu, c, la, rate, rb;
    ScanSplats view;
    DeviceSplats(const Tensor& centres, const Tensor& log_scale, const Tensor& log_amp, const SplatOptions& o) {
        const SplatConstants sc = splat_constants(centres, log_scale, log_amp, o);
        const Shape hk{centres.size(0), centres.size(1)};
        auto up = [&](const std::vector<float>& x, const Shape& shape) {
            return Tensor::from_vector(x, shape).to(Device::CUDA);
        };
        mu = up(sc.mu, centres.shape()), c = up(sc.c, hk), la = up(sc.la, hk);
        rate = up(sc.rate, hk), rb = up(sc.rb, hk);
        view = {mu.data(), c.data(), la.data(), rate.data(), rb.data(),
                o.send_bias.defined() ? heads_view<const float>(o.send_bias) : HeadsView<const float>{}};
    }
};

// The scan's scratch on the device (ScanBuffers): per token [B·H, T, K], per chunk [B·H, NC, K] and
// [B·H, NC, K, D]; with read_out also π, den, arg for the backward.
struct DeviceScratch {
    Tensor lq, lk, alpha, beta, m, z, coef, pi, den, arg, cm, cz, pm, pz, cS;
    DeviceScratch(const ScanShape& s, bool read_out) {
        const Shape token{s.B * s.H, s.T, s.K}, chunk{s.B * s.H, s.chunks(), s.K};
        for (Tensor* t : {&lq, &lk, &alpha, &beta, &m, &z, &coef}) *t = Tensor::empty(token, Device::CUDA);
        if (read_out) {
            pi = Tensor::empty(token, Device::CUDA);
            den = Tensor::empty({s.B * s.H, s.T}, Device::CUDA), arg = Tensor::empty({s.B * s.H, s.T}, Device::CUDA);
        }
        for (Tensor* t : {&cm, &cz, &pm, &pz}) *t = Tensor::empty(chunk, Device::CUDA);
        cS = Tensor::empty({s.B * s.H, s.chunks(), s.K, s.D}, Device::CUDA);
    }
    ScanBuffers buffers() {
        auto ptr = [](Tensor& t) { return t.defined() ? t.data() : nullptr; };
        return {lq.data(), lk.data(), alpha.data(), beta.data(), m.data(), z.data(), coef.data(), ptr(pi), ptr(den),
                ptr(arg),  cm.data(), cz.data(),    pm.data(),   pz.data(), cS.data(), false};
    }
};

Tensor splat_attention_cuda(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& centres,
                            const Tensor& log_scale, const Tensor& log_amp, const SplatOptions& opt) {
    const int64_t B = q.size(0), H = q.size(1), T = q.size(2), D = q.size(3), K = centres.size(1);
    Tensor y = raw::permute(Tensor::empty({B, T, H, D}, Device::CUDA), {0, 2, 1, 3});  // as on the CPU
    if (y.numel() == 0) return y;
    const ScanShape s{B, H, T, K, D, kSplatChunk};
    const DeviceSplats sp(centres, log_scale, log_amp, opt);
    DeviceScratch scratch(s, false);
    cuda::splat_scan_forward(s, sp.view, heads_view<const float>(q), heads_view<const float>(k),
                             heads_view<const float>(v), heads_view<float>(y), scratch.buffers());
    return y;
}

// The gradients of every input of splat_attention_cuda (op_inputs' order) from the output's, grad.
std::vector<Tensor> splat_backward_cuda(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& centres,
                                        const Tensor& log_scale, const Tensor& log_amp, const SplatOptions& opt,
                                        const Tensor& grad) {
    check_device("splat_attention backward", grad, Device::CUDA);
    const int64_t B = q.size(0), H = q.size(1), T = q.size(2), D = q.size(3), K = centres.size(1);
    const ScanShape s{B, H, T, K, D, kSplatChunk};
    const DeviceSplats sp(centres, log_scale, log_amp, opt);
    DeviceScratch scratch(s, true);
    auto cuda_empty = [](const Shape& shape) { return Tensor::empty(shape, Device::CUDA); };
    const Shape token{B, H, T, K}, hk{H, K};
    Tensor pa = cuda_empty(token), pk = cuda_empty(token), dlq = cuda_empty(token), dlk = cuda_empty(token);
    Tensor rS = cuda_empty({B * H, s.chunks(), K, D}), rZ = cuda_empty({B * H, s.chunks(), K}),
           carry = cuda_empty({B * H, s.chunks(), K});
    Tensor dr = cuda_empty({B * H, K}), drb = cuda_empty({B * H, K});
    Tensor dq = cuda_empty(q.shape()), dk = cuda_empty(q.shape()), dv = cuda_empty(q.shape());
    Tensor dmu = cuda_empty(centres.shape()), dls = cuda_empty(hk), dla = cuda_empty(hk), dlog_decay = cuda_empty(hk),
           drho = cuda_empty(hk);
    const ScanGrads gr{heads_view<const float>(grad), pa.data(), pk.data(), rS.data(), rZ.data(), carry.data(),
                       dlq.data(), dlk.data(), dr.data(), drb.data(), dq.data(), dk.data(), dv.data(),
                       dmu.data(), dls.data(), dla.data(), dlog_decay.data(), drho.data()};
    cuda::splat_scan_backward(s, sp.view, heads_view<const float>(q), heads_view<const float>(k),
                              heads_view<const float>(v), scratch.buffers(), gr);
    std::vector<Tensor> grads{dq, dk, dv, dmu, dls, dla};
    if (opt.log_decay.defined()) grads.push_back(dlog_decay);
    if (opt.send_bias.defined()) grads.push_back(dlk);
    if (opt.read_bias.defined()) grads.push_back(drho);
    return grads;
}

}  // namespace

// ============================================================================ forward + backward

Tensor splat_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& centres,
                       const Tensor& log_scale, const Tensor& log_amp, const SplatOptions& opt) {
    const Device device = check_inputs("splat_attention", q, k, v, centres, log_scale, log_amp, opt, 4);
    const std::vector<Tensor> inputs = op_inputs(q, k, v, centres, log_scale, log_amp, opt);
    bool needs_grad = false;
    for (const Tensor& t : inputs) needs_grad |= t.requires_grad();
    needs_grad &= grad_enabled();
    if (device == Device::CUDA) {  // the backward recomputes the scan from the inputs (nothing saved)
        Tensor y = splat_attention_cuda(q, k, v, centres, log_scale, log_amp, opt);
        if (!needs_grad) return y;
        return record(y, "splat_attention", inputs, [q, k, v, centres, log_scale, log_amp, opt](const Tensor& grad) {
            return splat_backward_cuda(q, k, v, centres, log_scale, log_amp, opt, grad);
        });
    }
    const int64_t B = q.size(0), H = q.size(1), T = q.size(2), D = q.size(3), K = centres.size(1);
    const int64_t NB = (D + kColumns - 1) / kColumns;
    const int64_t NR = (T + kTokens - 1) / kTokens;
    const Splats sp(centres, log_scale, log_amp, opt);

    Tensor y_btHd = Tensor::empty({B, T, H, D});
    Tensor y = raw::permute(y_btHd, {0, 2, 1, 3});
    // Every affinity (O(T·K), saved for the backward), the per-token scalars α, β, π/z̃, and with
    // top-p the routes.
    Tensor lq_all = Tensor::empty({B, H, T, K}), lk_all = Tensor::empty({B, H, T, K});
    auto scal = std::make_shared<HeadScalars>(B * H, T, K);
    auto routes = std::make_shared<Routes>(B * H, T, opt.top);
    const Heads Q(q), Kh(k), V(v), Y(y);
#pragma omp parallel
    {
        // 1. affinities, kTokens rows at a time, and the tokens' routes
#pragma omp for schedule(dynamic) collapse(3)
        for (int64_t b = 0; b < B; ++b)
            for (int64_t h = 0; h < H; ++h)
                for (int64_t r = 0; r < NR; ++r) {
                    const int64_t i = b * H + h, t0 = r * kTokens, t1 = std::min(T, t0 + kTokens);
                    float *lq = lq_all.data() + i * T * K, *lk = lk_all.data() + i * T * K;
                    affinities(Q.at(b, h, t0), Q.st, Q.sd, t1 - t0, sp, h, false, nullptr, lq + t0 * K);
                    affinities(Kh.at(b, h, t0), Kh.st, Kh.sd, t1 - t0, sp, h, true, sp.send_bias(i, T, t0),
                               lk + t0 * K);
                    routes->select(i, t0, t1, K, lk, lq);
                }
        // 2. the running max and normaliser, sequential in t per head; then the read-out weights,
        //    independent per token (fixed-size time ranges, so the split never depends on threads)
#pragma omp for schedule(dynamic) collapse(2)
        for (int64_t b = 0; b < B; ++b)
            for (int64_t h = 0; h < H; ++h) {
                const int64_t i = b * H + h;
                std::vector<float> m(K, kNegInf), z(K, 0.f);
                routes->visit(i, K, [&](const auto& writes, const auto&) {
                    scan_state(lk_all.data() + i * T * K, T, K, sp.rate.data() + h * K, m.data(), z.data(),
                               scal->of(i), writes);
                });
            }
#pragma omp for schedule(dynamic) collapse(3)
        for (int64_t b = 0; b < B; ++b)
            for (int64_t h = 0; h < H; ++h)
                for (int64_t r = 0; r < NR; ++r) {
                    const int64_t i = b * H + h;
                    routes->visit(i, K, [&](const auto&, const auto& reads) {
                        read_weights(lq_all.data() + i * T * K, r * kTokens, std::min(T, (r + 1) * kTokens), K,
                                     scal->of(i), reads);
                    });
                }
        // 3. the state and read-out, a block of columns at a time
#pragma omp for schedule(dynamic) collapse(3)
        for (int64_t b = 0; b < B; ++b)
            for (int64_t h = 0; h < H; ++h)
                for (int64_t nb = 0; nb < NB; ++nb) {
                    const int64_t i = b * H + h, d0 = nb * kColumns, w = std::min(kColumns, D - d0);
                    std::vector<float> S(K * kColumns, 0.f);
                    const TokenScalars s = scal->of(i);
                    routes->visit(i, K, [&](const auto& writes, const auto& reads) {
                        scan_columns(s.alpha, s.beta, s.coef, T, K, w, S.data(), kColumns, V.at(b, h, 0) + d0 * V.sd,
                                     V.st, V.sd, Y.at(b, h, 0) + d0 * Y.sd, Y.st, Y.sd, writes, reads);
                    });
                }
    }
    if (!needs_grad) return y;

    return record(y, "splat_attention", inputs,
                  [q, k, v, centres, log_scale, log_amp, opt, lq_all, lk_all, scal, routes](const Tensor& grad) {
        const int64_t B = q.size(0), H = q.size(1), T = q.size(2), D = q.size(3), K = centres.size(1);
        const int64_t NB = (D + kColumns - 1) / kColumns;
        const Splats sp(centres, log_scale, log_amp, opt);
        const bool per_splat_options = opt.log_decay.defined() || opt.read_bias.defined();
        // Σ_t (t − t̄)(dlk − dlq) and Σ_t dlq per (b, h, splat): the decay and read-bias gradients.
        Tensor drate_bh = Tensor::zeros({B, H, K}), drb_bh = Tensor::zeros({B, H, K});
        Tensor dq = Tensor::empty({B, H, T, D}), dk = Tensor::empty({B, H, T, D}), dv = Tensor::empty({B, H, T, D});
        // Splat gradients per (b, h), summed over b afterwards (no races, thread-count independent).
        // (queries and keys each add their own share, so [B, H, 2, ...] for μ and s).
        Tensor dmu_bh = Tensor::zeros({B, H * 2, K, D}), dls_bh = Tensor::zeros({B, H * 2, K}),
               dla_bh = Tensor::zeros({B, H, K});
        Tensor dlq_all = Tensor::empty({B * H, T, K}), dlk_all = Tensor::empty({B * H, T, K});
        const int64_t NR = (T + kTokens - 1) / kTokens;
        // The per-column-block partial dot products Pa = dy·S̃_j, Pk = Ŝ_j·v, [NB][T][P] per head (P = K, or
        // one per route entry, P = top), and Wk = β·(Ŝ·v) summed over the blocks, [T][K] per head: the
        // dense op overwrites Pk's first block with it, the routed one has a plane of its own, 0 where a
        // token does not write.
        const int64_t P = routes->p ? routes->p : K;
        Tensor Pa = Tensor::empty({B * H, NB, T, P}), Pk = Tensor::empty({B * H, NB, T, P});
        Tensor Wk = routes->p ? Tensor::zeros({B * H, T, K}) : Tensor();
        auto wk_of = [&](int64_t i) { return Wk.defined() ? Wk.data() + i * T * K : Pk.data() + i * NB * T * K; };
        const Heads Q(q), Kh(k), V(v), G(grad);
        auto scalars = [&](int64_t i) { return scal->of(i); };
#pragma omp parallel
        {
            // The D columns of S̃ and of its adjoint Ŝ, a block of columns at a time.
#pragma omp for schedule(dynamic) collapse(3)
            for (int64_t b = 0; b < B; ++b)
                for (int64_t h = 0; h < H; ++h)
                    for (int64_t nb = 0; nb < NB; ++nb) {
                        const int64_t i = b * H + h, d0 = nb * kColumns, n = std::min(kColumns, D - d0);
                        std::vector<float> S(K * kColumns);
                        float* pa = Pa.data() + (i * NB + nb) * T * P;
                        float* pk = Pk.data() + (i * NB + nb) * T * P;
                        const float *g = G.at(b, h, 0) + d0 * G.sd, *vv = V.at(b, h, 0) + d0 * V.sd;
                        float* dvp = dv.data() + i * T * D + d0;
                        routes->visit(i, K, [&](const auto& writes, const auto& reads) {
                            with_block_width(n, [&](auto N) {
                                columns_backward<N>(scalars(i), T, K, n, S.data(), g, G.st, G.sd, vv, V.st, V.sd, pa,
                                                    pk, dvp, D, writes, reads);
                            });
                        });
                    }
            // Per token (parallel over fixed time ranges): dlq, the direct z-term X (parked in dlk) and Wk.
#pragma omp for schedule(dynamic) collapse(3)
            for (int64_t b = 0; b < B; ++b)
                for (int64_t h = 0; h < H; ++h)
                    for (int64_t r = 0; r < NR; ++r) {
                        const int64_t i = b * H + h, t0 = r * kTokens, t1 = std::min(T, t0 + kTokens);
                        const float *pa = Pa.data() + i * NB * T * P, *pk = Pk.data() + i * NB * T * P;
                        float *dlq = dlq_all.data() + i * T * K, *dlk = dlk_all.data() + i * T * K;
                        routes->visit(i, K, [&](const auto& writes, const auto& reads) {
                            token_adjoints(scalars(i), t0, t1, T, K, NB, reads, writes, pa, pk, dlq, dlk, wk_of(i));
                        });
                    }
            // Reverse-time scan of the scalar adjoint Ẑ (in the running max's scale, like Ŝ):
            // Ẑ ← α_{t+1}·Ẑ + X_t. Token t wrote e^{lk} = e^{m_t}·β into z_τ, S_τ for every τ ≥ t, so
            // dlk_t = β·Ẑ + β·(Ŝ·v_t). (Routed: β = 0 and Wk = 0 where t did not write, so dlk = 0 there.)
#pragma omp for schedule(dynamic) collapse(2)
            for (int64_t b = 0; b < B; ++b)
                for (int64_t h = 0; h < H; ++h) {
                    const int64_t i = b * H + h;
                    const TokenScalars ts = scalars(i);
                    const float* wk = wk_of(i);
                    float* dlk = dlk_all.data() + i * T * K;
                    std::vector<float> Zh(K, 0.f);
                    for (int64_t t = T - 1; t >= 0; --t) {
                        const float* f = t + 1 < T ? ts.alpha + (t + 1) * K : nullptr;
#pragma omp simd
                        for (int64_t j = 0; j < K; ++j) {
                            Zh[j] = (f ? f[j] * Zh[j] : 0.f) + dlk[t * K + j];
                            dlk[t * K + j] = ts.beta[t * K + j] * Zh[j] + wk[t * K + j];
                        }
                    }
                    if (!per_splat_options) continue;
                    // y depends on the decay only through lk[u] + r·u and lq[t] − r·t (the e^{−r·t} of
                    // S_t and z_t cancels against the query side), so dr = Σ_t t·(dlk − dlq); shifting
                    // every lk_j up and lq_j down by one constant leaves y unchanged, so Σ_t (dlk − dlq)
                    // = 0 and centring t at t̄ = (T−1)/2 gives the same sum with less cancellation.
                    const float* dlq = dlq_all.data() + i * T * K;
                    float *dr = drate_bh.data() + i * K, *drb = drb_bh.data() + i * K;
                    const double tbar = 0.5 * double(T - 1);
                    for (int64_t j = 0; j < K; ++j) {
                        double acc_r = 0, acc_q = 0;
                        for (int64_t t = 0; t < T; ++t) {
                            acc_r += (double(t) - tbar) * (double(dlk[t * K + j]) - dlq[t * K + j]);
                            acc_q += dlq[t * K + j];
                        }
                        dr[j] = float(acc_r);
                        drb[j] = float(acc_q);
                    }
                }
            // Affinity backward, queries and keys as separate tasks. With G = dl ⊙ c (T×K):
            // dx = 2·G·μ − 2·rowsum(G)·x,  dμ += 2·Gᵀ·X − 2·colsum(G)·μ,  dlog s += 2·Σ_t dl·(c·d²),
            // dlog a += Σ_t dlk.
            std::vector<float> Gs(T * K);
#pragma omp for schedule(dynamic) collapse(3)
            for (int64_t b = 0; b < B; ++b)
                for (int64_t h = 0; h < H; ++h)
                    for (int side = 0; side < 2; ++side) {
                        const int64_t i = b * H + h;
                        const bool key = side == 1;
                        const float *c = sp.c.data() + h * K, *la = sp.la.data() + h * K, *mu = sp.centres(h);
                        float* dmu = dmu_bh.data() + (i * 2 + side) * K * D;
                        float* dls = dls_bh.data() + (i * 2 + side) * K;
                        float* dla = dla_bh.data() + i * K;
                        const float* dlx = (key ? dlk_all : dlq_all).data() + i * T * K;
                        const float* lx = (key ? lk_all : lq_all).data() + i * T * K;
                        const float *sb = key ? sp.send_bias(i, T, 0) : nullptr, *rb = sp.rb.data() + h * K;
                        const Heads& X = key ? Kh : Q;
                        float* dx = (key ? dk : dq).data() + i * T * D;
                        std::vector<double> colsum(K, 0.0);
                        for (int64_t t = 0; t < T; ++t)
                            for (int64_t j = 0; j < K; ++j) {
                                const float g = dlx[t * K + j];
                                Gs[t * K + j] = g * c[j];
                                colsum[j] += Gs[t * K + j];
                                // c·d² = bias − l (bias: log a + send bias for keys, read bias for queries)
                                const float bias = key ? la[j] + (sb ? sb[t * K + j] : 0.f) : rb[j];
                                dls[j] += 2.f * g * (bias - lx[t * K + j]);
                                if (key) dla[j] += g;
                            }
                        gemm(T, D, K, 2.f, Gs.data(), K, 1, mu, D, 1, 0.f, dx, D, 1);
                        for (int64_t t = 0; t < T; ++t) {
                            float rowsum = 0.f;
                            for (int64_t j = 0; j < K; ++j) rowsum += Gs[t * K + j];
                            const float* xt = X.at(b, h, t);
                            for (int64_t d = 0; d < D; ++d) dx[t * D + d] -= 2.f * rowsum * xt[d * X.sd];
                        }
                        gemm(K, D, T, 2.f, Gs.data(), 1, K, X.at(b, h, 0), X.st, X.sd, 1.f, dmu, D, 1);
                        for (int64_t j = 0; j < K; ++j)
                            for (int64_t d = 0; d < D; ++d) dmu[j * D + d] -= float(2.0 * colsum[j]) * mu[j * D + d];
                    }
        }
        // Sum the per-(b, side) partials in a fixed order.
        Tensor dcentres = raw::sum(raw::reshape(dmu_bh, {B, H, 2, K, D}), 0, false);
        dcentres = raw::sum(dcentres, 1, false);
        Tensor dlog_scale = raw::sum(raw::sum(raw::reshape(dls_bh, {B, H, 2, K}), 0, false), 1, false),
               dlog_amp = raw::sum(dla_bh, 0, false);
        std::vector<Tensor> grads{dq, dk, dv, dcentres, dlog_scale, dlog_amp};
        if (opt.log_decay.defined()) {  // d log r = r·dr
            Tensor dr = raw::sum(drate_bh, 0, false);
            for (int64_t i = 0; i < H * K; ++i) dr.data()[i] *= sp.rate[i];
            grads.push_back(dr);
        }
        if (opt.send_bias.defined()) grads.push_back(raw::reshape(dlk_all, {B, H, T, K}));
        if (opt.read_bias.defined()) grads.push_back(raw::sum(drb_bh, 0, false));
        return grads;
    });
}

// ============================================================================ reference (float64)

bool splat_picked(const double* l, int64_t K, int64_t top, int64_t j) {
    if (top == 0) return true;
    int64_t rank = 0;  // splats ahead of j
    for (int64_t i = 0; i < K; ++i) rank += l[i] > l[j] || (l[i] == l[j] && i < j);
    return rank < top;
}

namespace {
// Affinities in float64 with the direct square ‖x − μ‖² (no expansion): [T][K].
std::vector<std::vector<double>> affinities_reference(const Tensor& x, const Tensor& centres, const Tensor& log_scale,
                                                      const Tensor& log_amp, const SplatOptions& o, int64_t b,
                                                      int64_t h, bool key) {
    const int64_t T = x.size(2), D = x.size(3), K = centres.size(1);
    std::vector<std::vector<double>> l(T, std::vector<double>(K));
    for (int64_t t = 0; t < T; ++t)
        for (int64_t j = 0; j < K; ++j) {
            double d2 = 0;
            for (int64_t d = 0; d < D; ++d) {
                const double diff = double(x.at({b, h, t, d})) - centres.at({h, j, d});
                d2 += diff * diff;
            }
            const double c = 0.5 * std::exp(-2.0 * double(log_scale.at({h, j})));
            double bias = 0;
            if (key) bias = double(log_amp.at({h, j})) + (o.send_bias.defined() ? o.send_bias.at({b, h, t, j}) : 0.f);
            else if (o.read_bias.defined()) bias = o.read_bias.at({h, j});
            l[t][j] = bias - c * d2;
        }
    return l;
}

// picked[t][j] = splat_picked(l[t], j): the routes of every token.
std::vector<std::vector<bool>> picked_reference(const std::vector<std::vector<double>>& l, int64_t top) {
    std::vector<std::vector<bool>> picked;
    for (const std::vector<double>& row : l) {
        picked.emplace_back(row.size());
        for (size_t j = 0; j < row.size(); ++j) picked.back()[j] = splat_picked(row.data(), int64_t(row.size()), top, int64_t(j));
    }
    return picked;
}

// w[t,u] for one (b, h), row by row, straight from the definition: the decayed write
// e_tu = lk[u,j] − r_j·(t−u) (−∞ where u does not write to j), z_t[j] = Σ_{u≤t} e^{e_tu} (via its max
// m_tj; 0 for a splat nothing was written to), ℓ_tj = lq[t,j] + log z_t[j] (−∞ where t does not read j
// or z = 0), π over splats (all 0 when every ℓ is −∞), then w[t,u] = Σ_j π_tj·exp(e_tu − m_tj) / z̃_tj.
std::vector<std::vector<double>> weights_reference(const Tensor& q, const Tensor& k, const Tensor& centres,
                                                   const Tensor& log_scale, const Tensor& log_amp,
                                                   const SplatOptions& o, int64_t b, int64_t h) {
    const int64_t T = q.size(2), K = centres.size(1);
    auto lq = affinities_reference(q, centres, log_scale, log_amp, o, b, h, false);
    auto lk = affinities_reference(k, centres, log_scale, log_amp, o, b, h, true);
    const auto reads = picked_reference(lq, o.top), writes = picked_reference(lk, o.top);
    std::vector<double> rate(K, 0.0);
    if (o.log_decay.defined())
        for (int64_t j = 0; j < K; ++j) rate[j] = std::exp(double(o.log_decay.at({h, j})));
    auto write = [&](int64_t t, int64_t u, int64_t j) {
        return writes[u][j] ? lk[u][j] - rate[j] * double(t - u) : -INFINITY;
    };
    std::vector<std::vector<double>> w(T, std::vector<double>(T, 0.0));
    std::vector<double> m(K), z(K), pi(K);
    for (int64_t t = 0; t < T; ++t) {
        double M = -INFINITY;
        for (int64_t j = 0; j < K; ++j) {
            m[j] = -INFINITY;
            for (int64_t u = 0; u <= t; ++u) m[j] = std::max(m[j], write(t, u, j));
            z[j] = 0;
            if (m[j] > -INFINITY)
                for (int64_t u = 0; u <= t; ++u) z[j] += std::exp(write(t, u, j) - m[j]);
            pi[j] = reads[t][j] && z[j] > 0 ? lq[t][j] + m[j] + std::log(z[j]) : -INFINITY;
            M = std::max(M, pi[j]);
        }
        if (M == -INFINITY) continue;  // nothing to read: y_t = 0
        double den = kSplatEps;
        for (int64_t j = 0; j < K; ++j) den += pi[j] = std::exp(pi[j] - M);
        for (int64_t u = 0; u <= t; ++u)
            for (int64_t j = 0; j < K; ++j)
                if (pi[j] > 0) w[t][u] += pi[j] / den * std::exp(write(t, u, j) - m[j]) / z[j];
    }
    return w;
}
}  // namespace

Tensor splat_attention_reference(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& centres,
                                 const Tensor& log_scale, const Tensor& log_amp, const SplatOptions& opt) {
    check_inputs("splat_attention_reference", q, k, v, centres, log_scale, log_amp, opt, 4);
    check_device("splat_attention_reference", q, Device::CPU);  // (so every input is on the CPU)
    const int64_t B = q.size(0), H = q.size(1), T = q.size(2), D = q.size(3);
    Tensor y = Tensor::zeros({B, H, T, D});
    for (int64_t b = 0; b < B; ++b)
        for (int64_t h = 0; h < H; ++h) {
            auto w = weights_reference(q, k, centres, log_scale, log_amp, opt, b, h);
            for (int64_t t = 0; t < T; ++t)
                for (int64_t d = 0; d < D; ++d) {
                    double acc = 0;
                    for (int64_t u = 0; u <= t; ++u) acc += w[t][u] * v.at({b, h, u, d});
                    y.data()[((b * H + h) * T + t) * D + d] = float(acc);
                }
        }
    return y;
}

Tensor splat_weights_reference(const Tensor& q, const Tensor& k, const Tensor& centres, const Tensor& log_scale,
                               const Tensor& log_amp, int64_t b, int64_t h, const SplatOptions& opt) {
    check_inputs("splat_weights_reference", q, k, k, centres, log_scale, log_amp, opt, 4);
    check_device("splat_weights_reference", q, Device::CPU);
    const int64_t T = q.size(2);
    auto w = weights_reference(q, k, centres, log_scale, log_amp, opt, b, h);
    Tensor out = Tensor::zeros({T, T});
    for (int64_t t = 0; t < T; ++t)
        for (int64_t u = 0; u < T; ++u) out.data()[t * T + u] = float(w[t][u]);
    return out;
}

// ============================================================================ recurrent step

SplatState::SplatState(int64_t batch_, int64_t heads_, int64_t splats_, int64_t dim_, Device device)
    : batch(batch_), heads(heads_), splats(splats_), dim(dim_),
      m(Tensor::full({batch_, heads_, splats_}, kNegInf, device)), z(Tensor::zeros({batch_, heads_, splats_}, device)),
      S(Tensor::zeros({batch_, heads_, splats_, dim_}, device)) {}

namespace {
// The step on CUDA: passes A, D, E, F of the scan on one token, the state as the incoming state.
Tensor splat_step_cuda(const Tensor& q_t, const Tensor& k_t, const Tensor& v_t, const Tensor& centres,
                       const Tensor& log_scale, const Tensor& log_amp, SplatState& state, const SplatOptions& opt) {
    const int64_t B = q_t.size(0), H = q_t.size(1), D = q_t.size(2), K = centres.size(1);
    Tensor y = Tensor::empty({B, H, D}, Device::CUDA);
    if (y.numel() == 0) return y;
    const ScanShape s{B, H, 1, K, D, 1};
    const DeviceSplats sp(centres, log_scale, log_amp, opt);
    DeviceScratch scratch(s, false);
    ScanBuffers buf = scratch.buffers();
    buf.pm = state.m.data(), buf.pz = state.z.data(), buf.cS = state.S.data(), buf.write_back = true;
    cuda::splat_scan_step(s, sp.view, heads_view<const float>(q_t), heads_view<const float>(k_t),
                          heads_view<const float>(v_t), heads_view<float>(y), buf);
    return y;
}
}  // namespace

Tensor splat_step(const Tensor& q_t, const Tensor& k_t, const Tensor& v_t, const Tensor& centres,
                  const Tensor& log_scale, const Tensor& log_amp, SplatState& state, const SplatOptions& opt) {
    const Device device = check_inputs("splat_step", q_t, k_t, v_t, centres, log_scale, log_amp, opt, 3);
    const int64_t B = q_t.size(0), H = q_t.size(1), D = q_t.size(2), K = centres.size(1);
    SPLATLM_CHECK(state.batch == B && state.heads == H && state.splats == K && state.dim == D,
                  "splat_step: state is for [B, H, K, D] = [", state.batch, ", ", state.heads, ", ", state.splats,
                  ", ", state.dim, "], inputs are [", B, ", ", H, ", ", K, ", ", D, "]");
    for (const Tensor* t : {&state.m, &state.z, &state.S})
        SPLATLM_CHECK(t->device() == device, "splat_step: the inputs are on ", device_name(device), ", the state ",
                      shape_str(t->shape()), " is on ", device_name(t->device()),
                      " (make it with SplatState(B, H, K, D, device))");
    if (device == Device::CUDA) {
        Tensor y = splat_step_cuda(q_t, k_t, v_t, centres, log_scale, log_amp, state, opt);
        ++state.length;
        return y;
    }
    const Splats sp(centres, log_scale, log_amp, opt);
    Tensor y = Tensor::empty({B, H, D});
    // View the [B, H, D] inputs as [B, H, 1, D] so the same Heads geometry applies.
    auto heads = [](const Tensor& x) { return raw::reshape(x, {x.size(0), x.size(1), 1, x.size(2)}); };
    const Tensor q4 = heads(q_t), k4 = heads(k_t), v4 = heads(v_t);
    const Heads Q(q4), Kh(k4), V(v4);
#pragma omp parallel
    {
        std::vector<float> lq(K), lk(K), planes(HeadScalars::kPlanes * K);
        Routes route(1, 1, opt.top);  // this token's, per head in turn
        float den;
        int64_t arg;
        const TokenScalars ts{planes.data(),         planes.data() + K,     planes.data() + 2 * K,
                              planes.data() + 3 * K, planes.data() + 4 * K, planes.data() + 5 * K,
                              &den,                  &arg};
#pragma omp for collapse(2)
        for (int64_t b = 0; b < B; ++b)
            for (int64_t h = 0; h < H; ++h) {
                const int64_t i = b * H + h;
                float *m = state.m.data() + i * K, *z = state.z.data() + i * K, *S = state.S.data() + i * K * D;
                affinities(Q.at(b, h, 0), Q.st, Q.sd, 1, sp, h, false, nullptr, lq.data());
                affinities(Kh.at(b, h, 0), Kh.st, Kh.sd, 1, sp, h, true, sp.send_bias(i, 1, 0), lk.data());
                route.select(0, 0, 1, K, lk.data(), lq.data());
                route.visit(0, K, [&](const auto& writes, const auto& reads) {
                    scan_state(lk.data(), 1, K, sp.rate.data() + h * K, m, z, ts, writes);
                    read_weights(lq.data(), 0, 1, K, ts, reads);
                    for (int64_t d0 = 0; d0 < D; d0 += kColumns)
                        scan_columns(ts.alpha, ts.beta, ts.coef, 1, K, std::min(kColumns, D - d0), S + d0, D,
                                     V.at(b, h, 0) + d0 * V.sd, 0, V.sd, y.data() + i * D + d0, 0, 1, writes, reads);
                });
            }
    }
    ++state.length;
    return y;
}

}  // namespace splatlm
