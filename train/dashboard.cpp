// dashboard.cpp — write_dashboard (train/dashboard.h): the panels of dashboard.png and the model summary.
#include "train/dashboard.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <sstream>

#include "tensor/error.h"
#include "tensor/file_io.h"
#include "train/curves.h"
#include "train/json.h"
#include "train/splat_lives.h"
#include "viz/layout.h"
#include "viz/splat_files.h"

namespace splatlm {

namespace {

std::string fmt(const char* format, double x) {
    char buf[64];
    std::snprintf(buf, sizeof buf, format, x);
    return buf;
}

// The last validation loss in a metrics log (NaN when there is none).
double last_val_loss(const std::string& metrics) {
    double v = std::numeric_limits<double>::quiet_NaN();
    std::istringstream in(metrics);
    for (std::string line; std::getline(in, line);)
        if (line.find("\"val_loss\"") != std::string::npos) {
            const Json record = Json::parse(line);  // outlives `x`, which points into it
            if (const Json* x = record.find("val_loss"); x && x->is_number()) v = x->as_double();
        }
    return v;
}

}  // namespace

std::vector<std::string> model_summary(const DashboardInput& in, double val_loss) {
    const GPTConfig& m = in.model->config();
    std::vector<std::string> lines;
    std::string kind = "attention: " + m.attention;
    if (m.attention.find("splat") != std::string::npos) {
        kind += ", " + std::to_string(m.splats) + " splats/head";
        if (m.max_splats > m.splats) kind += " (" + std::to_string(m.max_splats) + " slots)";
        if (m.splat_levels > 1) kind += ", " + std::to_string(m.splat_levels) + " levels";
        if (m.splat_decay) kind += ", decay";
        if (m.splat_top > 0) kind += ", top-" + std::to_string(m.splat_top) + " routing";
        if (m.splat_gate) kind += ", gated";
    }
    lines.push_back(kind);
    lines.push_back(std::to_string(m.layers) + " layers, " + std::to_string(m.heads) + " heads, width " +
                    std::to_string(m.width) + ", context " + std::to_string(m.context) + ", vocab " +
                    std::to_string(m.vocab));
    lines.push_back("parameters: " + std::to_string(in.model->parameter_count()) + " (" +
                    fmt("%.2fM", in.model->parameter_count() / 1e6) + ")");
    if (in.config) {
        lines.push_back("data: " + in.config->data + " (" + in.config->tokenizer + " tokenizer)");
        lines.push_back("batch " + std::to_string(in.config->batch) + ", lr " + fmt("%.2g", in.config->lr) +
                        ", steps " + std::to_string(in.config->steps));
    }
    lines.push_back("step: " + std::to_string(in.step));
    lines.push_back("validation loss: " + (std::isfinite(val_loss) ? fmt("%.4f nats/token", val_loss) : "none logged"));
    return lines;
}

std::string write_dashboard(const DashboardInput& in, const std::string& path) {
    SPLATLM_CHECK(in.model && in.tokenizer, "dashboard: no model");
    const std::string metrics_path = in.run_dir + "/metrics.jsonl";
    const std::string metrics = std::filesystem::exists(metrics_path) ? read_file(metrics_path) : "";
    std::vector<viz::Panel> panels;
    if (viz::first_splat_layer(*in.model) >= 0) {
        const viz::SplatSample sample =
            viz::inspect_text(*in.model, viz::TextCodec::of(*in.tokenizer), in.text, in.layer);
        const std::string where = "layer " + std::to_string(in.layer);
        panels.push_back({"splat field, " + where, viz::draw_splat_field(sample, "")});
        panels.push_back({"token-splat affinities, " + where, viz::draw_splat_affinities(sample, "")});
    }
    if (metrics.find("\"loss\"") != std::string::npos)
        panels.push_back({"training curves", viz::compose_grid(training_curves(metrics, 420, 280).panels, 2)});
    else
        panels.push_back({"training curves", viz::text_block({"no training losses in " + metrics_path}, 2)});
    const std::string health = in.run_dir + "/splat_health.jsonl";  // living splats (train/splat_lives.h)
    if (std::filesystem::exists(health))
        if (const SplatLivesData lives = read_splat_lives(read_file(health), ""); !lives.steps.empty())
            panels.push_back({"splat health", draw_splat_health_counts(lives, 640, 400)});
    panels.push_back({"model", viz::text_block(model_summary(in, last_val_loss(metrics)), 2)});
    viz::compose_grid(panels, 2, "splatlm: " + in.run_dir).save_png(path);
    return path;
}

}  // namespace splatlm
