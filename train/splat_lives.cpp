// splat_lives.cpp — a run's health and event logs → the lives picture (splat_lives.h).
#include "train/splat_lives.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "splat/splat_stats.h"
#include "tensor/error.h"
#include "tensor/file_io.h"
#include "train/json.h"
#include "viz/plot_line.h"

namespace splatlm {

namespace {
std::vector<Json> json_lines(const std::string& text) {
    std::vector<Json> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) out.push_back(Json::parse(line));
    return out;
}
}  // namespace

SplatLivesData read_splat_lives(const std::string& health_jsonl, const std::string& events_jsonl) {
    SplatLivesData d;
    const std::vector<Json> checks = json_lines(health_jsonl);
    for (size_t k = 0; k < checks.size(); ++k) {
        d.steps.push_back(checks[k].at("step").as_int());
        const Json::Array& layers = checks[k].at("layers").as_array();
        if (k == 0)
            for (const Json& l : layers) {
                const Json::Array& heads = l.at("heads").as_array();
                SPLATLM_CHECK(!heads.empty(), "splat lives: a health line with no heads");
                const int64_t H = int64_t(heads.size()), K = int64_t(heads[0].at("read").as_array().size());
                d.layers.push_back({.layer = l.at("layer").as_int(), .heads = H, .slots = K,
                                    .share = std::vector<float>(size_t(H * K) * checks.size(), NAN), .marks = {}});
            }
        SPLATLM_CHECK(layers.size() == d.layers.size(), "splat lives: health check ", k, " has ", layers.size(), " layers, not ",
                      d.layers.size());
        for (size_t li = 0; li < layers.size(); ++li) {
            viz::SplatLayerLives& out = d.layers[li];
            const Json::Array& heads = layers[li].at("heads").as_array();
            for (int64_t h = 0; h < out.heads; ++h)
                for (int64_t j = 0; j < out.slots; ++j) {
                    const Json& head = heads.at(size_t(h));
                    const bool alive = !head.contains("alive") || head.at("alive").at(size_t(j)).as_int() != 0;
                    if (alive)
                        out.share[size_t(h * out.slots + j) * checks.size() + k] = float(head.at("read").at(size_t(j)).as_double());
                }
        }
    }
    for (const Json& e : json_lines(events_jsonl)) {
        const int64_t step = e.at("step").as_int(), layer = e.at("layer").as_int(), head = e.at("head").as_int();
        const auto at = std::upper_bound(d.steps.begin(), d.steps.end(), step);  // the check at or before it
        if (at == d.steps.begin()) continue;
        auto l = std::find_if(d.layers.begin(), d.layers.end(), [&](const viz::SplatLayerLives& x) { return x.layer == layer; });
        SPLATLM_CHECK(l != d.layers.end(), "splat lives: an event in layer ", layer, ", which has no health");
        const std::string kind = e.at("kind").as_string();
        const char mark = kind == "death" ? 'd' : kind == "mitosis" ? 's' : kind == "merge" ? 'm' : 'b';
        for (const Json& j : e.at("splats").as_array())
            l->marks.push_back({.row = head * l->slots + j.as_int(), .check = size_t(at - d.steps.begin() - 1), .kind = mark});
    }
    return d;
}

viz::Canvas draw_splat_health_counts(const SplatLivesData& d, int width, int height) {
    std::vector<viz::Series> series;
    const size_t checks = d.steps.size();
    for (const viz::SplatLayerLives& l : d.layers) {
        viz::Series live{"layer " + std::to_string(l.layer) + " live", {}, {}}, dead{"layer " + std::to_string(l.layer) + " dead", {}, {}};
        for (size_t k = 0; k < checks; ++k) {
            double n_live = 0, n_dead = 0;
            for (int64_t h = 0; h < l.heads; ++h) {
                double head_live = 0;
                for (int64_t j = 0; j < l.slots; ++j) head_live += !std::isnan(l.share[size_t(h * l.slots + j) * checks + k]);
                for (int64_t j = 0; j < l.slots; ++j) {
                    const float s = l.share[size_t(h * l.slots + j) * checks + k];
                    n_dead += !std::isnan(s) && s < kDeadShare / head_live;
                }
                n_live += head_live;
            }
            live.x.push_back(double(d.steps[k])), live.y.push_back(n_live);
            dead.x.push_back(double(d.steps[k])), dead.y.push_back(n_dead);
        }
        series.push_back(std::move(live));
        series.push_back(std::move(dead));
    }
    viz::LinePlotOptions o;
    o.title = "splats live and dead per layer";
    o.x_label = "step";
    o.y_label = "splats (all heads)";
    o.width = width, o.height = height;
    return viz::plot_lines(series, o).image;
}

std::string write_splat_lives(const std::string& run_dir) {
    const std::string health = run_dir + "/splat_health.jsonl", events = run_dir + "/splat_events.jsonl";
    if (!std::filesystem::exists(health)) return "";
    const SplatLivesData d =
        read_splat_lives(read_file(health), std::filesystem::exists(events) ? read_file(events) : std::string());
    if (d.steps.empty()) return "";
    const std::string png = run_dir + "/splat_lives.png";
    viz::draw_splat_lives(d.steps, d.layers).save_png(png);
    return png;
}

}  // namespace splatlm
