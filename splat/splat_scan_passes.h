// splat_scan_passes.h — the chunked scan of the splat op (splat/splat_op.h) for the GPU, written once
// as __host__ __device__ passes: the CUDA kernels (splat/splat_scan.cu) launch them one thread per
// index, and the host tests (tests/test_cuda_splat.cpp, "[cuda]") run the very same passes in plain
// loops and compare with the CPU op. The per-token math (absorb, merge, read-out and its adjoint) is
// splat_math.h's, shared with the CPU passes. Math: docs/SPLAT.md ("On the GPU").
//
// The forward splits T into NC chunks of C tokens and runs, per (b, h):
//   A  affinities lq, lk per (t, j);
//   B  each chunk's own state, absorbed from empty, per (chunk, j)         — parallel over chunks;
//   C  the exclusive prefix over chunks, merging in order, per (j, d)      — NC steps, in place;
//   D  per (chunk, j) the tokens again from the chunk's incoming state: the per-token α, β, m, z̃;
//   E  per token the read-out weights π_j = e^{ℓ_j − M}/(Σ e^{ℓ − M} + ε), ℓ = lq + m + log z̃,
//      kept as coef_j = π_j / z̃_j (splat_math.h's read_out, as on the CPU);
//   F  per (chunk, column d) the columns of S̃ from the chunk's incoming state: y_t = Σ_j coef_tj·S̃_tj.
// Memory: O(B·H·T·K) for affinities and per-token scalars, O(B·H·NC·K·D) for the chunk states.
// The backward (further down) is the same structure in reverse. The recurrent step is D, E, F on
// one token with the carried state as the incoming state, and the state written back.
#pragma once
#include <cstdint>

#include "splat/splat_math.h"

namespace splatlm {

// Tokens per chunk on the GPU. The host tests also use other sizes: the result may not depend on it
// beyond rounding.
constexpr int64_t kSplatChunk = 64;

struct ScanShape {
    int64_t B, H, T, K, D, C;
    SPLATLM_HD int64_t chunks() const { return (T + C - 1) / C; }
    SPLATLM_HD int64_t chunk_length(int64_t c) const { return T - c * C < C ? T - c * C : C; }
    // The per-chunk passes run one thread per i = (bh·NC + c)·W + x, x a splat j (W = K) or a column
    // d (W = D): chunk_items(W) of them, each covering the chunk's tokens [t0, t1) of head bh = b·H + h.
    struct ChunkItem {
        int64_t x, c, bh, b, h, t0, t1;
    };
    SPLATLM_HD int64_t chunk_items(int64_t W) const { return B * H * chunks() * W; }
    SPLATLM_HD ChunkItem chunk_item(int64_t i, int64_t W) const {
        const int64_t c = i / W % chunks(), bh = i / (W * chunks());
        return {i % W, c, bh, bh / H, bh % H, c * C, c * C + chunk_length(c)};
    }
};

// Per-head splat constants, contiguous ([H, K, D] and [H, K]), computed on the host exactly as the
// CPU op does: c = 1/(2s²), log a, decay rate r (0 when off), read bias ρ (0 when off).
struct ScanSplats {
    const float *mu, *c, *la, *rate, *rb;
    HeadsView<const float> send_bias;    // [B, H, T, K] (sd = the K stride); p = null when off
    HeadsView<const float> token_decay;  // likewise
    // The decay rate at token t of splat j of head (b, h): r_j, plus the token's own when on.
    SPLATLM_HD float rate_at(int64_t K, int64_t b, int64_t h, int64_t t, int64_t j) const {
        const float r = rate[h * K + j];
        return token_decay.p ? r + token_decay.row(b, h, t)[j * token_decay.sd] : r;
    }
};

// Contiguous scratch: per token [B·H, T, K], per chunk [B·H, NC, K] and [B·H, NC, K, D].
struct ScanBuffers {
    float *lq, *lk;                // affinities
    float *alpha, *beta, *m, *z;   // per-token scalars of the scan (D)
    float* coef;                   // π / z̃ (E)
    float *pi, *den, *arg;         // π [B·H, T, K], Σ e^{ℓ−M} + ε and argmax_j ℓ_j [B·H, T] (E; null: not kept)
    float *cm, *cz;                // each chunk's own m, z̃ (B)
    float* cr;                     // each chunk's decay total R = Σ_t rate (B, read by C)
    float *pm, *pz;                // each chunk's incoming m, z̃ (C)
    float* cS;                     // each chunk's own S̃ (B), then in place its incoming S̃ (C)
    bool write_back;               // the step: D and F store the chunk's final state over its incoming one
};

// ---- the passes; each is called once per index i in [0, size) ----

// A: i = ((b·H + h)·T + t)·K + j. l = bias − c·‖x − μ‖² (the direct square, not the CPU's expansion).
struct AffinityPass {
    ScanShape s;
    ScanSplats sp;
    HeadsView<const float> q, k;
    ScanBuffers buf;
    SPLATLM_HD int64_t size() const { return s.B * s.H * s.T * s.K; }
    SPLATLM_HD void operator()(int64_t i) const {
        const int64_t j = i % s.K, t = i / s.K % s.T, bh = i / (s.K * s.T), b = bh / s.H, h = bh % s.H;
        const int64_t hj = h * s.K + j;
        const float *xq = q.row(b, h, t), *xk = k.row(b, h, t), *mu = sp.mu + hj * s.D;
        float dq = 0.f, dk = 0.f;
        for (int64_t d = 0; d < s.D; ++d) {
            const float eq = xq[d * q.sd] - mu[d], ek = xk[d * k.sd] - mu[d];
            dq += eq * eq;
            dk += ek * ek;
        }
        const float send = sp.send_bias.p ? sp.send_bias.row(b, h, t)[j * sp.send_bias.sd] : 0.f;
        buf.lq[i] = sp.rb[hj] - sp.c[hj] * dq;
        buf.lk[i] = sp.la[hj] + send - sp.c[hj] * dk;
    }
};

// B: i = (bh·NC + chunk)·K + j. The chunk's own state, from empty.
struct ChunkStatePass {
    ScanShape s;
    ScanSplats sp;
    HeadsView<const float> v;
    ScanBuffers buf;
    SPLATLM_HD int64_t size() const { return s.chunk_items(s.K); }
    SPLATLM_HD void operator()(int64_t i) const {
        const auto [j, c, bh, b, h, t0, t1] = s.chunk_item(i, s.K);
        float m = kScanNegInf, z = 0.f, R = 0.f, *S = buf.cS + i * s.D;
        for (int64_t d = 0; d < s.D; ++d) S[d] = 0.f;
        for (int64_t t = t0; t < t1; ++t) {
            const float r = sp.rate_at(s.K, b, h, t, j);
            R += r;
            const Absorbed w = absorb(m, z, buf.lk[(bh * s.T + t) * s.K + j], r);
            const float* vt = v.row(b, h, t);
            for (int64_t d = 0; d < s.D; ++d) S[d] = w.alpha * S[d] + w.beta * vt[d * v.sd];
        }
        buf.cm[i] = m;
        buf.cz[i] = z;
        buf.cr[i] = R;
    }
};

// C: i = (bh·K + j)·D + d. The incoming state of every chunk (all tokens before it), merging the
// chunks in order (NC sequential steps): m, z̃ into pm, pz, column d of S̃ in place over the chunks'
// own. Each thread redoes the scalar merges (identical arithmetic); only d = 0 stores them.
struct ChunkPrefixPass {
    ScanShape s;
    ScanBuffers buf;
    SPLATLM_HD int64_t size() const { return s.B * s.H * s.K * s.D; }
    SPLATLM_HD void operator()(int64_t i) const {
        const int64_t d = i % s.D, j = i / s.D % s.K, bh = i / (s.D * s.K), NC = s.chunks();
        float m = kScanNegInf, z = 0.f, S = 0.f;  // the carry: tokens [0, c·C)
        for (int64_t c = 0; c < NC; ++c) {
            const int64_t at = (bh * NC + c) * s.K + j;
            if (d == 0) buf.pm[at] = m, buf.pz[at] = z;
            const Merged g = merge_scales(m, buf.cm[at], buf.cr[at]);
            const float own = buf.cS[at * s.D + d];
            buf.cS[at * s.D + d] = S;
            m = g.m;
            z = g.a * z + g.b * buf.cz[at];
            S = g.a * S + g.b * own;
        }
    }
};

// D: i = (bh·NC + chunk)·K + j. The chunk's tokens absorbed again, from its incoming state: the
// per-token α, β, m, z̃ (as the CPU's scalar pass leaves them).
struct TokenScalarsPass {
    ScanShape s;
    ScanSplats sp;
    ScanBuffers buf;
    SPLATLM_HD int64_t size() const { return s.chunk_items(s.K); }
    SPLATLM_HD void operator()(int64_t i) const {
        const auto [j, c, bh, b, h, t0, t1] = s.chunk_item(i, s.K);
        float m = buf.pm[i], z = buf.pz[i];
        for (int64_t t = t0; t < t1; ++t) {
            const int64_t tj = (bh * s.T + t) * s.K + j;
            const Absorbed w = absorb(m, z, buf.lk[tj], sp.rate_at(s.K, b, h, t, j));
            buf.alpha[tj] = w.alpha;
            buf.beta[tj] = w.beta;
            buf.m[tj] = m;
            buf.z[tj] = z;
        }
        if (buf.write_back) buf.pm[i] = m, buf.pz[i] = z;
    }
};

// E: i = bh·T + t. The read-out weights of token t (splat_math.h's read_out, over all K splats);
// with buf.pi set (the backward) also π, den and arg.
struct ReadWeightsPass {
    ScanShape s;
    ScanBuffers buf;
    SPLATLM_HD int64_t size() const { return s.B * s.H * s.T; }
    SPLATLM_HD void operator()(int64_t i) const {
        const ReadOut r = read_out(buf.lq + i * s.K, buf.m + i * s.K, buf.z + i * s.K, 0, AllSplats{s.K},
                                   buf.pi ? buf.pi + i * s.K : nullptr, buf.coef + i * s.K);
        if (!buf.pi) return;
        buf.den[i] = r.den;
        buf.arg[i] = float(r.arg);  // (exact: K < 2^24)
    }
};

// F: i = (bh·NC + chunk)·D + d. Column d of every splat's S̃ through the chunk's tokens, from the
// chunk's incoming state: S̃_j ← α_j·S̃_j + β_j·v_t, y_t = Σ_j coef_tj·S̃_j (summed in splat order,
// as on the CPU). y: [B, H, T, D] by strides.
struct ColumnsPass {
    ScanShape s;
    HeadsView<const float> v;
    HeadsView<float> y;
    ScanBuffers buf;
    SPLATLM_HD int64_t size() const { return s.chunk_items(s.D); }
    SPLATLM_HD void operator()(int64_t i) const {
        const auto [d, c, bh, b, h, t0, t1] = s.chunk_item(i, s.D);
        for (int64_t j = 0; j < s.K; ++j) {
            float* slot = buf.cS + ((bh * s.chunks() + c) * s.K + j) * s.D + d;
            float S = *slot;
            for (int64_t t = t0; t < t1; ++t) {
                const int64_t tj = (bh * s.T + t) * s.K + j;
                S = buf.alpha[tj] * S + buf.beta[tj] * v.row(b, h, t)[d * v.sd];
                float& out = y.row(b, h, t)[d * y.sd];
                out = (j == 0 ? 0.f : out) + buf.coef[tj] * S;
            }
            if (buf.write_back) *slot = S;
        }
    }
};

// ---- the backward ----
//
// The CPU's backward passes (splat_cpu.cpp), split the same
// way. With dy_t the output's gradient, per (b, h, j):
//   G  pa_tj = dy_t·S̃_tj, the columns rebuilt from each chunk's incoming state (per chunk, j);
//   H  the adjoint Ŝ_t = α_{t+1}·Ŝ_{t+1} + coef_t·dy_t in reverse, each chunk's own from 0 (per chunk, d);
//   I0 each chunk's carry Π_{u=t0+1..t1} α_u, what takes an adjoint from t1 back to t0 (per chunk, j);
//   I  the incoming adjoint of every chunk, Ŝ at its end from all later chunks: a chunk [t0, t1) maps
//      Ŝ_{t1} to Ŝ_{t0} = own + carry·Ŝ_{t1}, merged in reverse order (per j, d; NC steps);
//   J  dv_t = Σ_j β_tj·Ŝ_tj (per chunk, d);   K  pk_tj = Ŝ_tj·v_t (per chunk, j);
//   L  per token: a_j = pa_j/z̃_j, gy = Σ π_j a_j, dlq_j = π_j (a_j − gy) − [j = arg]·ε/den·gy,
//      X_j = (dlq_j − π_j a_j)/z̃_j, wk_j = β_j·pk_j;
//   M  Ẑ_t = α_{t+1}·Ẑ_{t+1} + X_t in reverse, chunked as H, I, J (M1–M3): dlk_t = β_t·Ẑ_t + wk_t;
//      then the sums over t for dr and dρ (M4, per j);
//   N  dq, dk per (t, d): dx = 2·G·μ − 2·rowsum(G)·x with G = dl ⊙ c;
//   O  dμ, d log s, d log a, d log r, dρ per splat, summed over b and t.
// Extra memory: O(B·H·T·K) and one more O(B·H·NC·K·D) for the chunks' adjoints.
// (The sums over t — M4, O — run one thread per output over all its terms: deterministic.)

// The backward's outputs and scratch (contiguous unless a view).
struct ScanGrads {
    HeadsView<const float> dy;
    float *pa, *pk;      // [B·H, T, K]; pk becomes wk in L
    float* rS;           // [B·H, NC, K, D]: each chunk's own adjoint Ŝ (H), then its incoming one (I)
    float* rZ;           // [B·H, NC, K]: the same for Ẑ (M1, M2)
    float* carry;        // [B·H, NC, K]: each chunk's Π α (I0), read by I and M2
    float *dlq, *dlk;    // [B·H, T, K] (dlk: X in L, dlk after M; also the send bias's gradient)
    float *dr, *drb;     // [B·H, K]: Σ_t (t − t̄)(dlk − dlq) and Σ_t dlq
    float *dq, *dk, *dv; // [B, H, T, D]
    float *dmu, *dls, *dla, *dlog_decay, *drho;  // [H, K, D], [H, K] ×4
    float* dtoken;       // [B·H, T, K]: the token decay's gradient (M4), or null when off
};

// α of the token after t (0 past the end): the factor that carries an adjoint from t + 1 back to t.
SPLATLM_HD inline float next_alpha(const ScanShape& s, const ScanBuffers& buf, int64_t bh, int64_t t, int64_t j) {
    return t + 1 < s.T ? buf.alpha[(bh * s.T + t + 1) * s.K + j] : 0.f;
}

// G: i = (bh·NC + chunk)·K + j. The chunk's S̃_j rebuilt in place over its incoming state.
struct ReadPartialsPass {
    ScanShape s;
    HeadsView<const float> v;
    ScanBuffers buf;
    ScanGrads gr;
    SPLATLM_HD int64_t size() const { return s.chunk_items(s.K); }
    SPLATLM_HD void operator()(int64_t i) const {
        const auto [j, c, bh, b, h, t0, t1] = s.chunk_item(i, s.K);
        float* S = buf.cS + i * s.D;
        for (int64_t t = t0; t < t1; ++t) {
            const int64_t tj = (bh * s.T + t) * s.K + j;
            const float *vt = v.row(b, h, t), *g = gr.dy.row(b, h, t);
            float dot = 0.f;
            for (int64_t d = 0; d < s.D; ++d) {
                S[d] = buf.alpha[tj] * S[d] + buf.beta[tj] * vt[d * v.sd];
                dot += g[d * gr.dy.sd] * S[d];
            }
            gr.pa[tj] = dot;
        }
    }
};

// One reverse step of column d of splat j at token t: Ŝ ← α_{t+1}·Ŝ + coef_t·dy_t.
SPLATLM_HD inline float adjoint_step(const ScanShape& s, const ScanBuffers& buf, const ScanGrads& gr, int64_t bh,
                                     int64_t t, int64_t j, int64_t d, float A) {
    return next_alpha(s, buf, bh, t, j) * A +
           buf.coef[(bh * s.T + t) * s.K + j] * gr.dy.row(bh / s.H, bh % s.H, t)[d * gr.dy.sd];
}

// H: i = (bh·NC + chunk)·D + d. Each chunk's own adjoint at its first token, from 0 past its end.
struct AdjointChunkPass {
    ScanShape s;
    ScanBuffers buf;
    ScanGrads gr;
    SPLATLM_HD int64_t size() const { return s.chunk_items(s.D); }
    SPLATLM_HD void operator()(int64_t i) const {
        const auto [d, c, bh, b, h, t0, t1] = s.chunk_item(i, s.D);
        for (int64_t j = 0; j < s.K; ++j) {
            float A = 0.f;
            for (int64_t t = t1 - 1; t >= t0; --t) A = adjoint_step(s, buf, gr, bh, t, j, d, A);
            gr.rS[((bh * s.chunks() + c) * s.K + j) * s.D + d] = A;
        }
    }
};

// I0: i = (bh·NC + chunk)·K + j. carry = Π_{u=t0+1..t1} α_u for the chunk [t0, t1) (α past T is 0).
struct ChunkCarryPass {
    ScanShape s;
    ScanBuffers buf;
    ScanGrads gr;
    SPLATLM_HD int64_t size() const { return s.chunk_items(s.K); }
    SPLATLM_HD void operator()(int64_t i) const {
        const auto [j, c, bh, b, h, t0, t1] = s.chunk_item(i, s.K);
        float P = 1.f;
        for (int64_t t = t0; t < t1; ++t) P *= next_alpha(s, buf, bh, t, j);
        gr.carry[i] = P;
    }
};

// An adjoint per chunk of splat j of head bh, `stride` floats apart from `first` (chunk 0): on entry
// each slot holds what its own chunk sends back to the chunk start, on exit what arrives at the
// chunk's end from all later chunks — an exclusive scan from the last chunk back, carried over a
// chunk by its carry (I0): A_c = own_{c+1} + carry_{c+1}·A_{c+1}, A_last = 0.
SPLATLM_HD inline void reverse_chunk_prefix(const ScanShape& s, const ScanGrads& gr, int64_t bh, int64_t j,
                                            float* first, int64_t stride) {
    const float* carry = gr.carry + bh * s.chunks() * s.K + j;
    float A = 0.f;
    for (int64_t c = s.chunks() - 1; c >= 0; --c) {
        float* slot = first + c * stride;
        const float own = *slot;
        *slot = A;
        A = own + carry[c * s.K] * A;
    }
}

// I: i = (bh·K + j)·D + d. The incoming adjoint Ŝ of every chunk, in place (reverse_chunk_prefix).
struct AdjointPrefixPass {
    ScanShape s;
    ScanGrads gr;
    SPLATLM_HD int64_t size() const { return s.B * s.H * s.K * s.D; }
    SPLATLM_HD void operator()(int64_t i) const {
        const int64_t d = i % s.D, j = i / s.D % s.K, bh = i / (s.D * s.K);
        reverse_chunk_prefix(s, gr, bh, j, gr.rS + (bh * s.chunks() * s.K + j) * s.D + d, s.K * s.D);
    }
};

// J: i = (bh·NC + chunk)·D + d. dv_t = Σ_j β_tj·Ŝ_tj (summed in splat order, as on the CPU).
struct AdjointValuesPass {
    ScanShape s;
    ScanBuffers buf;
    ScanGrads gr;
    SPLATLM_HD int64_t size() const { return s.chunk_items(s.D); }
    SPLATLM_HD void operator()(int64_t i) const {
        const auto [d, c, bh, b, h, t0, t1] = s.chunk_item(i, s.D);
        for (int64_t j = 0; j < s.K; ++j) {
            float A = gr.rS[((bh * s.chunks() + c) * s.K + j) * s.D + d];
            for (int64_t t = t1 - 1; t >= t0; --t) {
                A = adjoint_step(s, buf, gr, bh, t, j, d, A);
                float& out = gr.dv[(bh * s.T + t) * s.D + d];
                out = (j == 0 ? 0.f : out) + buf.beta[(bh * s.T + t) * s.K + j] * A;
            }
        }
    }
};

// K: i = (bh·NC + chunk)·K + j. pk_tj = Ŝ_tj·v_t, the adjoint carried in place of the chunk's slot.
struct AdjointKeysPass {
    ScanShape s;
    HeadsView<const float> v;
    ScanBuffers buf;
    ScanGrads gr;
    SPLATLM_HD int64_t size() const { return s.chunk_items(s.K); }
    SPLATLM_HD void operator()(int64_t i) const {
        const auto [j, c, bh, b, h, t0, t1] = s.chunk_item(i, s.K);
        float* A = gr.rS + i * s.D;
        for (int64_t t = t1 - 1; t >= t0; --t) {
            const float* vt = v.row(bh / s.H, bh % s.H, t);
            float dot = 0.f;
            for (int64_t d = 0; d < s.D; ++d) {
                A[d] = adjoint_step(s, buf, gr, bh, t, j, d, A[d]);
                dot += A[d] * vt[d * v.sd];
            }
            gr.pk[(bh * s.T + t) * s.K + j] = dot;
        }
    }
};

// L: i = bh·T + t. The per-token adjoints of the read-out (splat_math.h's read_out_adjoint), and
// wk_j = β_j·pk_j in place of pk.
struct TokenAdjointsPass {
    ScanShape s;
    ScanBuffers buf;
    ScanGrads gr;
    SPLATLM_HD int64_t size() const { return s.B * s.H * s.T; }
    SPLATLM_HD void operator()(int64_t i) const {
        const float *z = buf.z + i * s.K, *beta = buf.beta + i * s.K;
        float *a = gr.dlk + i * s.K, *pk = gr.pk + i * s.K;  // a_j parked in dlk, where X_j lands
        for (int64_t j = 0; j < s.K; ++j) a[j] = gr.pa[i * s.K + j] / z[j];
        read_out_adjoint(s.K, buf.pi + i * s.K, z, a, {buf.den[i], int64_t(buf.arg[i])}, gr.dlq + i * s.K, a);
        for (int64_t j = 0; j < s.K; ++j) pk[j] *= beta[j];
    }
};

// M1: i = (bh·NC + chunk)·K + j. Each chunk's own Ẑ at its first token, from 0 past its end.
struct NormaliserChunkPass {
    ScanShape s;
    ScanBuffers buf;
    ScanGrads gr;
    SPLATLM_HD int64_t size() const { return s.chunk_items(s.K); }
    SPLATLM_HD void operator()(int64_t i) const {
        const auto [j, c, bh, b, h, t0, t1] = s.chunk_item(i, s.K);
        float Z = 0.f;
        for (int64_t t = t1 - 1; t >= t0; --t)
            Z = next_alpha(s, buf, bh, t, j) * Z + gr.dlk[(bh * s.T + t) * s.K + j];
        gr.rZ[i] = Z;
    }
};

// M2: i = bh·K + j. The incoming Ẑ of every chunk, in place (reverse_chunk_prefix, as I).
struct NormaliserPrefixPass {
    ScanShape s;
    ScanGrads gr;
    SPLATLM_HD int64_t size() const { return s.B * s.H * s.K; }
    SPLATLM_HD void operator()(int64_t i) const {
        const int64_t j = i % s.K, bh = i / s.K;
        reverse_chunk_prefix(s, gr, bh, j, gr.rZ + bh * s.chunks() * s.K + j, s.K);
    }
};

// M3: i = (bh·NC + chunk)·K + j. Ẑ through the chunk from its incoming value: dlk_t = β_t·Ẑ_t + wk_t.
struct NormaliserAdjointPass {
    ScanShape s;
    ScanBuffers buf;
    ScanGrads gr;
    SPLATLM_HD int64_t size() const { return s.chunk_items(s.K); }
    SPLATLM_HD void operator()(int64_t i) const {
        const auto [j, c, bh, b, h, t0, t1] = s.chunk_item(i, s.K);
        float Z = gr.rZ[i];
        for (int64_t t = t1 - 1; t >= t0; --t) {
            const int64_t tj = (bh * s.T + t) * s.K + j;
            Z = next_alpha(s, buf, bh, t, j) * Z + gr.dlk[tj];
            gr.dlk[tj] = buf.beta[tj] * Z + gr.pk[tj];
        }
    }
};

// M4: i = bh·K + j. dr = Σ_t (t − t̄)(dlk − dlq), centred as on the CPU (splat_cpu.cpp), and dρ = Σ_t dlq
// (a sum over all T tokens per thread); with token decay its reverse running sums (token_decay_adjoint).
struct DecaySumsPass {
    ScanShape s;
    ScanGrads gr;
    SPLATLM_HD int64_t size() const { return s.B * s.H * s.K; }
    SPLATLM_HD void operator()(int64_t i) const {
        const int64_t j = i % s.K, bh = i / s.K;
        const double tbar = 0.5 * double(s.T - 1);
        double acc_r = 0, acc_q = 0;
        for (int64_t t = 0; t < s.T; ++t) {
            const int64_t tj = (bh * s.T + t) * s.K + j;
            acc_r += (double(t) - tbar) * (double(gr.dlk[tj]) - gr.dlq[tj]);
            acc_q += gr.dlq[tj];
        }
        gr.dr[i] = float(acc_r);
        gr.drb[i] = float(acc_q);
        const int64_t at = bh * s.T * s.K + j;
        if (gr.dtoken) token_decay_adjoint(s.T, s.K, gr.dlk + at, gr.dlq + at, gr.dtoken + at);
    }
};

// N: i = (bh·T + t)·D + d. dq and dk: dx_d = Σ_j 2·G_j·μ_jd − 2·(Σ_j G_j)·x_d with G_j = dl_j·c_j.
struct InputGradsPass {
    ScanShape s;
    ScanSplats sp;
    HeadsView<const float> q, k;
    ScanGrads gr;
    SPLATLM_HD int64_t size() const { return s.B * s.H * s.T * s.D; }
    SPLATLM_HD void operator()(int64_t i) const {
        const int64_t d = i % s.D, bt = i / s.D, t = bt % s.T, bh = bt / s.T, b = bh / s.H, h = bh % s.H;
        for (int side = 0; side < 2; ++side) {
            const float* dl = (side ? gr.dlk : gr.dlq) + bt * s.K;
            const HeadsView<const float>& x = side ? k : q;
            float acc = 0.f, rowsum = 0.f;
            for (int64_t j = 0; j < s.K; ++j) {
                const float G = dl[j] * sp.c[h * s.K + j];
                acc += 2.f * G * sp.mu[(h * s.K + j) * s.D + d];
                rowsum += G;
            }
            (side ? gr.dk : gr.dq)[i] = acc - 2.f * rowsum * x.row(b, h, t)[d * x.sd];
        }
    }
};

// O: i = (h·K + j)·D + d. dμ_jd = Σ_{b,t,side} 2·G·x_d − 2·(Σ G)·μ_jd; at d = 0 also
// d log s = Σ 2·dl·(bias − l) (= 2·dl·c·d²), d log a = Σ dlk, d log r = r·Σ_b dr, dρ = Σ_b dρ.
struct SplatGradsPass {
    ScanShape s;
    ScanSplats sp;
    HeadsView<const float> q, k;
    ScanBuffers buf;
    ScanGrads gr;
    SPLATLM_HD int64_t size() const { return s.H * s.K * s.D; }
    SPLATLM_HD void operator()(int64_t i) const {
        const int64_t d = i % s.D, hj = i / s.D, j = hj % s.K, h = hj / s.K;
        double acc = 0, colsum = 0, ls = 0, la = 0, dr = 0, drb = 0;
        for (int64_t b = 0; b < s.B; ++b) {
            const int64_t bh = b * s.H + h;
            for (int side = 0; side < 2; ++side) {
                const HeadsView<const float>& x = side ? k : q;
                for (int64_t t = 0; t < s.T; ++t) {
                    const int64_t tj = (bh * s.T + t) * s.K + j;
                    const float dl = (side ? gr.dlk : gr.dlq)[tj], G = dl * sp.c[hj];
                    acc += 2.0 * G * x.row(b, h, t)[d * x.sd];
                    colsum += G;
                    if (d != 0) continue;
                    const float send = side && sp.send_bias.p ? sp.send_bias.row(b, h, t)[j * sp.send_bias.sd] : 0.f;
                    const float bias = side ? sp.la[hj] + send : sp.rb[hj];
                    ls += 2.0 * dl * (bias - (side ? buf.lk : buf.lq)[tj]);
                    if (side) la += dl;
                }
            }
            dr += gr.dr[bh * s.K + j];
            drb += gr.drb[bh * s.K + j];
        }
        gr.dmu[i] = float(acc - 2.0 * colsum * sp.mu[i]);
        if (d != 0) return;
        gr.dls[hj] = float(ls);
        gr.dla[hj] = float(la);
        gr.dlog_decay[hj] = float(dr) * sp.rate[hj];
        gr.drho[hj] = float(drb);
    }
};

// The passes in order, each through run(pass) (a kernel launch, or a host loop over pass.size()).
// The forward: A, B, C, D, E, F.
template <class Run>
void splat_scan_forward(const ScanShape& s, const ScanSplats& sp, HeadsView<const float> q, HeadsView<const float> k,
                        HeadsView<const float> v, HeadsView<float> y, const ScanBuffers& buf, Run&& run) {
    run(AffinityPass{s, sp, q, k, buf});
    run(ChunkStatePass{s, sp, v, buf});
    run(ChunkPrefixPass{s, buf});
    run(TokenScalarsPass{s, sp, buf});
    run(ReadWeightsPass{s, buf});
    run(ColumnsPass{s, v, y, buf});
}

// The backward: the forward's passes A–E again (y is not needed), then G–O. buf.pi must be set.
template <class Run>
void splat_scan_backward(const ScanShape& s, const ScanSplats& sp, HeadsView<const float> q, HeadsView<const float> k,
                         HeadsView<const float> v, const ScanBuffers& buf, const ScanGrads& gr, Run&& run) {
    run(AffinityPass{s, sp, q, k, buf});
    run(ChunkStatePass{s, sp, v, buf});
    run(ChunkPrefixPass{s, buf});
    run(TokenScalarsPass{s, sp, buf});
    run(ReadWeightsPass{s, buf});
    run(ReadPartialsPass{s, v, buf, gr});
    run(AdjointChunkPass{s, buf, gr});
    run(ChunkCarryPass{s, buf, gr});
    run(AdjointPrefixPass{s, gr});
    run(AdjointValuesPass{s, buf, gr});
    run(AdjointKeysPass{s, v, buf, gr});
    run(TokenAdjointsPass{s, buf, gr});
    run(NormaliserChunkPass{s, buf, gr});
    run(NormaliserPrefixPass{s, gr});
    run(NormaliserAdjointPass{s, buf, gr});
    run(DecaySumsPass{s, gr});
    run(InputGradsPass{s, sp, q, k, gr});
    run(SplatGradsPass{s, sp, q, k, buf, gr});
}

// The recurrent step (T = C = 1): the carried state is the incoming state (buf.pm, pz, cS: [B·H, K]
// and [B·H, K, D]) and buf.write_back is set, so D and F leave the new state in its place.
template <class Run>
void splat_scan_step(const ScanShape& s, const ScanSplats& sp, HeadsView<const float> q, HeadsView<const float> k,
                     HeadsView<const float> v, HeadsView<float> y, const ScanBuffers& buf, Run&& run) {
    run(AffinityPass{s, sp, q, k, buf});
    run(TokenScalarsPass{s, sp, buf});
    run(ReadWeightsPass{s, buf});
    run(ColumnsPass{s, v, y, buf});
}

}  // namespace splatlm
