#include "viz/splat_hierarchy.h"

#include <algorithm>
#include <cmath>

#include "tensor/error.h"
#include "tensor/shape.h"
#include "viz/layout.h"
#include "viz/plot_heatmap.h"
#include "viz/plot_line.h"

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
    if (!h.log_decay.empty()) {
        std::vector<float> half_life(h.log_decay.size());  // log10(ln 2 / r), r = exp(log_decay)
        for (size_t i = 0; i < half_life.size(); ++i)
            half_life[i] = float((std::log(std::log(2.0)) - h.log_decay[i]) / std::log(10.0));
        HeatmapOptions d = o;
        panels.push_back({"log10 decay half-life (tokens)", plot_heatmap(half_life, size_t(H), size_t(K), d)});
    }
    const std::string levels = L == 1 ? "1 level: no hierarchy" : std::to_string(L) + " levels of " +
                                                                   std::to_string(K / L) + " splats";
    return compose_grid(panels, 2, title + " (" + levels + ")");
}

}  // namespace splatlm::viz
