// plot_heatmap.h — a matrix as coloured cells: attention weights, splat responsibilities, logits.
//
// Each cell is a square of cell_px pixels coloured by map_color((v - vmin) / (vmax - vmin)).
// A colour bar with nice tick labels sits on the right. NaN cells are drawn in kMissing (and the
// colour bar then gains a "NaN" swatch). With lower_triangular, cells above the diagonal
// (col > row, the future in a causal attention matrix) are hatched grey instead of coloured and
// are left out of the automatic range. Row/column labels (for example the characters of the
// text sample) are thinned to every k-th one when the cells are too small to hold them all;
// column labels are turned vertical when that lets more of them through.
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
    bool lower_triangular = false;
    int cell_px = 0;  // 0: chosen so the grid is about 480 pixels on its longer side
};

// values: rows x cols, row-major. Throws splatlm::Error on a size mismatch, zero rows/cols,
// label counts that match neither zero nor the matrix, or a fixed range with vmin > vmax.
Canvas plot_heatmap(std::span<const float> values, std::size_t rows, std::size_t cols,
                    const HeatmapOptions& options = {});

}  // namespace splatlm::viz
