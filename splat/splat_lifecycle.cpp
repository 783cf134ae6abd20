// splat_lifecycle.cpp — seat, empty, split and merge splat slots, and the policy that runs them
// between optimiser steps (splat_lifecycle.h).
#include "splat/splat_lifecycle.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "autograd/graph.h"
#include "splat/diversity.h"
#include "splat/splat_attention.h"
#include "tensor/error.h"
#include "tensor/principal_axes.h"

namespace splatlm {

std::vector<SlotSlice> slot_parameters(const SplatAttention& attn, int64_t head, int64_t splat) {
    const int64_t K = attn.splats(), D = attn.centres.size(2), at = head * K + splat;
    std::vector<SlotSlice> out{{attn.centres, at * D, D}, {attn.log_scale, at, 1}, {attn.log_amp, at, 1}};
    if (attn.log_decay) out.push_back({*attn.log_decay, at, 1});
    for (const Linear* gate : {attn.send_gate, attn.decay_gate})  // a row per slot: C → H·K
        if (gate) {
            const int64_t C = gate->weight.size(1);
            out.push_back({gate->weight, at * C, C});
            out.push_back({*gate->bias, at, 1});
        }
    if (Tensor* flow = attn.flow_above()) out.push_back({*flow, at * D, D});  // how the layer above reads slot j
    return out;
}

void seat_splat(SplatAttention& attn, int64_t head, int64_t splat, const double* centre, double scale) {
    const int64_t K = attn.splats(), D = attn.centres.size(2), at = head * K + splat;
    for (int64_t d = 0; d < D; ++d) attn.centres.data()[at * D + d] = float(centre[d]);
    attn.log_scale.data()[at] = float(std::log(scale));
    attn.log_amp.data()[at] = 0.f;
}

void empty_slot(SplatAttention& attn, int64_t head, int64_t splat) {
    attn.log_amp.data()[head * attn.splats() + splat] = kRetiredLogAmp;
}

void split_splat(SplatAttention& attn, int64_t head, int64_t parent, int64_t child, const double* direction, double offset) {
    std::vector<SlotSlice> from = slot_parameters(attn, head, parent), to = slot_parameters(attn, head, child);
    for (size_t i = 0; i < from.size(); ++i)
        std::copy_n(from[i].param.data() + from[i].first, from[i].count, to[i].param.data() + to[i].first);
    const int64_t K = attn.splats(), D = attn.centres.size(2);
    float* amp = attn.log_amp.data();
    amp[head * K + parent] = amp[head * K + child] = float(double(amp[head * K + parent]) - std::log(2.0));
    float* p = attn.centres.data() + (head * K + parent) * D;
    float* c = attn.centres.data() + (head * K + child) * D;
    for (int64_t d = 0; d < D; ++d) {
        const double mu = p[d];
        p[d] = float(mu + offset * direction[d]);
        c[d] = float(mu - offset * direction[d]);
    }
}

void merge_splats(SplatAttention& attn, int64_t head, int64_t keep, int64_t drop) {
    std::vector<SlotSlice> a = slot_parameters(attn, head, keep), b = slot_parameters(attn, head, drop);
    const int64_t D = attn.centres.size(2);
    const double amp_a = attn.log_amp.data()[a[2].first], amp_b = attn.log_amp.data()[b[2].first];
    const double wa = 1.0 / (1.0 + std::exp(amp_b - amp_a)), wb = 1.0 - wa;  // a_i / (a_i + a_j), stably
    float* mu_a = attn.centres.data() + a[0].first;
    const float* mu_b = attn.centres.data() + b[0].first;
    const double sa = std::exp(2.0 * attn.log_scale.data()[a[1].first]), sb = std::exp(2.0 * attn.log_scale.data()[b[1].first]);
    std::vector<double> mu(static_cast<size_t>(D));
    double spread_a = 0, spread_b = 0;
    for (int64_t d = 0; d < D; ++d) mu[d] = wa * mu_a[d] + wb * mu_b[d];
    for (int64_t d = 0; d < D; ++d)
        spread_a += (mu_a[d] - mu[d]) * (mu_a[d] - mu[d]), spread_b += (mu_b[d] - mu[d]) * (mu_b[d] - mu[d]);
    const double s2 = wa * (sa + spread_a / double(D)) + wb * (sb + spread_b / double(D));
    for (int64_t d = 0; d < D; ++d) mu_a[d] = float(mu[d]);
    attn.log_scale.data()[a[1].first] = float(0.5 * std::log(s2));
    attn.log_amp.data()[a[2].first] = float(amp_a + std::log1p(std::exp(amp_b - amp_a)));  // log(a_i + a_j)
    for (size_t i = 3; i < a.size(); ++i) {  // decay, gates, the flow row above: the same weighted mean
        float* x = a[i].param.data() + a[i].first;
        const float* y = b[i].param.data() + b[i].first;
        for (int64_t e = 0; e < a[i].count; ++e) x[e] = float(wa * x[e] + wb * y[e]);
    }
    empty_slot(attn, head, drop);
}

LifePolicy parse_life_policy(const std::string& splat_adapt) {
    LifePolicy p;
    if (splat_adapt == "off") return p;
    std::stringstream in(splat_adapt);
    for (std::string kind; std::getline(in, kind, ',');) {
        bool* flag = kind == "rescue" ? &p.rescue : kind == "death" ? &p.death : kind == "birth" ? &p.birth
                   : kind == "mitosis" ? &p.mitosis : kind == "merge" ? &p.merge : nullptr;
        SPLATLM_CHECK(flag, "config key 'splat_adapt': unknown adaptation '", kind,
                      "' (expected off, or a comma list of rescue, death, birth, mitosis, merge)");
        *flag = true;
    }
    return p;
}

namespace {

// √(mean squared distance from point `i` to its m nearest other points), at least `floor`.
double local_spread(const Points& points, int64_t i, int64_t m, double floor) {
    std::vector<double> d2;
    for (int64_t t = 0; t < points.count; ++t)
        if (t != i) d2.push_back(squared_distance(points.row(i), points.row(t), points.dim));
    m = std::min<int64_t>(m, int64_t(d2.size()));
    if (m == 0) return floor;
    std::partial_sort(d2.begin(), d2.begin() + m, d2.end());
    double s = 0;
    for (int64_t t = 0; t < m; ++t) s += d2[t];
    return std::max(std::sqrt(s / double(m)), floor);
}

// One head's adaptation: its slots, the points it is judged on, and what already happened to it.
struct Head {
    SplatAttention& attn;
    int64_t layer, h, step;
    const HeadHealth& health;
    const Points &keys, &targets;  // targets: where rescue and birth seat (keys or queries)
    const LifePolicy& policy;
    std::vector<SplatEvent>& events;
    std::vector<bool> touched = std::vector<bool>(size_t(attn.splats()), false);  // one event per slot per adaptation

    int64_t K() const { return attn.splats(); }
    int64_t at(int64_t j) const { return h * K() + j; }
    bool live(int64_t j) const { return is_live(attn.log_amp.data()[at(j)]); }
    double scale(int64_t j) const { return std::exp(double(attn.log_scale.data()[at(j)])); }
    const float* centre(int64_t j) const { return attn.centres.data() + at(j) * keys.dim; }
    int64_t level(int64_t j) const { return j / (K() / attn.levels()); }
    int64_t live_count() const {
        int64_t n = 0;
        for (int64_t j = 0; j < K(); ++j) n += live(j);
        return n;
    }
    double distance2(const double* x, int64_t j) const {
        double s = 0;
        for (int64_t d = 0; d < keys.dim; ++d) s += (x[d] - centre(j)[d]) * (x[d] - centre(j)[d]);
        return s;
    }
    // An empty slot no event has touched yet (of `lvl`, or any level for −1); −1 when there is none.
    int64_t free_slot(int64_t lvl) const {
        for (int64_t j = 0; j < K(); ++j)
            if (!live(j) && !touched[j] && (lvl < 0 || level(j) == lvl)) return j;
        return -1;
    }
    // Per target point, min over the live splats not in `except` of ‖x − μ_j‖ / s_j.
    std::vector<double> coverage(const std::vector<int64_t>& except = {}) const {
        std::vector<double> c(size_t(targets.count), INFINITY);
        for (int64_t j = 0; j < K(); ++j)
            if (live(j) && std::find(except.begin(), except.end(), j) == except.end())
                for (int64_t t = 0; t < targets.count; ++t)
                    c[t] = std::min(c[t], std::sqrt(distance2(targets.row(t), j)) / scale(j));
        return c;
    }
    void event(std::vector<int64_t> splats, const char* kind, const char* reason,
               std::vector<std::pair<std::string, double>> numbers) {
        for (int64_t j : splats) touched[j] = true;
        events.push_back({.step = step, .layer = layer, .head = h, .splats = std::move(splats), .kind = kind,
                          .reason = reason, .numbers = std::move(numbers)});
    }
    // Seats slot j at the worst covered target (and counts its neighbourhood covered); its coverage.
    double seat_at_worst(int64_t j, std::vector<double>& cover, double& new_scale) {
        const int64_t worst = int64_t(std::max_element(cover.begin(), cover.end()) - cover.begin());
        double radius2 = 0;  // the floor of a new scale: 1% of the targets' rms norm
        for (double x : targets.x) radius2 += x * x / double(targets.count);
        new_scale = local_spread(targets, worst, std::max<int64_t>(4, targets.count / K()),
                                 std::max(0.01 * std::sqrt(radius2), 1e-6));
        const double was = cover[worst];
        seat_splat(attn, h, j, targets.row(worst), new_scale);
        for (int64_t t = 0; t < targets.count; ++t)
            cover[t] = std::min(cover[t], std::sqrt(distance2(targets.row(t), j)) / new_scale);
        return was;
    }

    void merge() {
        for (int64_t i = 0; i < K(); ++i)
            for (int64_t j = i + 1; j < K(); ++j) {
                if (!live(i) || !live(j) || touched[i] || touched[j] || level(i) != level(j)) continue;
                if (live_count() <= policy.min_splats) return;
                std::vector<double> mu(static_cast<size_t>(keys.dim));
                for (int64_t d = 0; d < keys.dim; ++d) mu[d] = centre(i)[d];
                const double d2 = distance2(mu.data(), j), si = scale(i), sj = scale(j);
                const double overlap = gaussian_overlap(d2, si * si, sj * sj);
                if (overlap <= kCollapsedOverlap) continue;
                merge_splats(attn, h, i, j);
                event({i, j}, "merge", "collapsed",
                      {{"overlap", overlap}, {"distance", std::sqrt(d2)}, {"scale_kept", si}, {"scale_emptied", sj}});
            }
    }

    void death_and_rescue(const SplatHealthTracker& tracker) {
        std::vector<int64_t> rescue;
        for (int64_t j = 0; j < K(); ++j) {
            if (!live(j) || touched[j] || !tracker.dead({layer, h, j})) continue;
            const SplatHealthTracker::Life& life = tracker.life({layer, h, j});
            const double share = life.recent.empty() ? 0.0 : life.recent.back().read_share;
            if (policy.death && live_count() > policy.min_splats) {
                empty_slot(attn, h, j);
                event({j}, "death", "dead", {{"read_share", share}, {"dead_streak", double(life.dead_streak)}});
            } else if (policy.rescue) {
                rescue.push_back(j);
            }
        }
        if (rescue.empty()) return;
        std::vector<double> cover = coverage(rescue);
        for (int64_t j : rescue) {
            const SplatHealthTracker::Life& life = tracker.life({layer, h, j});
            const double old_scale = scale(j);
            double new_scale = 0;
            const double was = seat_at_worst(j, cover, new_scale);
            event({j}, "rescue", "dead",
                  {{"read_share", life.recent.empty() ? 0.0 : life.recent.back().read_share},
                   {"dead_streak", double(life.dead_streak)}, {"coverage", was}, {"old_scale", old_scale},
                   {"new_scale", new_scale}});
        }
    }

    void mitosis() {
        int64_t n = 0;  // live at the health check
        for (const SplatHealth& s : health.splats) n += s.alive;
        const double overloaded = std::min(kOverloadShare / double(std::max<int64_t>(n, 1)), 0.5);
        std::vector<int64_t> loaded;
        for (int64_t j = 0; j < K(); ++j)
            if (live(j) && !touched[j] && health.splats[j].read_share > overloaded) loaded.push_back(j);
        std::stable_sort(loaded.begin(), loaded.end(), [&](int64_t a, int64_t b) {
            return health.splats[a].read_share > health.splats[b].read_share;
        });
        std::vector<int64_t> winner(size_t(keys.count), -1);  // per key, the live splat of largest affinity
        for (int64_t t = 0; t < keys.count; ++t) {
            double best = -INFINITY;
            for (int64_t j = 0; j < K(); ++j) {
                if (!live(j)) continue;
                const double lk = attn.log_amp.data()[at(j)] - distance2(keys.row(t), j) / (2 * scale(j) * scale(j));
                if (lk > best) best = lk, winner[t] = j;
            }
        }
        for (int64_t j : loaded) {
            const int64_t child = free_slot(level(j));
            if (child < 0) continue;
            Points won{.count = 0, .dim = keys.dim, .x = {}};
            for (int64_t t = 0; t < keys.count; ++t)
                if (winner[t] == j) won.x.insert(won.x.end(), keys.row(t), keys.row(t) + keys.dim), ++won.count;
            if (won.count < 2) continue;
            const PrincipalAxes axis = principal_axes(won.x, size_t(won.count), size_t(won.dim), 1);
            const double offset = kMitosisOffset * scale(j);
            split_splat(attn, h, j, child, axis.axis[0].data(), offset);
            event({j, child}, "mitosis", "overloaded",
                  {{"read_share", health.splats[j].read_share}, {"threshold", overloaded},
                   {"keys_won", double(won.count)}, {"axis_std", std::sqrt(axis.variance[0])}, {"offset", offset}});
        }
    }

    void birth() {
        std::vector<double> cover = coverage();
        for (int64_t j = free_slot(-1); j >= 0; j = free_slot(-1)) {
            const double uncovered =
                double(std::count_if(cover.begin(), cover.end(), [](double c) { return c > kUncoveredScales; })) /
                double(std::max<int64_t>(targets.count, 1));
            if (uncovered <= kBirthUncovered) return;
            double new_scale = 0;
            const double was = seat_at_worst(j, cover, new_scale);
            event({j}, "birth", "uncovered", {{"uncovered", uncovered}, {"coverage", was}, {"new_scale", new_scale}});
        }
    }
};

}  // namespace

std::vector<SplatEvent> adapt_splats(GPT& model, const Indices& ids, const std::vector<LayerHealth>& health,
                                     SplatHealthTracker& tracker, const LifePolicy& policy, int64_t step) {
    NoGradGuard no_grad;
    std::vector<SplatEvent> events;
    size_t index = 0;
    for (int64_t layer = 0; layer < model.config().layers; ++layer) {
        auto* attn = dynamic_cast<SplatAttention*>(&model.block(layer).attention());
        if (!attn) continue;
        SPLATLM_CHECK(attn->centres.device() == Device::CPU, "splat adaptation: the model must be on the CPU");
        SPLATLM_CHECK(index < health.size() && health[index].layer == layer, "splat adaptation: no health for layer ", layer);
        const LayerHealth& layer_health = health[index++];
        const QKV qkv = attn->head_views(model.attention_input(ids, layer));
        const size_t first = events.size();
        for (int64_t h = 0; h < attn->centres.size(0); ++h) {
            const Points keys = head_points(qkv.k, h);
            const Points queries = policy.seat_on_queries ? head_points(qkv.q, h) : Points{};
            Head head{.attn = *attn, .layer = layer, .h = h, .step = step, .health = layer_health.heads[h], .keys = keys,
                      .targets = policy.seat_on_queries ? queries : keys, .policy = policy, .events = events};
            if (policy.merge) head.merge();
            if (policy.death || policy.rescue) head.death_and_rescue(tracker);
            if (policy.mitosis) head.mitosis();
            if (policy.birth) head.birth();
        }
        for (size_t e = first; e < events.size(); ++e)
            for (int64_t j : events[e].splats) tracker.placed({layer, events[e].head, j}, step);
    }
    return events;
}

}  // namespace splatlm
