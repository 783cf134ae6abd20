// splat_health.cpp — per-splat health from the op's own weights, and its tracker (splat_health.h).
#include "splat/splat_health.h"

#include <algorithm>
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

}  // namespace

Points live_centres(const SplatAttention& attn, int64_t h, std::vector<double>& scales, std::vector<int64_t>* slots) {
    const int64_t K = attn.splats(), D = attn.centres.size(2);
    const std::vector<float> mu = attn.centres.to_vector(), ls = attn.log_scale.to_vector();
    const std::vector<bool> live = attn.live_mask();
    Points c{.count = 0, .dim = D, .x = {}};
    scales.clear();
    if (slots) slots->clear();
    for (int64_t j = 0; j < K; ++j) {
        if (!live[h * K + j]) continue;
        scales.push_back(std::exp(double(ls[h * K + j])));
        c.x.insert(c.x.end(), mu.begin() + (h * K + j) * D, mu.begin() + (h * K + j + 1) * D);
        ++c.count;
        if (slots) slots->push_back(j);
    }
    return c;
}

namespace {

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
    const std::vector<bool> live = attn.live_mask();
    const std::vector<float> log_scale = attn.log_scale.to_vector();
    for (int64_t j = 0; j < K; ++j) {
        SplatHealth& s = out.splats[j];
        s.alive = live[h * K + j];
        s.read_share = usage[j];
        s.scale = std::exp(double(log_scale[h * K + j]));
        s.half_life = decay.empty() ? INFINITY : std::log(2.0) / std::exp(double(decay[h * K + j]));
    }
    std::vector<double> scales;  // pairs and coverage among the live splats only
    const Points centres = live_centres(attn, h, scales);
    for (int64_t j = 0; j < centres.count; ++j)
        for (int64_t i = 0; i < j; ++i)
            if (gaussian_overlap(squared_distance(centres.row(i), centres.row(j), centres.dim), scales[i] * scales[i],
                                 scales[j] * scales[j]) > kCollapsedOverlap)
                ++out.collapsed_pairs;
    const Points keys = head_points(qkv.k, h), queries = head_points(qkv.q, h);
    out.keys = keys.count;
    for (double c : coverage_in_scales(keys, centres, scales)) out.uncovered_keys += c > kUncoveredScales;
    for (double c : coverage_in_scales(queries, centres, scales)) out.uncovered_queries += c > kUncoveredScales;
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
            int64_t live = 0;
            for (const SplatHealth& s : l.heads[h].splats) live += s.alive;
            for (int64_t j = 0; j < K; ++j) {
                SplatHealth& s = l.heads[h].splats[j];
                Life& life = lives_[{l.layer, int64_t(h), j}];
                const bool unread = s.read_share < kDeadShare / double(std::max<int64_t>(live, 1));
                life.dead_streak = s.alive && unread ? life.dead_streak + 1 : 0;  // an empty slot is not dead
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
