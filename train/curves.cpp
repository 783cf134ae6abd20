#include "train/curves.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "tensor/error.h"
#include "tensor/file_io.h"
#include "train/json.h"
#include "viz/plot_line.h"

namespace splatlm {

namespace {

double number(const Json& v) { return v.is_number() ? v.as_double() : std::numeric_limits<double>::quiet_NaN(); }

// One series per splat layer, from an array-valued key of the evaluation lines.
struct PerLayer {
    std::vector<viz::Series> layers;
    void add(double step, const Json& values) {
        if (!values.is_array()) return;
        for (size_t i = 0; i < values.size(); ++i) {
            if (layers.size() <= i) layers.push_back({"splat layer " + std::to_string(i), {}, {}});
            layers[i].x.push_back(step), layers[i].y.push_back(number(values.as_array()[i]));
        }
    }
};

}  // namespace

TrainingCurves training_curves(const std::string& metrics, int panel_width, int panel_height) {
    viz::Series train{"train loss", {}, {}}, val{"validation loss", {}, {}}, lr{"learning rate", {}, {}};
    std::vector<double> tokens;  // per training line, NaN where the line has none
    PerLayer scale, entropy, dead;
    std::istringstream in(metrics);
    for (std::string line; std::getline(in, line);) {
        if (line.empty()) continue;
        const Json record = Json::parse(line);
        const double step = double(record.at("step").as_int());
        if (const Json* loss = record.find("loss")) {
            train.x.push_back(step), train.y.push_back(number(*loss));
            const Json* t = record.find("tokens");
            tokens.push_back(t ? number(*t) : std::numeric_limits<double>::quiet_NaN());
            if (const Json* l = record.find("lr")) lr.x.push_back(step), lr.y.push_back(number(*l));
        }
        if (const Json* v = record.find("val_loss")) val.x.push_back(step), val.y.push_back(number(*v));
        if (const Json* v = record.find("splat_scale")) scale.add(step, *v);
        if (const Json* v = record.find("splat_entropy")) entropy.add(step, *v);
        if (const Json* v = record.find("splat_dead")) dead.add(step, *v);
    }
    SPLATLM_CHECK(!train.x.empty(), "training curves: the metrics log has no training loss");
    // Moving average over a window of ~1% of the run: the trend without the batch-to-batch noise.
    // Non-finite losses are left out of the window rather than poisoning it.
    viz::Series smooth{"train loss (moving average)", {}, {}};
    const size_t window = std::max<size_t>(1, train.y.size() / 100);
    for (size_t i = window - 1; i < train.y.size(); ++i) {
        double acc = 0;
        size_t n = 0;
        for (size_t k = i + 1 - window; k <= i; ++k)
            if (std::isfinite(train.y[k])) acc += train.y[k], ++n;
        if (n) smooth.x.push_back(train.x[i]), smooth.y.push_back(acc / double(n));
    }

    TrainingCurves out;
    auto add = [&](const std::string& title, std::vector<viz::Series> series, const std::string& x_label,
                   const std::string& y_label, bool log_y = false) {
        viz::LinePlotOptions o;
        o.x_label = x_label, o.y_label = y_label, o.log_y = log_y;
        o.width = panel_width, o.height = panel_height;
        viz::LinePlot plot = viz::plot_lines(series, o);
        out.skipped += plot.skipped_points;
        out.panels.push_back({title, std::move(plot.image)});
    };
    std::vector<viz::Series> loss = {train, smooth};
    if (!val.x.empty()) loss.push_back(val);
    add("loss vs step", loss, "step", "cross-entropy (nats/token)");
    if (std::any_of(tokens.begin(), tokens.end(), [](double t) { return std::isfinite(t); })) {
        // The same loss lines against tokens seen: a step's tokens are read off its training line.
        auto to_tokens = [&](viz::Series s) {
            for (double& x : s.x) {
                const auto at = std::lower_bound(train.x.begin(), train.x.end(), x);
                x = at == train.x.end() ? std::numeric_limits<double>::quiet_NaN() : tokens[size_t(at - train.x.begin())];
            }
            return s;
        };
        std::vector<viz::Series> by_tokens;
        for (const viz::Series& s : loss) by_tokens.push_back(to_tokens(s));
        add("loss vs tokens seen", by_tokens, "training tokens", "cross-entropy (nats/token)");
    }
    if (!lr.x.empty()) add("learning rate", {lr}, "step", "learning rate");
    if (!scale.layers.empty()) add("splat mean scale", scale.layers, "step", "mean exp(log_scale)");
    if (!entropy.layers.empty()) add("splat usage entropy", entropy.layers, "step", "entropy / log K (1 = even)");
    if (!dead.layers.empty()) add("dead splats (<1% of an even share)", dead.layers, "step", "splats (all heads)");
    return out;
}

std::string draw_loss_curves(const std::string& dir) {
    const TrainingCurves curves = training_curves(read_file(dir + "/metrics.jsonl"));
    if (curves.skipped)
        std::printf("note: %zu NaN/Inf points in %s/metrics.jsonl were not drawn\n", curves.skipped, dir.c_str());
    const std::string path = dir + "/loss.png";
    viz::compose_grid(curves.panels, 2, "Training curves: " + dir).save_png(path);
    return path;
}

}  // namespace splatlm
