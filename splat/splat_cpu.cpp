// splat_cpu.cpp — the splat op's CPU passes, forward then backward (splat_cpu.h lists them). Each pass
// is one loop over fixed-size (batch, head, range or block) tasks running a kernel of splat_kernels.h,
// its tasks shared by the threads of one parallel region per call. Math and derivation: docs/SPLAT.md;
// tests: ./bin/tests "[splat]".
#include "splat/splat_cpu.h"

#include <algorithm>
#include <cmath>

#include "nn/heads.h"
#include "tensor/gemm.h"
#include "tensor/ops.h"

namespace splatlm {

namespace {

SplatDims dims_of(const Tensor& q, const Splats& sp) { return {q.size(0), q.size(1), q.size(2), sp.K, q.size(3)}; }
int64_t column_blocks(const SplatDims& n) { return (n.D + kColumns - 1) / kColumns; }

// Threads only pay for a call with enough work to share (the recurrent step's one token has not):
// the same rule as gemm's, fewer than 64³ multiply-adds in all and one thread runs them.
bool worth_threads(const SplatDims& n) { return n.B * n.H * n.T * n.K * n.D >= 64 * 64 * 64; }

// f(b, h, i = b·H + h, lo, hi) for every head and every piece [lo, hi) of [0, extent) cut into
// `piece`-sized tasks, shared among the threads of the enclosing parallel region (the passes run
// inside one region per call, opened by splat_forward_cpu / splat_backward_cpu: one fork and join
// per call, a barrier between passes). A fixed split, so results never depend on the thread count.
template <class F>
void for_each_head(const SplatDims& n, int64_t extent, int64_t piece, F&& f) {
    const int64_t pieces = (extent + piece - 1) / piece;
#pragma omp for schedule(dynamic) collapse(3)
    for (int64_t b = 0; b < n.B; ++b)
        for (int64_t h = 0; h < n.H; ++h)
            for (int64_t p = 0; p < pieces; ++p) f(b, h, b * n.H + h, p * piece, std::min(extent, (p + 1) * piece));
}

// ============================================================================ forward

// 1. Affinities lq, lk of kTokens rows at a time (one GEMM each), and the tokens' routes.
void affinity_pass(const SplatDims& n, const Splats& sp, const Heads& Q, const Heads& Kh, SplatSaved& s) {
    const int64_t T = n.T, K = n.K;
    for_each_head(n, T, kTokens, [&](int64_t b, int64_t h, int64_t i, int64_t t0, int64_t t1) {
        float *lq = s.lq.data() + i * T * K, *lk = s.lk.data() + i * T * K;
        affinities(Q.at(b, h, t0), Q.st, Q.sd, t1 - t0, sp, h, false, nullptr, lq + t0 * K);
        affinities(Kh.at(b, h, t0), Kh.st, Kh.sd, t1 - t0, sp, h, true, sp.send_bias(i, T, t0), lk + t0 * K);
        s.routes.select(i, t0, t1, K, lk, lq);
    });
}

// 2. The running max and normaliser, sequential in t per head (from the carried state, or empty);
//    then the read-out weights, independent per token, over fixed-size time ranges.
void scalar_pass(const SplatDims& n, const Splats& sp, SplatSaved& s, SplatState* carry) {
    const int64_t T = n.T, K = n.K;
    for_each_head(n, 1, 1, [&](int64_t, int64_t h, int64_t i, int64_t, int64_t) {
        std::vector<float> m0(carry ? 0 : K, kScanNegInf), z0(carry ? 0 : K, 0.f);
        float* m = carry ? carry->m.data() + i * K : m0.data();
        float* z = carry ? carry->z.data() + i * K : z0.data();
        s.routes.visit(i, K, [&](const auto& writes, const auto&) {
            scan_state(s.lk.data() + i * T * K, T, K, sp.rate.data() + h * K, sp.token_rate(i, T), m, z,
                       s.scalars.of(i), writes);
        });
    });
    for_each_head(n, T, kTokens, [&](int64_t, int64_t, int64_t i, int64_t t0, int64_t t1) {
        s.routes.visit(i, K, [&](const auto&, const auto& reads) {
            read_weights(s.lq.data() + i * T * K, t0, t1, K, s.scalars.of(i), reads);
        });
    });
}

// 3. The state S̃ and the read-out y, a block of kColumns columns at a time (from the carried S̃, which
//    is left holding the state after the last token, or from 0).
void column_pass(const SplatDims& n, const SplatSaved& s, const Heads& V, const Heads& Y, SplatState* carry) {
    const int64_t T = n.T, K = n.K, D = n.D;
    for_each_head(n, D, kColumns, [&](int64_t b, int64_t h, int64_t i, int64_t d0, int64_t d1) {
        std::vector<float> block(carry ? 0 : K * kColumns, 0.f);
        float* S = carry ? carry->S.data() + i * K * D + d0 : block.data();
        const int64_t ss = carry ? D : kColumns;
        const TokenScalars ts = s.scalars.of(i);
        s.routes.visit(i, K, [&](const auto& writes, const auto& reads) {
            scan_columns(ts.alpha, ts.beta, ts.coef, T, K, d1 - d0, S, ss, V.at(b, h, 0) + d0 * V.sd, V.st, V.sd,
                         Y.at(b, h, 0) + d0 * Y.sd, Y.st, Y.sd, writes, reads);
        });
    });
}

// ============================================================================ backward

// The backward's buffers. Per column block the partial dot products Pa = dy·S̃_j and Pk = Ŝ_j·v,
// [B·H, NB, T, P] (P = K, or one per route entry, P = top); Wk = β·(Ŝ·v) summed over the blocks,
// [T][K] per head: the dense op overwrites Pk's first block with it, the routed one has a plane of its
// own, 0 where a token does not write. The splat gradients are kept per (b, h) — queries and keys each
// add their own share of μ and s, hence [B, 2H, …] — and summed over b afterwards (no races, and
// independent of the thread count).
struct Adjoints {
    int64_t NB, P;
    Tensor Pa, Pk, Wk;     // partials
    Tensor dlq, dlk;       // [B·H, T, K]: the affinities' gradients (dlk holds X until pass 6)
    Tensor drate, drb;     // [B, H, K]: Σ_t (t − t̄)(dlk − dlq) and Σ_t dlq
    Tensor dtoken;         // [B, H, T, K]: the token decay's gradient Σ_{τ≥t} (dlk_τ − dlq_τ) (when on)
    Tensor dmu, dls, dla;  // [B, 2H, K, D], [B, 2H, K], [B, H, K]
    Tensor dq, dk, dv;     // [B, H, T, D]
    Adjoints(const SplatDims& n, int64_t top, bool token_decay)
        : NB(column_blocks(n)), P(top ? top : n.K), Pa(Tensor::empty({n.B * n.H, NB, n.T, P})),
          Pk(Tensor::empty({n.B * n.H, NB, n.T, P})), Wk(top ? Tensor::zeros({n.B * n.H, n.T, n.K}) : Tensor()),
          dlq(Tensor::empty({n.B * n.H, n.T, n.K})), dlk(Tensor::empty({n.B * n.H, n.T, n.K})),
          drate(Tensor::zeros({n.B, n.H, n.K})), drb(Tensor::zeros({n.B, n.H, n.K})),
          dtoken(token_decay ? Tensor::empty({n.B, n.H, n.T, n.K}) : Tensor()),
          dmu(Tensor::zeros({n.B, n.H * 2, n.K, n.D})), dls(Tensor::zeros({n.B, n.H * 2, n.K})),
          dla(Tensor::zeros({n.B, n.H, n.K})), dq(Tensor::empty({n.B, n.H, n.T, n.D})),
          dk(Tensor::empty({n.B, n.H, n.T, n.D})), dv(Tensor::empty({n.B, n.H, n.T, n.D})) {}
    float* wk(int64_t i, const SplatDims& n) { return Wk.defined() ? Wk.data() + i * n.T * n.K : Pk.data() + i * NB * n.T * n.K; }
};

// 4. The D columns of S̃ (forward) and of its adjoint Ŝ (reverse), a block of columns at a time: dv,
//    and the partials Pa, Pk.
void column_adjoint_pass(const SplatDims& n, const SplatSaved& s, const Heads& V, const Heads& G, Adjoints& a) {
    const int64_t T = n.T, K = n.K, D = n.D, NB = a.NB, P = a.P;
    for_each_head(n, D, kColumns, [&](int64_t b, int64_t h, int64_t i, int64_t d0, int64_t d1) {
        const int64_t nb = d0 / kColumns, w = d1 - d0;
        std::vector<float> S(2 * K * kColumns);
        float* pa = a.Pa.data() + (i * NB + nb) * T * P;
        float* pk = a.Pk.data() + (i * NB + nb) * T * P;
        const float *g = G.at(b, h, 0) + d0 * G.sd, *vv = V.at(b, h, 0) + d0 * V.sd;
        float* dv = a.dv.data() + i * T * D + d0;
        s.routes.visit(i, K, [&](const auto& writes, const auto& reads) {
            with_block_width(w, [&](auto N) {
                columns_backward<N>(s.scalars.of(i), T, K, w, S.data(), g, G.st, G.sd, vv, V.st, V.sd, pa, pk, dv, D,
                                    writes, reads);
            });
        });
    });
}

// 5. Per token, over fixed time ranges: dlq, the direct z-term X (parked in dlk) and Wk.
void token_adjoint_pass(const SplatDims& n, const SplatSaved& s, Adjoints& a) {
    const int64_t T = n.T, K = n.K;
    for_each_head(n, T, kTokens, [&](int64_t, int64_t, int64_t i, int64_t t0, int64_t t1) {
        const float *pa = a.Pa.data() + i * a.NB * T * a.P, *pk = a.Pk.data() + i * a.NB * T * a.P;
        float *dlq = a.dlq.data() + i * T * K, *dlk = a.dlk.data() + i * T * K;
        s.routes.visit(i, K, [&](const auto& writes, const auto& reads) {
            token_adjoints(s.scalars.of(i), t0, t1, T, K, a.NB, reads, writes, pa, pk, dlq, dlk, a.wk(i, n));
        });
    });
}

// 6. Per head, the reverse-time scan of the scalar adjoint Ẑ (in the running max's scale, like Ŝ):
//    Ẑ ← α_{t+1}·Ẑ + X_t. Token t wrote e^{lk} = e^{m_t}·β into z_τ, S_τ for every τ ≥ t, so
//    dlk_t = β·Ẑ + β·(Ŝ·v_t). (Routed: β = 0 and Wk = 0 where t did not write, so dlk = 0 there.)
//    Then, with per-splat options, the sums over t of the decay and read-bias gradients, and with the
//    token decay its reverse running sums.
void normaliser_adjoint_pass(const SplatDims& n, const SplatSaved& s, bool per_splat_options, Adjoints& a) {
    const int64_t T = n.T, K = n.K;
    for_each_head(n, 1, 1, [&](int64_t, int64_t, int64_t i, int64_t, int64_t) {
        const TokenScalars ts = s.scalars.of(i);
        const float* wk = a.wk(i, n);
        float* dlk = a.dlk.data() + i * T * K;
        std::vector<float> Zh(K, 0.f);
        for (int64_t t = T - 1; t >= 0; --t) {
            const float* f = t + 1 < T ? ts.alpha + (t + 1) * K : nullptr;
#pragma omp simd
            for (int64_t j = 0; j < K; ++j) {
                Zh[j] = (f ? f[j] * Zh[j] : 0.f) + dlk[t * K + j];
                dlk[t * K + j] = ts.beta[t * K + j] * Zh[j] + wk[t * K + j];
            }
        }
        if (a.dtoken.defined())
            for (int64_t j = 0; j < K; ++j)
                token_decay_adjoint(T, K, dlk + j, a.dlq.data() + i * T * K + j, a.dtoken.data() + i * T * K + j);
        if (!per_splat_options) return;
        // y depends on the decay only through lk[u] + r·u and lq[t] − r·t (the e^{−r·t} of S_t and
        // z_t cancels against the query side), so dr = Σ_t t·(dlk − dlq); shifting every lk_j up and
        // lq_j down by one constant leaves y unchanged, so Σ_t (dlk − dlq) = 0 and centring t at
        // t̄ = (T−1)/2 gives the same sum with less cancellation.
        const float* dlq = a.dlq.data() + i * T * K;
        float *dr = a.drate.data() + i * K, *drb = a.drb.data() + i * K;
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
    });
}

// 7. The affinity backward, queries and keys as separate tasks. With G = dl ⊙ c (T×K):
//    dx = 2·G·μ − 2·rowsum(G)·x,  dμ += 2·Gᵀ·X − 2·colsum(G)·μ,  dlog s += 2·Σ_t dl·(c·d²),  dlog a += Σ_t dlk.
void affinity_backward_pass(const SplatDims& n, const Splats& sp, const SplatSaved& s, const Heads& Q,
                            const Heads& Kh, Adjoints& a) {
    const int64_t T = n.T, K = n.K, D = n.D;
    for_each_head(n, 2, 1, [&](int64_t b, int64_t h, int64_t i, int64_t side, int64_t) {
        const bool key = side == 1;
        const float *c = sp.c.data() + h * K, *la = sp.la.data() + h * K, *mu = sp.centres(h);
        float* dmu = a.dmu.data() + (i * 2 + side) * K * D;
        float* dls = a.dls.data() + (i * 2 + side) * K;
        float* dla = a.dla.data() + i * K;
        const float* dlx = (key ? a.dlk : a.dlq).data() + i * T * K;
        const float* lx = (key ? s.lk : s.lq).data() + i * T * K;
        const float *sb = key ? sp.send_bias(i, T, 0) : nullptr, *rb = sp.rb.data() + h * K;
        const Heads& X = key ? Kh : Q;
        float* dx = (key ? a.dk : a.dq).data() + i * T * D;
        std::vector<float> Gs(T * K);
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
    });
}

}  // namespace

SplatSaved::SplatSaved(const SplatDims& n, int64_t top)
    : lq(Tensor::empty({n.B, n.H, n.T, n.K})), lk(Tensor::empty({n.B, n.H, n.T, n.K})), scalars(n.B * n.H, n.T, n.K),
      routes(n.B * n.H, n.T, top) {}

Tensor splat_forward_cpu(const Tensor& q, const Tensor& k, const Tensor& v, const Splats& sp, SplatSaved& saved,
                         SplatState* carry) {
    const SplatDims n = dims_of(q, sp);
    Tensor y = raw::permute(Tensor::empty({n.B, n.T, n.H, n.D}), {0, 2, 1, 3});  // heads merge for free
    const Heads Q(q), Kh(k), V(v), Y(y);
#pragma omp parallel if (worth_threads(n))
    {
        affinity_pass(n, sp, Q, Kh, saved);
        scalar_pass(n, sp, saved, carry);
        column_pass(n, saved, V, Y, carry);
    }
    return y;
}

std::vector<Tensor> splat_backward_cpu(const Tensor& q, const Tensor& k, const Tensor& v, const Splats& sp,
                                       const SplatOptions& opt, const SplatSaved& saved, const Tensor& grad) {
    const SplatDims n = dims_of(q, sp);
    Adjoints a(n, saved.routes.p, opt.token_decay.defined());
    const Heads Q(q), Kh(k), V(v), G(grad);
    const bool per_splat_options = opt.log_decay.defined() || opt.read_bias.defined();
#pragma omp parallel if (worth_threads(n))
    {
        column_adjoint_pass(n, saved, V, G, a);
        token_adjoint_pass(n, saved, a);
        normaliser_adjoint_pass(n, saved, per_splat_options, a);
        affinity_backward_pass(n, sp, saved, Q, Kh, a);
    }
    // The splats' per-(b, side) partials, summed in a fixed order.
    const int64_t B = n.B, H = n.H, K = n.K, D = n.D;
    Tensor dcentres = raw::sum(raw::sum(raw::reshape(a.dmu, {B, H, 2, K, D}), 0, false), 1, false);
    Tensor dlog_scale = raw::sum(raw::sum(raw::reshape(a.dls, {B, H, 2, K}), 0, false), 1, false);
    std::vector<Tensor> grads{a.dq, a.dk, a.dv, dcentres, dlog_scale, raw::sum(a.dla, 0, false)};
    if (opt.log_decay.defined()) {  // d log r = r·dr
        Tensor dr = raw::sum(a.drate, 0, false);
        for (int64_t i = 0; i < H * K; ++i) dr.data()[i] *= sp.rate[i];
        grads.push_back(dr);
    }
    if (opt.send_bias.defined()) grads.push_back(raw::reshape(a.dlk, {B, H, n.T, K}));
    if (opt.read_bias.defined()) grads.push_back(raw::sum(a.drb, 0, false));
    if (opt.token_decay.defined()) grads.push_back(a.dtoken);
    return grads;
}

Tensor splat_read_weights_cpu(const Tensor& q, const Tensor& k, const Splats& sp, int64_t top) {
    const SplatDims n = dims_of(q, sp);
    SplatSaved s(n, top);
    const Heads Q(q), Kh(k);
#pragma omp parallel if (worth_threads(n))
    {
        affinity_pass(n, sp, Q, Kh, s);
        scalar_pass(n, sp, s, nullptr);
    }
    return saved_read_weights(s, n);
}

Tensor saved_read_weights(const SplatSaved& s, const SplatDims& n) {
    return raw::select(raw::reshape(s.scalars.f, {n.B, n.H, HeadScalars::kPlanes, n.T, n.K}), 2, 3).clone();
}

}  // namespace splatlm
