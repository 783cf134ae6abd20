// splat_rescue.cpp — dead splats re-seated at the worst-covered keys (splat_rescue.h).
#include "splat/splat_rescue.h"

#include <algorithm>
#include <cmath>

#include "autograd/graph.h"
#include "splat/splat_attention.h"
#include "tensor/error.h"

namespace splatlm {

namespace {

// √(mean squared distance from key `i` to its m nearest other keys), at least `floor`.
double local_spread(const Points& keys, int64_t i, int64_t m, double floor) {
    std::vector<double> d2;
    for (int64_t t = 0; t < keys.count; ++t)
        if (t != i) d2.push_back(squared_distance(keys.row(i), keys.row(t), keys.dim));
    m = std::min<int64_t>(m, int64_t(d2.size()));
    if (m == 0) return floor;
    std::partial_sort(d2.begin(), d2.begin() + m, d2.end());
    double s = 0;
    for (int64_t t = 0; t < m; ++t) s += d2[t];
    return std::max(std::sqrt(s / double(m)), floor);
}

void rescue_head(SplatAttention& attn, const Points& keys, SplatHealthTracker& tracker, int64_t step, int64_t layer,
                 int64_t h, std::vector<SplatEvent>& events) {
    const int64_t K = attn.splats(), D = keys.dim;
    std::vector<int64_t> dead, live;
    for (int64_t j = 0; j < K; ++j) (tracker.dead({layer, h, j}) ? dead : live).push_back(j);
    if (dead.empty()) return;
    float* mu = attn.centres.data();
    float* log_scale = attn.log_scale.data();
    Points live_centres{.count = int64_t(live.size()), .dim = D, .x = {}};
    std::vector<double> live_scales;
    for (int64_t j : live) {
        live_centres.x.insert(live_centres.x.end(), mu + (h * K + j) * D, mu + (h * K + j + 1) * D);
        live_scales.push_back(std::exp(double(log_scale[h * K + j])));
    }
    std::vector<double> coverage = live.empty() ? std::vector<double>(size_t(keys.count), INFINITY)
                                                : coverage_in_scales(keys, live_centres, live_scales);
    double radius2 = 0;  // the floor of a new scale: 1% of the keys' rms norm
    for (double x : keys.x) radius2 += x * x / double(keys.count);
    const double floor = std::max(0.01 * std::sqrt(radius2), 1e-6);
    for (int64_t j : dead) {
        const int64_t worst = int64_t(std::max_element(coverage.begin(), coverage.end()) - coverage.begin());
        const double scale = local_spread(keys, worst, std::max<int64_t>(4, keys.count / K), floor);
        const SplatHealthTracker::Life& life = tracker.life({layer, h, j});
        events.push_back({.step = step, .layer = layer, .head = h, .splat = j, .kind = "rescue", .reason = "dead",
                          .read_share = life.recent.empty() ? 0.0 : life.recent.back().read_share,
                          .dead_streak = life.dead_streak, .key_coverage = coverage[worst],
                          .old_scale = std::exp(double(log_scale[h * K + j])), .new_scale = scale});
        for (int64_t d = 0; d < D; ++d) mu[(h * K + j) * D + d] = float(keys.row(worst)[d]);
        log_scale[h * K + j] = float(std::log(scale));
        attn.log_amp.data()[h * K + j] = 0.f;
        tracker.placed({layer, h, j}, step);
        for (int64_t t = 0; t < keys.count; ++t)
            coverage[t] = std::min(coverage[t], std::sqrt(squared_distance(keys.row(t), keys.row(worst), D)) / scale);
    }
}

}  // namespace

std::vector<SplatEvent> rescue_dead_splats(GPT& model, const Indices& ids, SplatHealthTracker& tracker, int64_t step) {
    NoGradGuard no_grad;
    std::vector<SplatEvent> events;
    for (int64_t layer = 0; layer < model.config().layers; ++layer) {
        auto* attn = dynamic_cast<SplatAttention*>(&model.block(layer).attention());
        if (!attn) continue;
        SPLATLM_CHECK(attn->centres.device() == Device::CPU, "splat rescue: the model must be on the CPU");
        bool any = false;
        for (int64_t h = 0; h < attn->centres.size(0) && !any; ++h)
            for (int64_t j = 0; j < attn->splats() && !any; ++j) any = tracker.dead({layer, h, j});
        if (!any) continue;
        const Tensor k = attn->head_views(model.attention_input(ids, layer)).k;
        for (int64_t h = 0; h < attn->centres.size(0); ++h) rescue_head(*attn, head_points(k, h), tracker, step, layer, h, events);
    }
    return events;
}

}  // namespace splatlm
