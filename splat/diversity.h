// diversity.h — an optional training loss that keeps the splats of one head from collapsing onto each
// other. For every head with centres μ_i and scales s_i (i = 1..K):
//
//   R = mean over (splat layer, head, pair i < j of live splats) of  exp(−‖μ_i − μ_j‖² / (2·(s_i² + s_j²)))
//
// (An empty slot, splat_attention.h's kRetiredLogAmp, takes part in no pair: its centre is where the
// last splat there died or where no splat was ever born, and pushing live splats away from it would
// only spread them from nothing.)
//
// Why this form: up to a constant, it is the overlap ∫ N(x; μ_i, s_i²I)·N(x; μ_j, s_j²I) dx of the two
// splats' Gaussians (their convolution evaluated at the distance), so "close" is measured in units of
// the splats' own widths; it is 1 for coincident centres, → 0 once they are a few widths apart, and
// its gradient fades with distance, so it pushes apart only splats that overlap and never drives
// centres off to infinity. R ∈ [0, 1] whatever K, D or the number of layers.
//
// Only the centres are pushed: the scales enter as constants (no gradient). Otherwise the cheapest way
// to lower R would be to shrink every splat, which sharpens the attention instead of spreading it.
// Exactly coincident centres are a stationary point (the pull is ∝ μ_i − μ_j); any difference, even
// float round-off, gets pushed apart.
#pragma once
#include <cmath>

#include "nn/module.h"

namespace splatlm {

// R over every splat attention in `model`: the modules holding parameters named "<prefix>centres"
// [H, K, D] and "<prefix>log_scale" [H, K] (SplatAttention, SplatLocalAttention, ...), the live slots
// those whose "<prefix>log_amp" is above kRetiredLogAmp / 2 (all, without one). Heads with fewer than
// two live splats have no pairs. A scalar tensor with history back to the centres. Errors when the
// model has no splat attention with at least two live splats in a head.
Tensor splat_diversity_loss(const Module& model);

// The same overlap of one pair in float64, from the squared centre distance and the two squared
// scales (splat health counts pairs above a threshold as collapsed: splat/splat_health.h).
inline double gaussian_overlap(double distance2, double scale2_i, double scale2_j) {
    return std::exp(-distance2 / (2.0 * (scale2_i + scale2_j)));
}

}  // namespace splatlm
