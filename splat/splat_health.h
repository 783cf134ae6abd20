// splat_health.h — how each splat of a model is doing, measured at every evaluation (and before
// every adaptation), and a tracker that remembers recent health per splat. The trainer writes it
// to <run>/splat_health.jsonl and counts per layer to metrics.jsonl (train/splat_adaptation.h);
// the life events (splat/splat_lifecycle.h) act on it. Tests: `./bin/tests "[splat_health]"`.
//
// Per splat j of a head, on a batch of token windows:
//   write share  mean over tokens of softmax_j lk[t,j] over the splats t writes to (where writes go)
//   read share   mean over tokens of π_tj / Σ_j π_tj (the usage of splat_stats.h)
//   scale        s_j = exp(log_scale_j);  half-life ln 2 / r_j tokens with splat_decay (∞ without)
//   age          steps since the splat was last placed (step 0 for the first splats)
//   dead now     read share < kDeadShare / (live splats of the head); *dead* when so for `dead_after`
//                health checks in a row (an empty slot is never dead)
// Per head, among its live splats:
//   collapsed pairs  i < j whose Gaussian overlap exp(−‖μ_i − μ_j‖² / (2(s_i² + s_j²))) > kCollapsedOverlap
//   poorly covered   keys (and queries) farther than kUncoveredScales scales from every centre: min_j ‖k − μ_j‖ / s_j
#pragma once
#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <vector>

#include "nn/gpt.h"
#include "splat/splat_init.h"

namespace splatlm {

inline constexpr double kCollapsedOverlap = 0.9;
inline constexpr double kUncoveredScales = 3.0;

struct SplatHealth {
    bool alive = true;  // false for an empty slot (splat/splat_attention.h), which is never dead
    double write_share = 0, read_share = 0, scale = 0, half_life = 0;  // half_life = ∞ without decay
    int64_t age = 0, dead_streak = 0;  // filled by SplatHealthTracker::record
};
struct HeadHealth {
    std::vector<SplatHealth> splats;
    int64_t collapsed_pairs = 0, uncovered_keys = 0, uncovered_queries = 0, keys = 0;  // B·T keys (and queries)
};
struct LayerHealth {
    int64_t layer = 0;
    std::vector<HeadHealth> heads;
};

// ids: [B, T] windows. One entry per splat layer, in layer order (ages and streaks left 0).
std::vector<LayerHealth> measure_splat_health(GPT& model, const Indices& ids);

class SplatAttention;
// Head h's live centres and their scales as float64 points (and, with `slots`, which slot each is).
Points live_centres(const SplatAttention& attn, int64_t h, std::vector<double>& scales, std::vector<int64_t>* slots = nullptr);

// Per key, its distance to the nearest of the given centres in units of that centre's scale.
std::vector<double> coverage_in_scales(const Points& keys, const Points& centres, const std::vector<double>& scales);

// Per splat (layer, head, splat): the dead streak, when it was last placed, and a ring of its
// last `ring` health checks. Rebuilt on resume from the logs (train/splat_adaptation.cpp).
class SplatHealthTracker {
  public:
    using Id = std::array<int64_t, 3>;  // layer, head, splat
    struct Life {
        int64_t dead_streak = 0, placed_at = 0;
        std::deque<SplatHealth> recent;  // oldest first, at most `ring`
    };
    explicit SplatHealthTracker(int64_t dead_after, size_t ring = 8) : dead_after_(dead_after), ring_(ring) {}
    // Updates streaks and rings from one health check at `step`, and fills in each splat's age and streak.
    void record(int64_t step, std::vector<LayerHealth>& health);
    bool dead(const Id& id) const;
    void placed(const Id& id, int64_t step);  // re-seated: a fresh streak, age 0
    void restore(const Id& id, const SplatHealth& logged, int64_t step);  // one logged check, replayed
    const Life& life(const Id& id) const;
    int64_t dead_after() const { return dead_after_; }

  private:
    void push(Life& life, const SplatHealth& h);
    int64_t dead_after_;
    size_t ring_;
    std::map<Id, Life> lives_;
};

}  // namespace splatlm
