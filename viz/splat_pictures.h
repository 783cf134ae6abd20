// splat_pictures.h — three ways to see what a layer's Gaussian splats do with a text sample.
//
// splat field (the signature picture), per head two panels (frames of a run: the first only). Keys,
// queries and splat centres live in R^D; the first panel is the plane through the mean of the
// sample's keys+queries spanned by their first two principal components, the second the PCA plane
// of the splat centres (the plane that separates the splats), boxed around the centres and keys
// (viz/pca.h; a degenerate cloud gets fixed axes). The background is the splats' write density on
// the plane, Σ_j a_j·exp(−(‖x − p_j‖² + r_j²)/(2 s_j²)), p_j the projected centre and r_j the
// centre's distance off the plane, in eighths of the panel's maximum and only where it varies.
// Centres are black crosses, each in a grey circle of radius s_j (an isotropic Gaussian's 1-s.d.
// circle in any plane) and joined by a red line to the key writing the largest share into it
// ("j:c"). Keys are filled dots, queries hollow rings, coloured by position (viridis); text that
// would overlap text already drawn is left out; plane coordinates are ticked.
//
// affinities, two heatmaps per head, tokens (rows) × splats (columns), rows summing to 1: "send" =
// the share of token t's write that goes into splat j (SplatHead::send: send gates and routing
// applied), "receive" = π_tj (SplatHead::read). Colours top out at the 99th percentile.
//
// effective attention, one heatmap per head: the implied token-to-token weights w[t,u] (row =
// query t, column = key u; the future is hatched) on a log colour scale of 3 decades whose top is
// the 99th percentile of the weights after row 0 (whose lone w[0,0] = 1 would flatten the rest).
//
// comparison: the effective attention next to a softmax model's real attention weights
// (viz/splat_inspect.h inspect_softmax), head by head, each pair on one colour scale.
//
// routing (top-p layers): per head, the share of tokens writing to and reading from each splat.
//
// Every picture comes with a caption that says how to read it. Nothing here recomputes the
// weights: they come from inspect_splats (every option applied).
// Heatmaps show at most the first kMaxHeatmapTokens tokens; because attention is causal, that
// prefix is exact, not an approximation. Each returns a composed, captioned Canvas.
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

// A splat an event touched since the last frame (a run's frames): an orange ring around its centre
// and one word under it ("born", "died", "split", "merged", "rescued"), and a caption line saying
// so. An emptied slot is marked where its centre was. Drawn on the tokens' plane panels only.
struct FieldMark {
    int64_t head = 0, splat = 0;
    std::string word;
};

// One head's splat-field panel (labels: one per token, or empty for none). With `view`, that plane
// and box are drawn instead of the head's own (frames of a run keep one view, so the axes hold still).
// `marks`: those of this head (their `head` is not looked at); a splat out of range is an error.
Canvas draw_splat_field_head(const SplatHead& head, const std::vector<std::string>& labels,
                             const FieldView* view = nullptr, const std::vector<FieldMark>& marks = {});
// Dashboards of every head of the sample, under `title` (views: one per head, or null; marks of
// heads the sample lacks are not drawn).
Canvas draw_splat_field(const SplatSample& sample, const std::string& title,
                        const std::vector<FieldView>* views = nullptr, const std::vector<FieldMark>& marks = {});
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
