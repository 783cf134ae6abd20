// plot_line.cpp — lays out a line plot: title on top, y-axis title and tick labels on the left,
// x tick labels and x-axis title below, legend to the right (outside the data, so it never hides
// a curve), then grid, curves and frame inside. Margins are measured from the actual label texts.
#include "viz/plot_line.h"

#include <algorithm>
#include <cmath>

#include "tensor/error.h"
#include "viz/colormap.h"
#include "viz/font.h"
#include "viz/style.h"
#include "viz/ticks.h"

namespace splatlm::viz {

namespace {

using namespace style;

int widest(const std::vector<std::string>& texts) {
    int w = 0;
    for (const auto& t : texts) w = std::max(w, text_width(t));
    return w;
}

// Label every k-th tick, with k the smallest that keeps neighbouring labels `need` pixels apart.
int label_stride(const std::vector<int>& positions, int need) {
    if (positions.size() < 2) return 1;
    const int gap = std::max(1, std::abs(positions[1] - positions[0]));
    return std::max(1, (need + gap - 1) / gap);
}

// Maps data values to continuous pixel coordinates along one axis; `flip` for y (up is smaller).
struct Scale {
    const Axis& axis;
    int p0, p1;  // first and last pixel of the plot area along this axis
    bool flip;
    double operator()(double v) const {
        const double f = axis.log
                             ? (std::log10(v) - std::log10(axis.lo)) /
                                   (std::log10(axis.hi) - std::log10(axis.lo))
                             : (v - axis.lo) / (axis.hi - axis.lo);
        return flip ? p1 + 0.5 - f * (p1 - p0) : p0 + 0.5 + f * (p1 - p0);
    }
    int pixel(double v) const { return static_cast<int>(std::floor((*this)(v))); }
};

}  // namespace

LinePlot plot_lines(const std::vector<Series>& series, const LinePlotOptions& opt) {
    SPLATLM_CHECK(!series.empty(), "plot_lines: no series to draw");
    for (const auto& s : series) {
        SPLATLM_CHECK(s.x.size() == s.y.size(), "plot_lines: series '", s.name, "' has ",
                      s.x.size(), " x values but ", s.y.size(), " y values");
        SPLATLM_CHECK(!s.x.empty(), "plot_lines: series '", s.name, "' is empty");
    }

    // ---- data ranges, counting what cannot be drawn --------------------------------------
    const auto drawable = [&](double x, double y) {
        return std::isfinite(x) && std::isfinite(y) && (!opt.log_y || y > 0);
    };
    std::size_t skipped = 0;
    bool any = false;
    double xmin = 0, xmax = 0, ymin = 0, ymax = 0;
    for (const auto& s : series) {
        for (std::size_t i = 0; i < s.x.size(); ++i) {
            if (!drawable(s.x[i], s.y[i])) {
                ++skipped;
                continue;
            }
            xmin = any ? std::min(xmin, s.x[i]) : s.x[i];
            xmax = any ? std::max(xmax, s.x[i]) : s.x[i];
            ymin = any ? std::min(ymin, s.y[i]) : s.y[i];
            ymax = any ? std::max(ymax, s.y[i]) : s.y[i];
            any = true;
        }
    }
    const Axis ax = any ? linear_axis(xmin, xmax) : linear_axis(0, 1);
    const Axis ay = opt.log_y ? (any ? log_axis(ymin, ymax) : log_axis(1, 10))
                              : (any ? linear_axis(ymin, ymax) : linear_axis(0, 1));

    // ---- layout ---------------------------------------------------------------------------
    std::vector<std::string> names;
    for (const auto& s : series) names.push_back(s.name);
    const bool legend = widest(names) > 0;
    const int swatch = 20;
    const int legend_w = legend ? kPad + swatch + 4 + widest(names) + kPad : 0;
    const int th = text_height();
    const std::string note =
        skipped == 0 ? ""
                     : std::to_string(skipped) + (skipped == 1 ? " point" : " points") +
                           " skipped (NaN/Inf" + (opt.log_y ? " or <= 0 on log axis)" : ")");

    const int top = kPad + (opt.title.empty() ? 0 : text_height(kTitleScale) + kPad);
    const int left = kPad + (opt.y_label.empty() ? 0 : th + kPad) + widest(ay.labels) + 3 + kTickLen;
    const int bottom = kTickLen + 3 + th + kPad + (opt.x_label.empty() ? 0 : th + kPad) +
                       (note.empty() ? 0 : th + kPad);
    const int right = legend ? 2 * kPad + legend_w + kPad : kPad + widest(ax.labels) / 2;
    const int x0 = left, x1 = opt.width - right, y0 = top, y1 = opt.height - bottom;
    SPLATLM_CHECK(opt.width > 0 && opt.height > 0 && x1 - x0 >= 40 && y1 - y0 >= 40,
                  "plot_lines: ", opt.width, "x", opt.height,
                  " is too small for the axes, labels and legend");

    Canvas c(opt.width, opt.height, kWhite);
    const Scale sx{ax, x0, x1, false}, sy{ay, y0, y1, true};

    // ---- grid, ticks, tick labels ---------------------------------------------------------
    std::vector<int> xcols, yrows;
    for (double t : ax.ticks) xcols.push_back(sx.pixel(t));
    for (double t : ay.ticks) yrows.push_back(sy.pixel(t));
    for (int col : xcols) c.fill_rect(col, y0, 1, y1 - y0 + 1, kGrid);
    for (int row : yrows) c.fill_rect(x0, row, x1 - x0 + 1, 1, kGrid);

    const int xstride = label_stride(xcols, widest(ax.labels) + 6);
    for (std::size_t i = 0; i < xcols.size(); ++i) {
        c.fill_rect(xcols[i], y1 + 1, 1, kTickLen, kAxis);
        if (i % xstride != 0) continue;
        const auto& label = ax.labels[i];
        draw_text(c, xcols[i] - text_width(label) / 2, y1 + 1 + kTickLen + 3, label, kText);
    }
    const int ystride = label_stride(yrows, th + 2);
    for (std::size_t i = 0; i < yrows.size(); ++i) {
        c.fill_rect(x0 - kTickLen, yrows[i], kTickLen, 1, kAxis);
        if (i % ystride != 0) continue;
        const auto& label = ay.labels[i];
        draw_text(c, x0 - kTickLen - 3 - text_width(label), yrows[i] - kCapHeight / 2, label, kText);
    }

    // ---- titles and the skipped-points note -----------------------------------------------
    if (!opt.title.empty())
        draw_text(c, (opt.width - text_width(opt.title, kTitleScale)) / 2, kPad, opt.title, kText,
                  kTitleScale);
    int below = y1 + 1 + kTickLen + 3 + th + kPad;
    if (!opt.x_label.empty()) {
        draw_text(c, (x0 + x1 - text_width(opt.x_label)) / 2, below, opt.x_label, kText);
        below += th + kPad;
    }
    if (!opt.y_label.empty())
        draw_text(c, kPad, (y0 + y1 - text_width(opt.y_label)) / 2, opt.y_label, kText, 1,
                  TextDir::up);
    if (!note.empty()) draw_text(c, kPad, below, note, kNote);

    // ---- the curves ---------------------------------------------------------------------------
    for (std::size_t k = 0; k < series.size(); ++k) {
        const auto& s = series[k];
        const Rgba col = categorical(k);
        const auto ok = [&](std::size_t i) { return i < s.x.size() && drawable(s.x[i], s.y[i]); };
        for (std::size_t i = 0; i < s.x.size(); ++i) {
            if (!ok(i)) continue;
            const bool has_prev = i > 0 && ok(i - 1);
            if (has_prev) c.line(sx(s.x[i - 1]), sy(s.y[i - 1]), sx(s.x[i]), sy(s.y[i]), 1.5, col);
            if (!has_prev && !ok(i + 1)) c.fill_circle(sx(s.x[i]), sy(s.y[i]), 2.5, col);
        }
    }
    c.stroke_rect(x0, y0, x1 - x0 + 1, y1 - y0 + 1, 1, kAxis);

    // ---- legend ---------------------------------------------------------------------------------
    if (legend) {
        const int bx = x1 + 2 * kPad, by = y0;
        const int row_h = kLineHeight + 2;
        const int bh = kPad + static_cast<int>(series.size()) * row_h + kPad - 2;
        c.stroke_rect(bx, by, legend_w, bh, 1, kAxis);
        for (std::size_t k = 0; k < series.size(); ++k) {
            const int ry = by + kPad + static_cast<int>(k) * row_h;
            const double mid = ry + kCapHeight / 2 + 0.5;
            c.line(bx + kPad, mid, bx + kPad + swatch, mid, 2.0, categorical(k));
            draw_text(c, bx + kPad + swatch + 4, ry, series[k].name, kText);
        }
    }
    return LinePlot{std::move(c), skipped};
}

}  // namespace splatlm::viz
