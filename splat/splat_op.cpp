// splat_op.cpp — the fused Gaussian splat attention op: forward scan, hand-derived reverse scan, the
// recurrent step and the float64 reference, side by side. Math and derivation: docs/SPLAT.md.
//
// Layout of the work, per (batch, head) — the unit of parallelism:
//   1. affinities lk, lq for a chunk of rows: one GEMM X·μᵀ each, then ‖x‖² and ‖μ‖² added;
//   2. a per-token scan of the splat state (running max m, z̃, S̃), O(K·D) per token;
//   3. read-out: softmax over splats of ℓ = lq + m + log z̃, mixing the running means S̃/z̃.
// The backward restores the state saved at each chunk start, replays the chunk forward into a
// chunk-sized scratch, then walks it in reverse time carrying the adjoint of the state (Ŝ, Ẑ),
// and finishes with GEMMs that turn dlk, dlq into gradients of k, q, centres and scales.
#include "splat/splat_op.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "autograd/graph.h"
#include "tensor/error.h"
#include "tensor/gemm.h"
#include "tensor/ops.h"

namespace splatlm {

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// One [B, H, T, D] operand: element (b, h, t, d) is at base + b·sb + h·sh + t·st + d·sd.
struct Heads {
    float* base;
    int64_t sb, sh, st, sd;
    explicit Heads(const Tensor& x)
        : base(const_cast<float*>(x.data())), sb(x.strides()[0]), sh(x.strides()[1]), st(x.strides()[2]),
          sd(x.strides()[3]) {}
    float* at(int64_t b, int64_t h, int64_t t) const { return base + b * sb + h * sh + t * st; }
};

// Per-head splat constants, contiguous: μ [H, K, D], c = 1/(2 s²) [H, K], ‖μ‖² [H, K], log a [H, K].
struct Splats {
    int64_t H, K, D;
    Tensor mu_t;  // keeps the contiguous copy alive
    const float* mu;
    std::vector<float> c, mu2, la;
    Splats(const Tensor& centres, const Tensor& log_scale, const Tensor& log_amp)
        : H(centres.size(0)), K(centres.size(1)), D(centres.size(2)), mu_t(raw::contiguous(centres)),
          mu(mu_t.data()), c(H * K), mu2(H * K), la(H * K) {
        for (int64_t h = 0; h < H; ++h)
            for (int64_t j = 0; j < K; ++j) {
                const int64_t i = h * K + j;
                c[i] = float(0.5 * std::exp(-2.0 * double(log_scale.at({h, j}))));
                la[i] = log_amp.at({h, j});
                double n2 = 0;
                for (int64_t d = 0; d < D; ++d) n2 += double(mu[i * D + d]) * mu[i * D + d];
                mu2[i] = float(n2);
            }
    }
    const float* centres(int64_t h) const { return mu + h * K * D; }
};

// out[r, j] = bias_j − c_j·max(0, ‖x_r‖² − 2·x_r·μ_j + ‖μ_j‖²) for `rows` rows of x (row stride rs,
// column stride cs). bias = log a for keys, null (0) for queries. The clamp guards the cancellation of
// the expanded square; it is treated as the identity by the backward.
void affinities(const float* x, int64_t rs, int64_t cs, int64_t rows, const Splats& sp, int64_t h, bool key,
                float* out) {
    const int64_t K = sp.K, D = sp.D;
    gemm(rows, K, D, 1.f, x, rs, cs, sp.centres(h), 1, D, 0.f, out, K, 1);
    const float *c = sp.c.data() + h * K, *mu2 = sp.mu2.data() + h * K, *la = sp.la.data() + h * K;
    for (int64_t r = 0; r < rows; ++r) {
        double x2 = 0;
        for (int64_t d = 0; d < D; ++d) x2 += double(x[r * rs + d * cs]) * x[r * rs + d * cs];
        float* o = out + r * K;
        for (int64_t j = 0; j < K; ++j) {
            const float d2 = std::max(0.f, float(x2) - 2.f * o[j] + mu2[j]);
            o[j] = (key ? la[j] : 0.f) - c[j] * d2;
        }
    }
}

// Gather a strided D-vector into contiguous scratch (v_t and dy_t may have any inner stride).
inline void gather(const float* src, int64_t stride, int64_t D, float* dst) {
    for (int64_t d = 0; d < D; ++d) dst[d] = src[d * stride];
}

// ---- the per-token kernels, shared by forward, backward replay and step ----

// Absorb one token (affinities lk[0..K), value v) into the state m, z̃, S̃ of K splats:
//   m' = max(m, lk);  z̃' = e^{m−m'}·z̃ + e^{lk−m'};  S̃' = e^{m−m'}·S̃ + e^{lk−m'}·v.
inline void absorb(float* m, float* z, float* S, const float* lk, const float* v, int64_t K, int64_t D) {
    for (int64_t j = 0; j < K; ++j) {
        const float mn = std::max(m[j], lk[j]);
        const float alpha = std::exp(m[j] - mn), beta = std::exp(lk[j] - mn);  // e^{−∞} = 0 on the first token
        z[j] = alpha * z[j] + beta;
        float* s = S + j * D;
        for (int64_t d = 0; d < D; ++d) s[d] = alpha * s[d] + beta * v[d];
        m[j] = mn;
    }
}

struct ReadOut {
    float den;    // Σ_j e^{ℓ_j − M} + ε
    int64_t arg;  // argmax_j ℓ_j (the splat that sets the ε scale)
};

// Read out from the state: ℓ_j = lq_j + m_j + log z̃_j, M = max ℓ, π_j = e^{ℓ_j−M} / (Σ e^{ℓ−M} + ε),
// y = Σ_j π_j·S̃_j / z̃_j. Writes π into pi[0..K) and y (contiguous, D) when y is non-null.
inline ReadOut read_out(const float* m, const float* z, const float* S, const float* lq, int64_t K, int64_t D,
                        float* pi, float* y) {
    float M = kNegInf;
    int64_t arg = 0;
    for (int64_t j = 0; j < K; ++j) {
        pi[j] = lq[j] + m[j] + std::log(z[j]);
        if (pi[j] > M) M = pi[j], arg = j;
    }
    float den = kSplatEps;
    for (int64_t j = 0; j < K; ++j) den += pi[j] = std::exp(pi[j] - M);
    const float inv = 1.f / den;
    for (int64_t j = 0; j < K; ++j) pi[j] *= inv;
    if (y) {
        std::fill(y, y + D, 0.f);
        for (int64_t j = 0; j < K; ++j) {
            const float coef = pi[j] / z[j];
            const float* s = S + j * D;
            for (int64_t d = 0; d < D; ++d) y[d] += coef * s[d];
        }
    }
    return {den, arg};
}

void init_state(float* m, float* z, float* S, int64_t K, int64_t D) {
    std::fill(m, m + K, kNegInf);
    std::fill(z, z + K, 0.f);
    std::fill(S, S + K * D, 0.f);
}

void check_inputs(const char* op, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& centres,
                  const Tensor& log_scale, const Tensor& log_amp, int64_t rank) {
    for (const Tensor* t : {&q, &k, &v, &centres, &log_scale, &log_amp}) check_device(op, *t, Device::CPU);
    SPLATLM_CHECK(q.dim() == rank && q.shape() == k.shape() && q.shape() == v.shape(), op,
                  ": q, k, v must share one ", rank == 4 ? "[B, H, T, D]" : "[B, H, D]", " shape, got ",
                  shape_str(q.shape()), ", ", shape_str(k.shape()), ", ", shape_str(v.shape()));
    const int64_t H = q.size(1), D = q.size(-1);
    SPLATLM_CHECK(centres.dim() == 3 && centres.size(0) == H && centres.size(2) == D && centres.size(1) > 0, op,
                  ": centres must be [H, K, D] = [", H, ", K, ", D, "] with K > 0, got ", shape_str(centres.shape()));
    const Shape hk = {H, centres.size(1)};
    SPLATLM_CHECK(log_scale.shape() == hk && log_amp.shape() == hk, op, ": log_scale and log_amp must be ",
                  shape_str(hk), ", got ", shape_str(log_scale.shape()), " and ", shape_str(log_amp.shape()));
}

}  // namespace

// ============================================================================ forward + backward

Tensor splat_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& centres,
                       const Tensor& log_scale, const Tensor& log_amp, int64_t chunk) {
    check_inputs("splat_attention", q, k, v, centres, log_scale, log_amp, 4);
    SPLATLM_CHECK(chunk > 0, "splat_attention: chunk must be positive, got ", chunk);
    const int64_t B = q.size(0), H = q.size(1), T = q.size(2), D = q.size(3), K = centres.size(1);
    const int64_t C = std::min(chunk, std::max<int64_t>(T, 1)), NC = (T + C - 1) / C;
    const Splats sp(centres, log_scale, log_amp);

    bool needs_grad = false;
    for (const Tensor* t : {&q, &k, &v, &centres, &log_scale, &log_amp}) needs_grad |= t->requires_grad();
    needs_grad &= grad_enabled();

    Tensor y_btHd = Tensor::empty({B, T, H, D});
    Tensor y = raw::permute(y_btHd, {0, 2, 1, 3});
    // Saved for the backward: every affinity (O(T·K)) and the state at each chunk start (O(T/C·K·D)).
    Tensor lq_all, lk_all, ckpt;
    if (needs_grad) {
        lq_all = Tensor::empty({B, H, T, K});
        lk_all = Tensor::empty({B, H, T, K});
        ckpt = Tensor::empty({B, H, NC, K * (D + 2)});
    }
    const Heads Q(q), Kh(k), V(v), Y(y);
#pragma omp parallel
    {
        std::vector<float> m(K), z(K), S(K * D), pi(K), vbuf(D), ybuf(D);
        std::vector<float> lq_scratch(needs_grad ? 0 : C * K), lk_scratch(needs_grad ? 0 : C * K);
#pragma omp for schedule(dynamic) collapse(2)
        for (int64_t b = 0; b < B; ++b)
            for (int64_t h = 0; h < H; ++h) {
                init_state(m.data(), z.data(), S.data(), K, D);
                for (int64_t c = 0; c < NC; ++c) {
                    const int64_t t0 = c * C, t1 = std::min(T, t0 + C);
                    float *lq = lq_scratch.data(), *lk = lk_scratch.data();
                    if (needs_grad) {
                        float* saved = ckpt.data() + ((b * H + h) * NC + c) * K * (D + 2);
                        std::copy(m.begin(), m.end(), saved);
                        std::copy(z.begin(), z.end(), saved + K);
                        std::copy(S.begin(), S.end(), saved + 2 * K);
                        lq = lq_all.data() + ((b * H + h) * T + t0) * K;
                        lk = lk_all.data() + ((b * H + h) * T + t0) * K;
                    }
                    affinities(Q.at(b, h, t0), Q.st, Q.sd, t1 - t0, sp, h, false, lq);
                    affinities(Kh.at(b, h, t0), Kh.st, Kh.sd, t1 - t0, sp, h, true, lk);
                    for (int64_t t = t0; t < t1; ++t) {
                        gather(V.at(b, h, t), V.sd, D, vbuf.data());
                        absorb(m.data(), z.data(), S.data(), lk + (t - t0) * K, vbuf.data(), K, D);
                        read_out(m.data(), z.data(), S.data(), lq + (t - t0) * K, K, D, pi.data(), ybuf.data());
                        float* yt = Y.at(b, h, t);
                        for (int64_t d = 0; d < D; ++d) yt[d * Y.sd] = ybuf[d];
                    }
                }
            }
    }
    if (!needs_grad) return y;

    return record(y, "splat_attention", {q, k, v, centres, log_scale, log_amp},
                  [q, k, v, centres, log_scale, log_amp, lq_all, lk_all, ckpt, C](const Tensor& grad) {
        const int64_t B = q.size(0), H = q.size(1), T = q.size(2), D = q.size(3), K = centres.size(1);
        const int64_t NC = (T + C - 1) / C;
        const Splats sp(centres, log_scale, log_amp);
        Tensor dq = Tensor::empty({B, H, T, D}), dk = Tensor::empty({B, H, T, D}), dv = Tensor::empty({B, H, T, D});
        // Splat gradients per (b, h), summed over b afterwards (no races, thread-count independent).
        Tensor dmu_bh = Tensor::zeros({B, H, K, D}), dls_bh = Tensor::zeros({B, H, K}),
               dla_bh = Tensor::zeros({B, H, K});
        const Heads Q(q), Kh(k), V(v), G(grad);
#pragma omp parallel
        {
            // Chunk replay: the state after each token of the chunk, and its read-out weights.
            std::vector<float> m(K), z(K), S(K * D), mC(C * K), zC(C * K), SC(C * K * D), piC(C * K), denC(C);
            std::vector<int64_t> argC(C);
            // Reverse-time adjoint of the state, kept in the scale of the current token's running max.
            std::vector<float> Sh(K * D), Zh(K), m_next(K), a(K), dl(K), gbuf(D), vbuf(D), dvbuf(D);
            std::vector<float> dlq(T * K), dlk(T * K), Gs(T * K);
#pragma omp for schedule(dynamic) collapse(2)
            for (int64_t b = 0; b < B; ++b)
                for (int64_t h = 0; h < H; ++h) {
                    const float* lq_bh = lq_all.data() + (b * H + h) * T * K;
                    const float* lk_bh = lk_all.data() + (b * H + h) * T * K;
                    std::fill(Sh.begin(), Sh.end(), 0.f);
                    std::fill(Zh.begin(), Zh.end(), 0.f);
                    bool have_next = false;  // false until the last token has been visited
                    for (int64_t c = NC - 1; c >= 0; --c) {
                        const int64_t t0 = c * C, t1 = std::min(T, t0 + C);
                        const float* saved = ckpt.data() + ((b * H + h) * NC + c) * K * (D + 2);
                        std::copy(saved, saved + K, m.begin());
                        std::copy(saved + K, saved + 2 * K, z.begin());
                        std::copy(saved + 2 * K, saved + 2 * K + K * D, S.begin());
                        for (int64_t t = t0; t < t1; ++t) {  // replay the forward of this chunk
                            const int64_t r = t - t0;
                            gather(V.at(b, h, t), V.sd, D, vbuf.data());
                            absorb(m.data(), z.data(), S.data(), lk_bh + t * K, vbuf.data(), K, D);
                            std::copy(m.begin(), m.end(), mC.begin() + r * K);
                            std::copy(z.begin(), z.end(), zC.begin() + r * K);
                            std::copy(S.begin(), S.end(), SC.begin() + r * K * D);
                            const ReadOut ro =
                                read_out(m.data(), z.data(), S.data(), lq_bh + t * K, K, D, &piC[r * K], nullptr);
                            denC[r] = ro.den;
                            argC[r] = ro.arg;
                        }
                        for (int64_t t = t1 - 1; t >= t0; --t) {  // reverse-time scan
                            const int64_t r = t - t0;
                            const float *mt = &mC[r * K], *zt = &zC[r * K], *St = &SC[r * K * D], *pi = &piC[r * K];
                            gather(G.at(b, h, t), G.sd, D, gbuf.data());
                            gather(V.at(b, h, t), V.sd, D, vbuf.data());
                            // a_j = dy·v̄_j (v̄_j = S̃_j/z̃_j, the splat's running mean); gy = dy·y = Σ π_j a_j.
                            float gy = 0.f;
                            for (int64_t j = 0; j < K; ++j) {
                                float dot = 0.f;
                                for (int64_t d = 0; d < D; ++d) dot += gbuf[d] * St[j * D + d];
                                a[j] = dot / zt[j];
                                gy += pi[j] * a[j];
                            }
                            // dℓ_j = π_j (a_j − gy), plus the ε·e^M term's share on the argmax splat.
                            for (int64_t j = 0; j < K; ++j) dl[j] = pi[j] * (a[j] - gy);
                            dl[argC[r]] -= kSplatEps / denC[r] * gy;
                            for (int64_t j = 0; j < K; ++j) dlq[t * K + j] = dl[j];
                            // Bring the adjoint from token t+1's scale to token t's: × e^{m_t − m_{t+1}} ≤ 1.
                            if (have_next)
                                for (int64_t j = 0; j < K; ++j) {
                                    const float f = std::exp(mt[j] - m_next[j]);
                                    Zh[j] *= f;
                                    for (int64_t d = 0; d < D; ++d) Sh[j * D + d] *= f;
                                }
                            // Direct dependence of y_t on z_t and S_t (scaled by e^{m_t}).
                            for (int64_t j = 0; j < K; ++j) {
                                Zh[j] += (dl[j] - pi[j] * a[j]) / zt[j];
                                const float w = pi[j] / zt[j];
                                for (int64_t d = 0; d < D; ++d) Sh[j * D + d] += w * gbuf[d];
                            }
                            // Token t wrote e^{lk} = e^{m_t}·β into z_τ, S_τ for every τ ≥ t.
                            std::fill(dvbuf.begin(), dvbuf.end(), 0.f);
                            for (int64_t j = 0; j < K; ++j) {
                                const float beta = std::exp(lk_bh[t * K + j] - mt[j]);
                                const float* sh = &Sh[j * D];
                                float dot = 0.f;
                                for (int64_t d = 0; d < D; ++d) {
                                    dot += sh[d] * vbuf[d];
                                    dvbuf[d] += beta * sh[d];
                                }
                                dlk[t * K + j] = beta * (Zh[j] + dot);
                            }
                            float* dvt = dv.data() + ((b * H + h) * T + t) * D;
                            std::copy(dvbuf.begin(), dvbuf.end(), dvt);
                            std::copy(mt, mt + K, m_next.begin());
                            have_next = true;
                        }
                    }
                    // Affinity backward. With G = dl ⊙ c (T×K):  dx = 2·G·μ − 2·rowsum(G)·x,
                    // dμ += 2·Gᵀ·X − 2·colsum(G)·μ,  dlog s += 2·Σ_t dl·(c·d²),  dlog a += Σ_t dlk.
                    const float *c = sp.c.data() + h * K, *la = sp.la.data() + h * K, *mu = sp.centres(h);
                    float* dmu = dmu_bh.data() + (b * H + h) * K * D;
                    float* dls = dls_bh.data() + (b * H + h) * K;
                    float* dla = dla_bh.data() + (b * H + h) * K;
                    for (int side = 0; side < 2; ++side) {
                        const bool key = side == 1;
                        const float* dlx = key ? dlk.data() : dlq.data();
                        const float* lx = key ? lk_bh : lq_bh;
                        const Heads& X = key ? Kh : Q;
                        float* dx = (key ? dk : dq).data() + (b * H + h) * T * D;
                        std::vector<double> colsum(K, 0.0);
                        for (int64_t t = 0; t < T; ++t)
                            for (int64_t j = 0; j < K; ++j) {
                                const float g = dlx[t * K + j];
                                Gs[t * K + j] = g * c[j];
                                colsum[j] += Gs[t * K + j];
                                // c·d² = (log a if key else 0) − l
                                dls[j] += 2.f * g * ((key ? la[j] : 0.f) - lx[t * K + j]);
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
        }
        Tensor dcentres = raw::sum(dmu_bh, 0, false), dlog_scale = raw::sum(dls_bh, 0, false),
               dlog_amp = raw::sum(dla_bh, 0, false);
        return std::vector<Tensor>{dq, dk, dv, dcentres, dlog_scale, dlog_amp};
    });
}

// ============================================================================ reference (float64)

namespace {
// Affinities in float64 with the direct square ‖x − μ‖² (no expansion): [T][K].
std::vector<std::vector<double>> affinities_reference(const Tensor& x, const Tensor& centres, const Tensor& log_scale,
                                                      const Tensor& log_amp, int64_t b, int64_t h, bool key) {
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
            l[t][j] = (key ? double(log_amp.at({h, j})) : 0.0) - c * d2;
        }
    return l;
}

// w[t,u] for one (b, h), row by row: z_t[j] from the running max up to t, π over splats, then
// w[t,u] = Σ_j π_tj·exp(lk[u,j] − m_tj) / z̃_tj.
std::vector<std::vector<double>> weights_reference(const Tensor& q, const Tensor& k, const Tensor& centres,
                                                   const Tensor& log_scale, const Tensor& log_amp, int64_t b,
                                                   int64_t h) {
    const int64_t T = q.size(2), K = centres.size(1);
    auto lq = affinities_reference(q, centres, log_scale, log_amp, b, h, false);
    auto lk = affinities_reference(k, centres, log_scale, log_amp, b, h, true);
    std::vector<std::vector<double>> w(T, std::vector<double>(T, 0.0));
    std::vector<double> m(K), z(K), pi(K);
    for (int64_t t = 0; t < T; ++t) {
        double M = -INFINITY;
        for (int64_t j = 0; j < K; ++j) {
            m[j] = -INFINITY;
            for (int64_t u = 0; u <= t; ++u) m[j] = std::max(m[j], lk[u][j]);
            z[j] = 0;
            for (int64_t u = 0; u <= t; ++u) z[j] += std::exp(lk[u][j] - m[j]);
            pi[j] = lq[t][j] + m[j] + std::log(z[j]);
            M = std::max(M, pi[j]);
        }
        double den = kSplatEps;
        for (int64_t j = 0; j < K; ++j) den += pi[j] = std::exp(pi[j] - M);
        for (int64_t u = 0; u <= t; ++u)
            for (int64_t j = 0; j < K; ++j) w[t][u] += pi[j] / den * std::exp(lk[u][j] - m[j]) / z[j];
    }
    return w;
}
}  // namespace

Tensor splat_attention_reference(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& centres,
                                 const Tensor& log_scale, const Tensor& log_amp) {
    check_inputs("splat_attention_reference", q, k, v, centres, log_scale, log_amp, 4);
    const int64_t B = q.size(0), H = q.size(1), T = q.size(2), D = q.size(3);
    Tensor y = Tensor::zeros({B, H, T, D});
    for (int64_t b = 0; b < B; ++b)
        for (int64_t h = 0; h < H; ++h) {
            auto w = weights_reference(q, k, centres, log_scale, log_amp, b, h);
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
                               const Tensor& log_amp, int64_t b, int64_t h) {
    check_inputs("splat_weights_reference", q, k, k, centres, log_scale, log_amp, 4);
    const int64_t T = q.size(2);
    auto w = weights_reference(q, k, centres, log_scale, log_amp, b, h);
    Tensor out = Tensor::zeros({T, T});
    for (int64_t t = 0; t < T; ++t)
        for (int64_t u = 0; u < T; ++u) out.data()[t * T + u] = float(w[t][u]);
    return out;
}

// ============================================================================ recurrent step

SplatState::SplatState(int64_t batch_, int64_t heads_, int64_t splats_, int64_t dim_)
    : batch(batch_), heads(heads_), splats(splats_), dim(dim_), m(Tensor::full({batch_, heads_, splats_}, kNegInf)),
      z(Tensor::zeros({batch_, heads_, splats_})), S(Tensor::zeros({batch_, heads_, splats_, dim_})) {}

Tensor splat_step(const Tensor& q_t, const Tensor& k_t, const Tensor& v_t, const Tensor& centres,
                  const Tensor& log_scale, const Tensor& log_amp, SplatState& state) {
    check_inputs("splat_step", q_t, k_t, v_t, centres, log_scale, log_amp, 3);
    const int64_t B = q_t.size(0), H = q_t.size(1), D = q_t.size(2), K = centres.size(1);
    SPLATLM_CHECK(state.batch == B && state.heads == H && state.splats == K && state.dim == D,
                  "splat_step: state is for [B, H, K, D] = [", state.batch, ", ", state.heads, ", ", state.splats,
                  ", ", state.dim, "], inputs are [", B, ", ", H, ", ", K, ", ", D, "]");
    const Splats sp(centres, log_scale, log_amp);
    Tensor y = Tensor::empty({B, H, D});
    // View the [B, H, D] inputs as [B, H, 1, D] so the same Heads geometry applies.
    auto heads = [](const Tensor& x) { return raw::reshape(x, {x.size(0), x.size(1), 1, x.size(2)}); };
    const Tensor q4 = heads(q_t), k4 = heads(k_t), v4 = heads(v_t);
    const Heads Q(q4), Kh(k4), V(v4);
#pragma omp parallel
    {
        std::vector<float> lq(K), lk(K), pi(K), vbuf(D);
#pragma omp for collapse(2)
        for (int64_t b = 0; b < B; ++b)
            for (int64_t h = 0; h < H; ++h) {
                const int64_t i = b * H + h;
                float *m = state.m.data() + i * K, *z = state.z.data() + i * K, *S = state.S.data() + i * K * D;
                affinities(Q.at(b, h, 0), Q.st, Q.sd, 1, sp, h, false, lq.data());
                affinities(Kh.at(b, h, 0), Kh.st, Kh.sd, 1, sp, h, true, lk.data());
                gather(V.at(b, h, 0), V.sd, D, vbuf.data());
                absorb(m, z, S, lk.data(), vbuf.data(), K, D);
                read_out(m, z, S, lq.data(), K, D, pi.data(), y.data() + i * D);
            }
    }
    ++state.length;
    return y;
}

}  // namespace splatlm
