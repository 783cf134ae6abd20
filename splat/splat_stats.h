// splat_stats.h — a few numbers per splat layer that say how a model uses its splats, logged at
// every evaluation (train/trainer.cpp → metrics.jsonl) and drawn over time (train/curves.h).
//
// On a batch of token windows, per layer with splat attention, per head h and token t, the
// read-out mixing weights over splats are (splat/splat_op.h)
//   π_tj = softmax_j (lq[t,j] + log z_t[j]),
// i.e. how token t's output is shared among the splats. Their average over every token of the
// batch, p_j = mean_t π_tj, is the head's *usage* of splat j. Per layer we report
//   mean_scale  mean over heads and live splats of s_j = exp(log_scale_j)
//   entropy     H(p) / log K averaged over heads: 1 = every splat read equally, 0 = one splat
//               takes everything (K = 1 gives 1: one splat is all there is to use)
//   dead        number of (head, splat) pairs with p_j < kDeadShare / K: splats read with under
//               1% of a uniform share, out of heads·K
// K is a head's live splats: empty slots (splat_attention.h) count in none of these.
// Information (HSA), with a token's *assignment* = the splat it reads most (argmax_j π_tj):
//   mi_token     I(assignment; token id) in bits, averaged over heads: how much the splat a token
//                reads says about which token it is;
//   mi_position  I(assignment; position t) in bits, the same for the position in the window.
// Plug-in estimates on the given windows: with few tokens per (splat, value) cell they read high.
// mutual_information() is the estimator, exposed for its test.
// The layer's options (decay, send gates, level weights, top-p routing) are applied: with splat_top a
// token's usage is shared among the splats it reads that hold something, and a token whose read
// splats are all empty uses none. No autograd: π is the op's own (splat_read_weights, with the layer's
// q, k and options), averaged in float64.
#pragma once
#include <cstdint>
#include <vector>

#include "nn/gpt.h"

namespace splatlm {

inline constexpr double kDeadShare = 0.01;

struct SplatLayerStats {
    int64_t layer = 0;
    int64_t heads = 0, splats = 0;  // splats per head
    double mean_scale = 0, entropy = 0;
    int64_t dead = 0;               // out of heads·splats
    double mi_token = 0, mi_position = 0;  // bits
};

// I(a; b) in bits of two equally long label sequences (plug-in, from their joint counts).
double mutual_information(const std::vector<int64_t>& a, const std::vector<int64_t>& b);

// Head h's usage p_j = mean_t π_tj / Σ_j π_tj from π [B, H, T, K] (row-major floats); a token with
// nothing to read (routing) counts with no usage.
std::vector<double> splat_usage(const std::vector<float>& pi, int64_t B, int64_t H, int64_t T, int64_t K, int64_t h);

// ids: [B, T] token windows (T ≤ context). One entry per layer with splat attention, in layer
// order; empty for a model without splat attention. The model's training mode is left as it was.
std::vector<SplatLayerStats> splat_stats(GPT& model, const Indices& ids);

}  // namespace splatlm
