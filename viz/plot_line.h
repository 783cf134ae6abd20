// plot_line.h — line plots of named (x, y) series: loss curves, learning rates, splat statistics.
//
// Axis ranges are chosen automatically with nice ticks (see ticks.h); y may be logarithmic.
// Points whose x or y is NaN/Inf (or y <= 0 on a log axis) cannot be placed: they are skipped,
// the line breaks there, and the number skipped is both returned and written under the plot so
// a reader of the PNG is told. A point with no drawable neighbour is shown as a dot.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "viz/canvas.h"

namespace splatlm::viz {

struct Series {
    std::string name;  // legend text; the legend is omitted when every name is empty
    std::vector<double> x, y;
};

struct LinePlotOptions {
    std::string title, x_label, y_label;
    bool log_y = false;
    int width = 640, height = 400;  // whole picture, pixels
};

struct LinePlot {
    Canvas image;
    std::size_t skipped_points = 0;  // non-finite (or non-positive on log y) points not drawn
};

// Throws splatlm::Error for no series, an empty series, x/y of different lengths, or a size too
// small to hold the axes. Series i is drawn in categorical(i).
LinePlot plot_lines(const std::vector<Series>& series, const LinePlotOptions& options = {});

}  // namespace splatlm::viz
