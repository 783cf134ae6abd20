// splat_hierarchy.h — the hierarchy picture: a splat layer's splats grouped by level.
//
// With config.splat_levels = L, the K splats of a head form L levels of K/L splats each, level of
// splat j = j / (K/L), each level with its own initial scale. The numbers are read by name from
// an attention module's parameters, so any module that names them this way can be drawn:
//   log_scale     [H, K]  required: splat scales s = exp(log_scale)
//   level_weight  [H, L]  when L > 1: the learned per-level weights (drawn as stored)
//   log_decay     [H, K]  when splat_decay is on: rate r = exp(log_decay) per token, drawn as the
//                         half-life ln 2 / r in tokens (how far back a write keeps half its weight)
// A parameter matches its name exactly or as the last part of a dotted name ("x.log_scale").
//
// The hierarchy picture (a grid, for L > 1; callers draw nothing for one level): "scale by splat" —
// heads × splats heatmap of log10 s with level-tagged columns ("L1:5" = splat 5, level 1); "mean
// scale per level" — one line per head, log y; "level weights" (heads × levels, diverging colours)
// when present. The decay strip (when log_decay exists, any L): per head, each splat's half-life
// as a dot on one log axis of tokens, coloured by level, with the context length marked.
#pragma once
#include <string>
#include <vector>

#include "nn/module.h"
#include "viz/canvas.h"

namespace splatlm::viz {

struct SplatHierarchy {
    int64_t heads = 0, splats = 0, levels = 1;
    std::vector<float> log_scale;     // [heads, splats]
    std::vector<float> level_weight;  // [heads, levels], empty when absent
    std::vector<float> log_decay;     // [heads, splats], empty when absent
    int64_t level_of(int64_t j) const { return j / (splats / levels); }
};

// Reads the parameters above from `attention`. Throws splatlm::Error when log_scale is missing,
// `levels` < 1 or does not divide the splats, or a parameter has the wrong shape.
SplatHierarchy read_hierarchy(const Module& attention, int64_t levels);

Canvas draw_hierarchy(const SplatHierarchy& hierarchy, const std::string& title);
// Throws splatlm::Error when the hierarchy has no log_decay.
Canvas draw_decay_strip(const SplatHierarchy& hierarchy, int64_t context, const std::string& title);

}  // namespace splatlm::viz
