// splat_stats.cpp — per-layer usage statistics from the op's read-out weights (splat_stats.h).
#include "splat/splat_stats.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "autograd/graph.h"
#include "splat/splat_attention.h"
#include "tensor/error.h"

namespace splatlm {

std::vector<double> splat_usage(const std::vector<float>& pi, int64_t B, int64_t H, int64_t T, int64_t K, int64_t h) {
    std::vector<double> usage(size_t(K), 0.0);
    for (int64_t b = 0; b < B; ++b)
        for (int64_t t = 0; t < T; ++t) {
            const float* row = &pi[size_t(((b * H + h) * T + t) * K)];
            double sum = 0;  // (< 1 by ε; 0 for a routed token with nothing to read, which uses none)
            for (int64_t j = 0; j < K; ++j) sum += row[j];
            if (sum > 0)
                for (int64_t j = 0; j < K; ++j) usage[j] += row[j] / sum;
        }
    for (double& u : usage) u /= double(B * T);
    return usage;
}

double mutual_information(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
    SPLATLM_CHECK(a.size() == b.size() && !a.empty(), "mutual_information: two non-empty sequences of one length");
    std::map<int64_t, double> pa, pb;
    std::map<std::pair<int64_t, int64_t>, double> pab;
    const double n = double(a.size());
    for (size_t i = 0; i < a.size(); ++i) pa[a[i]] += 1 / n, pb[b[i]] += 1 / n, pab[{a[i], b[i]}] += 1 / n;
    double mi = 0;
    for (const auto& [ab, p] : pab) mi += p * std::log2(p / (pa[ab.first] * pb[ab.second]));
    return std::max(mi, 0.0);
}

namespace {
// Per token of head h, the splat it reads most (argmax of π over the K slots).
std::vector<int64_t> assignments(const std::vector<float>& pi, int64_t B, int64_t H, int64_t T, int64_t K, int64_t h) {
    std::vector<int64_t> out;
    for (int64_t b = 0; b < B; ++b)
        for (int64_t t = 0; t < T; ++t) {
            const float* row = &pi[size_t(((b * H + h) * T + t) * K)];
            out.push_back(int64_t(std::max_element(row, row + K) - row));
        }
    return out;
}
}  // namespace

std::vector<SplatLayerStats> splat_stats(GPT& model, const Indices& ids) {
    SPLATLM_CHECK(ids.shape.size() == 2 && ids.shape[0] >= 1 && ids.shape[1] >= 1,
                  "splat_stats: ids must be a non-empty [B, T] batch");
    const GPTConfig& c = model.config();
    const int64_t B = ids.shape[0], T = ids.shape[1], H = c.heads;
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
        // π [B, H, T, K]: how much each token reads from each splat, as the op computes it.
        const std::vector<float> pi =
            splat_read_weights(h.q, h.k, attn->centres, attn->log_scale, attn->log_amp, o).to_vector();
        const std::vector<float> ls = attn->log_scale.to_vector();
        const std::vector<bool> live = attn->live_mask();  // empty slots (splat_attention.h) are left out
        SplatLayerStats s{.layer = layer, .heads = H, .splats = K};
        int64_t live_total = 0;
        std::vector<int64_t> token(ids.ids.begin(), ids.ids.end()), position;
        for (int64_t b = 0; b < B; ++b)
            for (int64_t t = 0; t < T; ++t) position.push_back(t);
        for (int64_t hd = 0; hd < H; ++hd) {
            const std::vector<double> usage = splat_usage(pi, B, H, T, K, hd);
            const int64_t n = attn->live_splats(hd);
            live_total += n;
            double entropy = 0;
            for (int64_t j = 0; j < K; ++j) {
                if (!live[hd * K + j]) continue;
                s.mean_scale += std::exp(double(ls[hd * K + j]));
                const double p = usage[j];
                if (p > 0) entropy -= p * std::log(p);
                if (p < kDeadShare / double(n)) ++s.dead;
            }
            s.entropy += n > 1 ? entropy / std::log(double(n)) : 1.0;
            const std::vector<int64_t> assigned = assignments(pi, B, H, T, K, hd);
            s.mi_token += mutual_information(assigned, token) / double(H);
            s.mi_position += mutual_information(assigned, position) / double(H);
        }
        s.mean_scale /= double(std::max<int64_t>(live_total, 1));
        s.entropy /= double(H);
        out.push_back(s);
    }
    return out;
}

}  // namespace splatlm
