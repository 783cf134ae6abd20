#include "splat/splat_stats.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "autograd/graph.h"
#include "splat/splat_attention.h"
#include "tensor/error.h"

namespace splatlm {

namespace {

double log_add(double a, double b) {
    if (a < b) std::swap(a, b);
    return std::isinf(a) && a < 0 ? a : a + std::log1p(std::exp(b - a));
}

}  // namespace

std::vector<SplatLayerStats> splat_stats(GPT& model, const Indices& ids) {
    SPLATLM_CHECK(ids.shape.size() == 2 && ids.shape[0] >= 1 && ids.shape[1] >= 1,
                  "splat_stats: ids must be a non-empty [B, T] batch");
    const GPTConfig& c = model.config();
    const int64_t B = ids.shape[0], T = ids.shape[1], H = c.heads, D = c.head_dim();
    SPLATLM_CHECK(T <= c.context, "splat_stats: ", T, " tokens exceed the context length ", c.context);
    NoGradGuard no_grad;
    std::vector<SplatLayerStats> out;
    for (int64_t layer = 0; layer < c.layers; ++layer) {
        auto* attn = dynamic_cast<SplatAttention*>(&model.block(layer).attention());
        if (!attn) continue;
        const Tensor x = model.attention_input(ids, layer);
        const QKV h = attn->head_views(x);
        const SplatOptions o = attn->options(x);
        const int64_t K = attn->splats();
        // [B, H, T, D] views, copied out in that (row-major) order.
        const std::vector<float> q = h.q.to_vector(), k = h.k.to_vector();
        const std::vector<float> mu = attn->centres.to_vector(), ls = attn->log_scale.to_vector(),
                                 la = attn->log_amp.to_vector();
        SplatLayerStats s{.layer = layer, .heads = H, .splats = K};
        for (int64_t hd = 0; hd < H; ++hd) {
            std::vector<double> usage(K, 0.0), cj(K), lk(K), lq(K), ell(K), log_z(K), rate(K, 0.0), read(K, 0.0);
            for (int64_t j = 0; j < K; ++j) {
                cj[j] = 0.5 * std::exp(-2.0 * ls[hd * K + j]);
                if (o.log_decay.defined()) rate[j] = std::exp(double(o.log_decay.at({hd, j})));
                if (o.read_bias.defined()) read[j] = o.read_bias.at({hd, j});
                s.mean_scale += std::exp(double(ls[hd * K + j]));
            }
            for (int64_t b = 0; b < B; ++b) {
                std::fill(log_z.begin(), log_z.end(), -std::numeric_limits<double>::infinity());
                for (int64_t t = 0; t < T; ++t) {
                    const float* qt = &q[size_t(((b * H + hd) * T + t) * D)];
                    const float* kt = &k[size_t(((b * H + hd) * T + t) * D)];
                    for (int64_t j = 0; j < K; ++j) {
                        const float* mj = &mu[size_t((hd * K + j) * D)];
                        double dk = 0, dq = 0;
                        for (int64_t d = 0; d < D; ++d)
                            dk += (double(kt[d]) - mj[d]) * (double(kt[d]) - mj[d]),
                                dq += (double(qt[d]) - mj[d]) * (double(qt[d]) - mj[d]);
                        lk[j] = la[hd * K + j] - cj[j] * dk;
                        if (o.send_bias.defined()) lk[j] += o.send_bias.at({b, hd, t, j});
                        lq[j] = read[j] - cj[j] * dq;
                    }
                    // With top-p routing token t writes to / reads from its picked splats only (an
                    // unpicked or empty read splat gets ℓ = −∞; a token with nothing to read uses none).
                    double m = -std::numeric_limits<double>::infinity();
                    for (int64_t j = 0; j < K; ++j) {
                        log_z[j] -= rate[j];  // decayed; z_t includes token t
                        if (splat_picked(lk.data(), K, o.top, j)) log_z[j] = log_add(log_z[j], lk[j]);
                    }
                    for (int64_t j = 0; j < K; ++j) {
                        ell[j] = splat_picked(lq.data(), K, o.top, j) ? lq[j] + log_z[j] : -INFINITY;
                        m = std::max(m, ell[j]);
                    }
                    if (m == -INFINITY) continue;
                    double sum = 0;
                    for (int64_t j = 0; j < K; ++j) sum += (ell[j] = std::exp(ell[j] - m));
                    for (int64_t j = 0; j < K; ++j) usage[j] += ell[j] / sum;
                }
            }
            double entropy = 0;
            for (int64_t j = 0; j < K; ++j) {
                const double p = usage[j] / double(B * T);
                if (p > 0) entropy -= p * std::log(p);
                if (p < kDeadShare / double(K)) ++s.dead;
            }
            s.entropy += K > 1 ? entropy / std::log(double(K)) : 1.0;
        }
        s.mean_scale /= double(H * K);
        s.entropy /= double(H);
        out.push_back(s);
    }
    return out;
}

}  // namespace splatlm
