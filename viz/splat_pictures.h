// splat_pictures.h — three ways to see what a layer's Gaussian splats do with a text sample.
//
// splat field (the signature picture), one panel per head. Keys, queries and splat centres live
// in R^D; we draw them on the plane through the mean of the sample's keys+queries spanned by
// their first two principal components (viz/pca.h; a degenerate cloud gets fixed axes instead).
// The background is the splats' mixture density on that plane: at plane point x it is
//   Σ_j a_j · exp(−(‖x − p_j‖² + r_j²) / (2 s_j²)),
// p_j the projected centre and r_j the centre's distance off the plane, i.e. how strongly a key
// sitting at x would write into the splats (exp lk summed over j). White = nothing, dark blue =
// the densest point of the panel. Splat centres are black crosses numbered 0..K−1, each inside a
// grey circle of radius s_j (its scale); a centre far off the plane shows a faint or no blob.
// Tokens: keys are filled dots, queries hollow rings, both coloured by position (viridis: dark
// purple = first token, yellow-green = last); keys carry their character when the sample is short.
//
// affinities, two heatmaps per head, tokens (rows) × splats (columns), each row summing to 1:
// "send" = softmax_j lk[t,j], the share of token t's write that goes to splat j; "receive" =
// π_tj = softmax_j (lq[t,j] + log z_t[j]), the mixing weight token t reads splat j with.
//
// effective attention, one heatmap per head: the implied token-to-token weights w[t,u] (row =
// query t, column = key u; the future is hatched), computed by splat_weights_reference. Colours
// run from 0 to the largest weight below row 0, whose lone w[0,0] = 1 would otherwise flatten the rest.
//
// comparison: the effective attention next to a softmax model's real attention weights
// (viz/splat_inspect.h inspect_softmax), head by head, same colour rule on both sides.
//
// Heatmaps show at most the first kMaxHeatmapTokens tokens; because attention is causal, that
// prefix is exact, not an approximation. All three return a composed dashboard Canvas.
#pragma once
#include <string>

#include "viz/canvas.h"
#include "viz/pca.h"
#include "viz/splat_inspect.h"

namespace splatlm::viz {

inline constexpr int64_t kMaxHeatmapTokens = 64;
inline constexpr int64_t kMaxLabelledTokens = 64;  // key dots get character labels up to this many tokens

// What a splat-field panel shows: a plane in R^D and the box [lo_u, hi_u] × [lo_v, hi_v] of plane
// coordinates the panel must contain (drawn as a square around it, with a margin).
struct FieldView {
    Plane plane;
    double lo_u = 0, hi_u = 0, lo_v = 0, hi_v = 0;
    bool fixed_plane = false;  // the plane was given (frames), not the head's own PCA: the caption says so
    bool splat_plane = false;  // the plane is the PCA plane of the splat centres (fit_splat_view)
};
// The head's own view: its PCA plane (or `plane` when given) and the box around its keys, queries
// and splat centres on that plane (then fixed_plane is set). widen() grows a view's box to hold another's (same plane).
FieldView fit_field_view(const SplatHead& head, const Plane* plane = nullptr);
void widen(FieldView& view, const FieldView& more);
// The plane that separates the head's splats: the PCA plane of its centres, boxed around everything.
FieldView fit_splat_view(const SplatHead& head);

// One head's splat-field panel (labels: one per token, or empty for none). With `view`, that plane
// and box are drawn instead of the head's own (frames of a run keep one view, so the axes hold still).
Canvas draw_splat_field_head(const SplatHead& head, const std::vector<std::string>& labels,
                             const FieldView* view = nullptr);
// Dashboards of every head of the sample, under `title` (views: one per head, or null).
Canvas draw_splat_field(const SplatSample& sample, const std::string& title,
                        const std::vector<FieldView>* views = nullptr);
Canvas draw_splat_affinities(const SplatSample& sample, const std::string& title);
Canvas draw_effective_attention(const SplatSample& sample, const std::string& title);
// Top-p routing (heads with top > 0): per head, the share of the sample's tokens that write to and
// that read from each splat.
Canvas draw_routing(const SplatSample& sample, const std::string& title);
// Side by side, one row per head: the splat model's implied weights (left) and a softmax model's
// actual weights (right) on the same tokens. Heads one model lacks get a note. Throws when the
// samples' tokens differ.
Canvas draw_attention_comparison(const SplatSample& splat, const AttentionSample& softmax, const std::string& title);

}  // namespace splatlm::viz
