#include "viz/splat_hierarchy.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "tensor/error.h"
#include "tensor/shape.h"
#include "viz/colormap.h"
#include "viz/font.h"
#include "viz/layout.h"
#include "viz/plot_heatmap.h"
#include "viz/plot_line.h"
#include "viz/style.h"
#include "viz/ticks.h"

namespace splatlm::viz {

namespace {

// The parameter called `name` (or "….name"), or nullptr.
const Tensor* find_parameter(const NamedTensors& params, const std::string& name) {
    for (const auto& [full, tensor] : params)
        if (full == name || (full.size() > name.size() && full.ends_with("." + name))) return &tensor;
    return nullptr;
}

std::vector<float> read(const Tensor* t, const std::string& name, int64_t rows, int64_t cols) {
    if (!t) return {};
    SPLATLM_CHECK((t->shape() == Shape{rows, cols}), "hierarchy: parameter ", name, " has shape ", shape_str(t->shape()),
                  ", expected [", rows, ", ", cols, "]");
    return t->to_vector();
}

std::vector<std::string> numbered(const std::string& prefix, int64_t n) {
    std::vector<std::string> out;
    for (int64_t i = 0; i < n; ++i) out.push_back(prefix + std::to_string(i));
    return out;
}

}  // namespace

SplatHierarchy read_hierarchy(const Module& attention, int64_t levels) {
    const NamedTensors params = attention.named_parameters();
    const Tensor* log_scale = find_parameter(params, "log_scale");
    SPLATLM_CHECK(log_scale && log_scale->dim() == 2, "hierarchy: the attention module has no [H, K] log_scale "
                  "parameter (is it splat attention?)");
    SplatHierarchy h;
    h.heads = log_scale->shape()[0], h.splats = log_scale->shape()[1], h.levels = levels;
    SPLATLM_CHECK(levels >= 1 && h.splats % levels == 0, "hierarchy: ", levels, " levels do not divide ", h.splats,
                  " splats");
    h.log_scale = log_scale->to_vector();
    h.level_weight = read(find_parameter(params, "level_weight"), "level_weight", h.heads, levels);
    h.log_decay = read(find_parameter(params, "log_decay"), "log_decay", h.heads, h.splats);
    return h;
}

Canvas draw_hierarchy(const SplatHierarchy& h, const std::string& title) {
    const int64_t H = h.heads, K = h.splats, L = h.levels;
    SPLATLM_CHECK(H >= 1 && K >= 1 && L >= 1 && K % L == 0 && h.log_scale.size() == size_t(H * K),
                  "hierarchy: inconsistent sizes");
    std::vector<Panel> panels;
    const std::vector<std::string> head_labels = numbered("h", H);
    std::vector<std::string> splat_labels;
    for (int64_t j = 0; j < K; ++j) splat_labels.push_back("L" + std::to_string(h.level_of(j)) + ":" + std::to_string(j));

    std::vector<float> log10_scale(h.log_scale.size());
    for (size_t i = 0; i < log10_scale.size(); ++i) log10_scale[i] = float(h.log_scale[i] / std::log(10.0));
    HeatmapOptions o;
    o.x_label = "level:splat";
    o.y_label = "head";
    o.row_labels = head_labels;
    o.col_labels = splat_labels;
    o.cell_px = int(std::clamp<int64_t>(560 / std::max<int64_t>(K, 1), 8, 40));
    panels.push_back({"log10 scale by splat", plot_heatmap(log10_scale, size_t(H), size_t(K), o)});

    std::vector<Series> per_head;
    for (int64_t hd = 0; hd < H; ++hd) {
        Series s{"head " + std::to_string(hd), {}, {}};
        for (int64_t l = 0; l < L; ++l) {
            double sum = 0;
            for (int64_t j = l * (K / L); j < (l + 1) * (K / L); ++j) sum += std::exp(double(h.log_scale[hd * K + j]));
            s.x.push_back(double(l)), s.y.push_back(sum / double(K / L));
        }
        per_head.push_back(std::move(s));
    }
    LinePlotOptions lo;
    lo.x_label = "level";
    lo.y_label = "mean scale exp(log_scale)";
    lo.log_y = true;
    lo.width = 480, lo.height = 320;
    panels.push_back({"mean scale per level", plot_lines(per_head, lo).image});

    if (!h.level_weight.empty()) {
        HeatmapOptions w;
        w.x_label = "level";
        w.y_label = "head";
        w.row_labels = head_labels;
        w.col_labels = numbered("level ", L);
        w.colormap = Colormap::diverging;
        w.cell_px = 48;
        panels.push_back({"level weights", plot_heatmap(h.level_weight, size_t(H), size_t(L), w)});
    }
    const std::string levels = std::to_string(L) + " levels of " + std::to_string(K / L) + " splats";
    return with_caption(compose_grid(panels, 2, title + " (" + levels + ")"),
                        {"Splat j belongs to level j / (K/L); each level starts at its own scale (coarser levels see more",
                         "tokens). Top: each splat's learned scale; right: the mean per level and head; level weights:",
                         "the learned bonus every read of a level's splats gets (0 = none, red = read more)."});
}

Canvas draw_decay_strip(const SplatHierarchy& h, int64_t context, const std::string& title) {
    using namespace style;
    const int64_t H = h.heads, K = h.splats;
    SPLATLM_CHECK(H >= 1 && K >= 1 && h.log_decay.size() == size_t(H * K) && context >= 1,
                  "decay strip: the layer has no [H, K] log_decay");
    std::vector<double> half_life(h.log_decay.size());  // ln 2 / r tokens, r = exp(log_decay)
    double lo = double(context), hi = double(context);
    for (size_t i = 0; i < half_life.size(); ++i) {
        half_life[i] = std::log(2.0) * std::exp(-double(h.log_decay[i]));
        lo = std::min(lo, half_life[i]), hi = std::max(hi, half_life[i]);
    }
    const Axis axis = log_axis(std::max(lo, 1e-3), std::max(hi, 1e-3));
    constexpr int kLeft = 40, kWidth = 600, kRow = 34;
    const int top = kPad + kLineHeight, bottom = top + int(H) * kRow;
    Canvas c(kLeft + kWidth + 2 * kPad, bottom + 2 * kLineHeight + 2 * kPad, kWhite);
    auto to_x = [&](double v) {
        return kLeft + kWidth * (std::log10(std::max(v, axis.lo)) - std::log10(axis.lo)) /
                           (std::log10(axis.hi) - std::log10(axis.lo));
    };
    for (size_t k = 0; k < axis.ticks.size(); ++k) {
        const int x = int(std::lround(to_x(axis.ticks[k])));
        c.fill_rect(x, top, 1, bottom - top, kGrid);
        c.fill_rect(x, bottom, 1, kTickLen, kAxis);
        draw_text(c, x - text_width(axis.labels[k]) / 2, bottom + kTickLen + 2, axis.labels[k], kText);
    }
    const int cx = int(std::lround(to_x(double(context))));  // beyond the context, a splat never forgets in practice
    c.fill_rect(cx, top - kLineHeight, 1, bottom - top + kLineHeight, kNote);
    draw_text(c, cx + 3, top - kLineHeight, "context " + std::to_string(context), kNote);
    for (int64_t hd = 0; hd < H; ++hd) {
        const int y = top + int(hd) * kRow + kRow / 2;
        draw_text(c, kPad, y - kCapHeight / 2, "h" + std::to_string(hd), kText);
        c.fill_rect(kLeft, y, kWidth, 1, kAxis);
        std::vector<std::array<int, 2>> named;  // x extents of the splat numbers already drawn
        for (int64_t j = 0; j < K; ++j) {
            const double x = to_x(half_life[size_t(hd * K + j)]);
            c.fill_circle(x, y, 4.0, categorical(size_t(h.level_of(j))));
            const std::string n = std::to_string(j);
            const int nx = int(x) - text_width(n) / 2;
            const bool clear = std::none_of(named.begin(), named.end(), [&](const auto& b) {
                return nx < b[1] + 2 && b[0] < nx + text_width(n) + 2;
            });
            if (clear) draw_text(c, nx, y - 6 - kGlyphHeight, n, kText), named.push_back({nx, nx + text_width(n)});
        }
    }
    c.stroke_rect(kLeft, top, kWidth + 1, bottom - top, 1, kAxis);
    const std::string x_title = "decay half-life ln2 / exp(log_decay), tokens (log scale)";
    draw_text(c, kLeft + (kWidth - text_width(x_title)) / 2, bottom + kTickLen + 4 + kLineHeight, x_title, kText);
    std::vector<std::string> caption = {
        "Each dot is one splat (number above; colour = its level): after this many tokens a write into it",
        "counts half as much. Left of the red line the splat forgets within the context (a recency splat);",
        "far right it keeps a running mean of the whole text."};
    return with_caption(compose_grid({{"", c}}, 1, title), caption);
}

}  // namespace splatlm::viz
