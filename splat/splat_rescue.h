// splat_rescue.h — re-seating dead splats where the keys are poorly covered (SplatFlow's emergency
// rescue), between optimiser steps; K stays fixed. The trainer resets the moved splats' AdamW
// moments (train/splat_adaptation.h). Tests: `./bin/tests "[splat_rescue]"`.
//
// Per head with dead splats (SplatHealthTracker::dead): the coverage of each key of the batch by the
// live splats, c_t = min_{j live} ‖k_t − μ_j‖ / s_j, and then, farthest first, for each dead splat:
//   centre   μ = the key with the largest c_t (the worst covered),
//   scale    s = √(mean squared distance of its m nearest keys), m = max(4, keys / K) (local spread),
//   amplitude a = 1 (log a = 0);
// the new splat then covers the keys around it (c_t ← min(c_t, ‖k_t − μ‖ / s)) before the next is placed.
// Layers are rescued in order, each on the keys its earlier (already rescued) layers produce.
#pragma once
#include <string>
#include <vector>

#include "nn/gpt.h"
#include "splat/splat_health.h"

namespace splatlm {

struct SplatEvent {
    int64_t step = 0, layer = 0, head = 0, splat = 0;
    std::string kind, reason;          // "rescue", "dead"
    double read_share = 0;             // at the last health check
    int64_t dead_streak = 0;           // health checks in a row
    double key_coverage = 0;           // c_t of the chosen key before the move (in scales)
    double old_scale = 0, new_scale = 0;
};

// Re-seats every dead splat of `model` (on the CPU) on the keys of `ids` [B, T], marks them placed
// in `tracker` and returns one event each, in layer, head, splat order.
std::vector<SplatEvent> rescue_dead_splats(GPT& model, const Indices& ids, SplatHealthTracker& tracker, int64_t step);

}  // namespace splatlm
