// plot_heatmap.h — a matrix as coloured cells: attention weights, splat responsibilities, logits.
//
// Each cell is a square of cell_px pixels coloured by map_color((v - vmin) / (vmax - vmin)).
// A colour bar with nice tick labels sits on the right. NaN cells are drawn in kMissing (and the
// colour bar then gains a "NaN" swatch). With lower_triangular, cells above the diagonal
// (col > row, the future in a causal attention matrix) are hatched grey instead of coloured and
// are left out of the automatic range. Row/column labels (for example the characters of the
// text sample) are thinned by their measured extent: a label is drawn when it does not touch the
// last one drawn, so all of them show whenever the cells can hold them. Column labels are turned
// vertical when that lets more of them through.
//
// Colour scales that fit the data: `top_percentile` = p puts the top colour at the p-th percentile
// of the data instead of its maximum (a few large cells no longer flatten the rest; larger values
// show at the top colour and the bar says "top: pNN"). `log_colors` colours by log10 of the value,
// for data spanning decades: the range is [hi·10^-log_decades, hi], values below show at the
// bottom colour, and the bar's ticks are powers of ten.
#pragma once
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "viz/canvas.h"
#include "viz/colormap.h"

namespace splatlm::viz {

struct HeatmapOptions {
    std::string title;
    std::string x_label, y_label;                   // axis titles (e.g. "key", "query")
    std::vector<std::string> row_labels, col_labels;  // empty, or one per row / column
    Colormap colormap = Colormap::viridis;
    // Fixed value range; each end not given is taken from the finite (unmasked) data. With the
    // diverging map an automatic range is made symmetric around zero.
    std::optional<double> vmin, vmax;
    std::optional<double> top_percentile;  // in (0, 100]: the automatic top end is this percentile
    bool log_colors = false;
    double log_decades = 3;  // with log_colors and no vmin: the range spans this many decades
    bool lower_triangular = false;
    int cell_px = 0;  // 0: chosen so the grid is about 480 pixels on its longer side
};

// values: rows x cols, row-major. Throws splatlm::Error on a size mismatch, zero rows/cols,
// label counts that match neither zero nor the matrix, or a fixed range with vmin > vmax.
Canvas plot_heatmap(std::span<const float> values, std::size_t rows, std::size_t cols,
                    const HeatmapOptions& options = {});

}  // namespace splatlm::viz
