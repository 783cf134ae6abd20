// splat_health.cpp — per-splat health from the op's own weights, and its tracker (splat_health.h).
#include "splat/splat_health.h"

#include <cmath>

#include "autograd/graph.h"
#include "splat/diversity.h"
#include "splat/splat_attention.h"
#include "splat/splat_stats.h"
#include "tensor/error.h"

namespace splatlm {

std::vector<double> coverage_in_scales(const Points& keys, const Points& centres, const std::vector<double>& scales) {
    std::vector<double> out(size_t(keys.count), INFINITY);
    for (int64_t t = 0; t < keys.count; ++t)
        for (int64_t j = 0; j < centres.count; ++j)
            out[t] = std::min(out[t], std::sqrt(squared_distance(keys.row(t), centres.row(j), keys.dim)) / scales[j]);
    return out;
}

namespace {

// Head h's centres and scales as float64 points.
Points head_centres(const SplatAttention& attn, int64_t h, std::vector<double>& scales) {
    const int64_t K = attn.splats(), D = attn.centres.size(2);
    const std::vector<float> mu = attn.centres.to_vector(), ls = attn.log_scale.to_vector();
    Points c{.count = K, .dim = D, .x = std::vector<double>(size_t(K * D))};
    scales.assign(size_t(K), 0.0);
    for (int64_t j = 0; j < K; ++j) {
        scales[j] = std::exp(double(ls[h * K + j]));
        for (int64_t d = 0; d < D; ++d) c.x[size_t(j * D + d)] = mu[(h * K + j) * D + d];
    }
    return c;
}

HeadHealth head_health(SplatAttention& attn, const QKV& qkv, const SplatOptions& o, const std::vector<float>& pi, int64_t h) {
    const int64_t B = qkv.k.size(0), H = qkv.k.size(1), T = qkv.k.size(2), K = attn.splats();
    HeadHealth out;
    out.splats.resize(size_t(K));
    const std::vector<double> usage = splat_usage(pi, B, H, T, K, h);
    const std::vector<float> decay = attn.log_decay ? attn.log_decay->to_vector() : std::vector<float>{};
    for (int64_t b = 0; b < B; ++b) {
        const std::vector<float> w =
            splat_write_shares_reference(qkv.q, qkv.k, attn.centres, attn.log_scale, attn.log_amp, b, h, o).to_vector();
        for (int64_t t = 0; t < T; ++t)
            for (int64_t j = 0; j < K; ++j) out.splats[j].write_share += w[t * K + j] / double(B * T);
    }
    std::vector<double> scales;
    const Points centres = head_centres(attn, h, scales);
    for (int64_t j = 0; j < K; ++j) {
        SplatHealth& s = out.splats[j];
        s.read_share = usage[j];
        s.scale = scales[j];
        s.half_life = decay.empty() ? INFINITY : std::log(2.0) / std::exp(double(decay[h * K + j]));
        for (int64_t i = 0; i < j; ++i)
            if (gaussian_overlap(squared_distance(centres.row(i), centres.row(j), centres.dim), scales[i] * scales[i],
                                 scales[j] * scales[j]) > kCollapsedOverlap)
                ++out.collapsed_pairs;
    }
    const Points keys = head_points(qkv.k, h);
    out.keys = keys.count;
    for (double c : coverage_in_scales(keys, centres, scales)) out.uncovered_keys += c > kUncoveredScales;
    return out;
}

}  // namespace

std::vector<LayerHealth> measure_splat_health(GPT& model, const Indices& ids) {
    SPLATLM_CHECK(ids.shape.size() == 2 && ids.shape[1] <= model.config().context, "splat health: ids must be [B, T ≤ context]");
    NoGradGuard no_grad;
    std::vector<LayerHealth> out;
    for (int64_t layer = 0; layer < model.config().layers; ++layer) {
        auto* attn = dynamic_cast<SplatAttention*>(&model.block(layer).attention());
        if (!attn) continue;
        const Tensor x = model.attention_input(ids, layer);
        const QKV qkv = attn->head_views(x);
        const SplatOptions o = attn->options(x);
        const std::vector<float> pi =
            splat_read_weights(qkv.q, qkv.k, attn->centres, attn->log_scale, attn->log_amp, o).to_vector();
        LayerHealth l;
        l.layer = layer;
        for (int64_t h = 0; h < qkv.k.size(1); ++h) l.heads.push_back(head_health(*attn, qkv, o, pi, h));
        out.push_back(std::move(l));
    }
    return out;
}

void SplatHealthTracker::push(Life& life, const SplatHealth& h) {
    life.recent.push_back(h);
    while (life.recent.size() > ring_) life.recent.pop_front();
}

void SplatHealthTracker::record(int64_t step, std::vector<LayerHealth>& health) {
    for (LayerHealth& l : health)
        for (size_t h = 0; h < l.heads.size(); ++h) {
            const int64_t K = int64_t(l.heads[h].splats.size());
            for (int64_t j = 0; j < K; ++j) {
                SplatHealth& s = l.heads[h].splats[j];
                Life& life = lives_[{l.layer, int64_t(h), j}];
                life.dead_streak = s.read_share < kDeadShare / double(K) ? life.dead_streak + 1 : 0;
                s.dead_streak = life.dead_streak;
                s.age = step - life.placed_at;
                push(life, s);
            }
        }
}

bool SplatHealthTracker::dead(const Id& id) const {
    auto it = lives_.find(id);
    return it != lives_.end() && it->second.dead_streak >= dead_after_;
}

void SplatHealthTracker::placed(const Id& id, int64_t step) {
    Life& life = lives_[id];
    life.dead_streak = 0, life.placed_at = step;
}

void SplatHealthTracker::restore(const Id& id, const SplatHealth& logged, int64_t step) {
    Life& life = lives_[id];
    life.dead_streak = logged.dead_streak, life.placed_at = step - logged.age;
    push(life, logged);
}

const SplatHealthTracker::Life& SplatHealthTracker::life(const Id& id) const {
    static const Life none;
    auto it = lives_.find(id);
    return it == lives_.end() ? none : it->second;
}

}  // namespace splatlm
