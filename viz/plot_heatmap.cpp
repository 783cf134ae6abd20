// plot_heatmap.cpp — layout: [y title][row labels][grid][gap][colour bar + tick labels], with the
// title and column labels above the grid and the x title below it. Everything is measured from
// the label texts first, then the canvas is made exactly large enough.
#include "viz/plot_heatmap.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "tensor/error.h"
#include "viz/font.h"
#include "viz/style.h"
#include "viz/ticks.h"

namespace splatlm::viz {

namespace {

using namespace style;

constexpr int kBarWidth = 16;
constexpr int kBarMinHeight = 120;
constexpr int kAutoGridSide = 480;
constexpr int kMaxCellPx = 32;
constexpr int kMaxLabelledGridSide = 720;
constexpr int kLabelGap = 4;  // between labels and the grid

int widest(const std::vector<std::string>& texts) {
    int w = 0;
    for (const auto& t : texts) w = std::max(w, text_width(t));
    return w;
}

bool masked(const HeatmapOptions& opt, std::size_t row, std::size_t col) {
    return opt.lower_triangular && col > row;
}

// The p-th percentile of the finite unmasked values (1 when there are none).
double data_percentile(std::span<const float> values, std::size_t cols, const HeatmapOptions& opt, double p) {
    std::vector<double> kept;
    for (std::size_t k = 0; k < values.size(); ++k)
        if (std::isfinite(values[k]) && !masked(opt, k / cols, k % cols)) kept.push_back(values[k]);
    return percentile(std::move(kept), p, 1.0);
}

// The value range the colours span: data extremes unless fixed, symmetric for diverging maps,
// the top at a percentile when asked, and a positive range of log_decades for log colours.
void value_range(std::span<const float> values, std::size_t cols, const HeatmapOptions& opt,
                 double& lo, double& hi) {
    bool any = false;
    for (std::size_t k = 0; k < values.size(); ++k) {
        const double v = values[k];
        if (!std::isfinite(v) || masked(opt, k / cols, k % cols)) continue;
        lo = any ? std::min(lo, v) : v;
        hi = any ? std::max(hi, v) : v;
        any = true;
    }
    if (!any) lo = 0, hi = 1;
    if (opt.top_percentile && !opt.vmax) hi = data_percentile(values, cols, opt, *opt.top_percentile);
    if (opt.colormap == Colormap::diverging && !opt.vmin && !opt.vmax) {
        const double m = std::max(std::abs(lo), std::abs(hi));
        lo = -m, hi = m;
    }
    if (opt.vmin) lo = *opt.vmin;
    if (opt.vmax) hi = *opt.vmax;
    if (opt.log_colors) {
        if (!(hi > 0)) hi = 1;
        if (!opt.vmin || !(lo > 0)) lo = hi * std::pow(10.0, -opt.log_decades);
    }
    if (lo > hi) {  // one end was fixed beyond the data's other end: collapse onto it
        if (opt.vmin) hi = lo;
        else lo = hi;
    }
    widen_degenerate(lo, hi);
}

// Where value v falls on the colour scale [lo, hi], 0..1 (log10 with log colours; NaN stays NaN).
double scale_position(double v, double lo, double hi, bool log_colors) {
    if (!log_colors || std::isnan(v)) return (v - lo) / (hi - lo);
    if (!(v > lo)) return 0.0;
    return std::log10(v / lo) / std::log10(hi / lo);
}

// The colour bar's ticks: nice linear ones, or the powers of ten (and 2×, 5× on short spans) inside [lo, hi].
Axis bar_ticks(double lo, double hi, bool log_colors) {
    if (!log_colors) return linear_ticks_within(lo, hi);
    const Axis wide = log_axis(lo, hi);
    Axis inside;
    inside.log = true, inside.lo = lo, inside.hi = hi;
    for (std::size_t k = 0; k < wide.ticks.size(); ++k)
        if (wide.ticks[k] >= lo * (1 - 1e-9) && wide.ticks[k] <= hi * (1 + 1e-9))
            inside.ticks.push_back(wide.ticks[k]), inside.labels.push_back(wide.labels[k]);
    return inside;
}

// Which of n labels, each `extent` pixels long along an axis of cells `cell` pixels apart (label i
// centred on cell i), to draw: greedily, each one that leaves a pixel's gap after the last one drawn.
std::vector<bool> fitting_labels(const std::vector<int>& extent, int cell) {
    std::vector<bool> keep(extent.size(), false);
    double last_end = -1e9;
    for (std::size_t i = 0; i < extent.size(); ++i) {
        const double centre = (double(i) + 0.5) * cell, start = centre - extent[i] / 2.0;
        if (start < last_end + 1) continue;
        keep[i] = true;
        last_end = centre + extent[i] / 2.0;
    }
    return keep;
}

}  // namespace

Canvas plot_heatmap(std::span<const float> values, std::size_t rows, std::size_t cols,
                    const HeatmapOptions& opt) {
    SPLATLM_CHECK(rows > 0 && cols > 0 && values.size() == rows * cols, "plot_heatmap: ",
                  values.size(), " values for a ", rows, "x", cols, " matrix");
    SPLATLM_CHECK(opt.row_labels.empty() || opt.row_labels.size() == rows, "plot_heatmap: ",
                  opt.row_labels.size(), " row labels for ", rows, " rows");
    SPLATLM_CHECK(opt.col_labels.empty() || opt.col_labels.size() == cols, "plot_heatmap: ",
                  opt.col_labels.size(), " column labels for ", cols, " columns");
    SPLATLM_CHECK((!opt.vmin || std::isfinite(*opt.vmin)) && (!opt.vmax || std::isfinite(*opt.vmax)),
                  "plot_heatmap: fixed range ends must be finite");
    SPLATLM_CHECK(!opt.vmin || !opt.vmax || *opt.vmin <= *opt.vmax, "plot_heatmap: vmin ",
                  *opt.vmin, " > vmax ", *opt.vmax);
    SPLATLM_CHECK(!opt.top_percentile || (*opt.top_percentile > 0 && *opt.top_percentile <= 100),
                  "plot_heatmap: top_percentile must be in (0, 100]");
    SPLATLM_CHECK(opt.log_decades > 0 && opt.log_decades <= 30, "plot_heatmap: log_decades ", opt.log_decades,
                  " outside (0, 30]");
    SPLATLM_CHECK(opt.cell_px >= 0 && opt.cell_px <= 256, "plot_heatmap: cell_px ", opt.cell_px,
                  " outside [0, 256]");
    const std::size_t longest = std::max(rows, cols);
    SPLATLM_CHECK(longest <= static_cast<std::size_t>(Canvas::kMaxSide), "plot_heatmap: ", rows,
                  "x", cols, " is too large to draw");

    double lo = 0, hi = 1;
    value_range(values, cols, opt, lo, hi);
    const Axis bar_axis = bar_ticks(lo, hi, opt.log_colors);
    const std::string top_note =
        opt.top_percentile && !opt.vmax ? "top: p" + format_tick(*opt.top_percentile, 1) : "";
    bool any_nan = false;
    for (std::size_t k = 0; k < values.size(); ++k)
        any_nan = any_nan || (std::isnan(values[k]) && !masked(opt, k / cols, k % cols));

    // ---- layout -----------------------------------------------------------------------------
    // Automatic cells: about kAutoGridSide pixels in all, but tall enough for a label per row when
    // that keeps the grid under kMaxLabelledGridSide.
    int cell = opt.cell_px;
    if (cell == 0) {
        cell = std::clamp(kAutoGridSide / static_cast<int>(longest), 1, kMaxCellPx);
        const bool labelled = !opt.row_labels.empty() || !opt.col_labels.empty();
        if (labelled && static_cast<int>(longest) * (text_height() + 1) <= kMaxLabelledGridSide)
            cell = std::max(cell, text_height() + 1);
    }
    const int grid_w = static_cast<int>(cols) * cell, grid_h = static_cast<int>(rows) * cell;
    const int th = text_height();

    std::vector<int> col_widths, row_heights(opt.row_labels.size(), th);
    for (const auto& s : opt.col_labels) col_widths.push_back(text_width(s));
    const std::vector<bool> cols_flat = fitting_labels(col_widths, cell);
    const std::vector<bool> cols_vertical = fitting_labels(std::vector<int>(opt.col_labels.size(), th), cell);
    const bool cols_up = std::count(cols_vertical.begin(), cols_vertical.end(), true) >
                         std::count(cols_flat.begin(), cols_flat.end(), true);
    const std::vector<bool>& col_shown = cols_up ? cols_vertical : cols_flat;
    const std::vector<bool> row_shown = fitting_labels(row_heights, cell);
    const int col_lw = widest(opt.col_labels);
    const int col_band = opt.col_labels.empty() ? 0 : (cols_up ? col_lw : th) + kLabelGap;
    const int row_band = opt.row_labels.empty() ? 0 : widest(opt.row_labels) + kLabelGap;

    const int title_h = opt.title.empty() ? 0 : text_height(kTitleScale) + kPad;
    const int gx = kPad + (opt.y_label.empty() ? 0 : th + kPad) + row_band;
    const int gy = kPad + title_h + col_band;
    const int bar_x = gx + grid_w + 2 * kPad;
    const int bar_h = std::max(grid_h, kBarMinHeight);
    const int nan_h = (any_nan ? kPad + th : 0) + (top_note.empty() ? 0 : kPad + th);
    const int width = std::max({bar_x + kBarWidth + kTickLen + 3 + widest(bar_axis.labels) + kPad,
                                bar_x + text_width(top_note) + kPad, text_width(opt.title, kTitleScale) + 2 * kPad});
    const int below_grid = opt.x_label.empty() ? 0 : kPad + th;
    const int height = gy + std::max(grid_h + below_grid, bar_h + nan_h) + kPad;
    Canvas c(width, height, kWhite);

    // ---- cells --------------------------------------------------------------------------------
    for (std::size_t i = 0; i < rows; ++i) {
        for (std::size_t j = 0; j < cols; ++j) {
            const int x = gx + static_cast<int>(j) * cell, y = gy + static_cast<int>(i) * cell;
            if (masked(opt, i, j)) {
                // Diagonal hatching in canvas coordinates, continuous across masked cells.
                for (int py = y; py < y + cell; ++py)
                    for (int px = x; px < x + cell; ++px)
                        if ((px + py) % 4 == 0) c.fill_rect(px, py, 1, 1, kMaskInk);
                continue;
            }
            const double v = values[i * cols + j];
            c.fill_rect(x, y, cell, cell, map_color(opt.colormap, scale_position(v, lo, hi, opt.log_colors)));
        }
    }
    c.stroke_rect(gx - 1, gy - 1, grid_w + 2, grid_h + 2, 1, kAxis);

    // ---- labels and titles --------------------------------------------------------------------
    for (std::size_t i = 0; i < opt.row_labels.size(); ++i) {
        if (!row_shown[i]) continue;
        const auto& s = opt.row_labels[i];
        const int cy = gy + static_cast<int>(i) * cell + cell / 2;
        draw_text(c, gx - kLabelGap - text_width(s), cy - kCapHeight / 2, s, kText);
    }
    for (std::size_t j = 0; j < opt.col_labels.size(); ++j) {
        if (!col_shown[j]) continue;
        const auto& s = opt.col_labels[j];
        const int cx = gx + static_cast<int>(j) * cell + cell / 2;
        if (cols_up)
            draw_text(c, cx - kCapHeight / 2, gy - kLabelGap - text_width(s), s, kText, 1, TextDir::up);
        else
            draw_text(c, cx - text_width(s) / 2, gy - kLabelGap - th, s, kText);
    }
    if (!opt.title.empty())
        draw_text(c, (width - text_width(opt.title, kTitleScale)) / 2, kPad, opt.title, kText,
                  kTitleScale);
    if (!opt.x_label.empty())
        draw_text(c, gx + (grid_w - text_width(opt.x_label)) / 2, gy + grid_h + kPad, opt.x_label,
                  kText);
    if (!opt.y_label.empty())
        draw_text(c, kPad, gy + (grid_h - text_width(opt.y_label)) / 2, opt.y_label, kText, 1,
                  TextDir::up);

    // ---- colour bar ---------------------------------------------------------------------------
    for (int r = 0; r < bar_h; ++r)
        c.fill_rect(bar_x, gy + r, kBarWidth, 1, map_color(opt.colormap, 1.0 - (r + 0.5) / bar_h));
    c.stroke_rect(bar_x - 1, gy - 1, kBarWidth + 2, bar_h + 2, 1, kAxis);
    for (std::size_t k = 0; k < bar_axis.ticks.size(); ++k) {
        const double f = scale_position(bar_axis.ticks[k], lo, hi, opt.log_colors);
        const int row = gy + static_cast<int>(std::lround((1.0 - f) * (bar_h - 1)));
        c.fill_rect(bar_x + kBarWidth + 1, row, kTickLen, 1, kAxis);
        draw_text(c, bar_x + kBarWidth + 1 + kTickLen + 3, row - kCapHeight / 2,
                  bar_axis.labels[k], kText);
    }
    int below_bar = gy + bar_h + kPad;
    if (!top_note.empty()) {
        draw_text(c, bar_x, below_bar, top_note, kText);
        below_bar += kPad + th;
    }
    if (any_nan) {
        c.fill_rect(bar_x, below_bar, kBarWidth, kCapHeight, kMissing);
        draw_text(c, bar_x + kBarWidth + kTickLen + 4, below_bar, "NaN", kText);
    }
    return c;
}

}  // namespace splatlm::viz
