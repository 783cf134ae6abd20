// task_plot.cpp — accuracy against pairs (train/task_plot.h). Test: ./bin/tests "[tasks]".
#include "train/task_plot.h"

#include <algorithm>
#include <numeric>
#include <sstream>

#include "nn/config.h"
#include "tensor/error.h"
#include "train/json.h"
#include "train/tasks.h"

namespace splatlm {

namespace {
// A line's name: the attention kind (or the per-layer kinds) and the model options the report
// names that those kinds read, so runs that differ only in those are separate lines. Older
// reports lack the options.
std::string series_name(const Json& report) {
    std::string name = report.at("attention").as_string();
    if (const Json* kinds = report.find("layer_kinds"); kinds && !kinds->as_string().empty()) name = kinds->as_string();
    bool token_decay_applies = false, delta_splats = false;  // the options only some kinds read
    for (const std::string& kind : split_commas(name)) {
        token_decay_applies |= is_splat_kind(kind);
        delta_splats |= kind == "splat_delta";
    }
    const Json *splats = report.find("splats"), *rank = report.find("splat_delta_rank");
    if (delta_splats && splats && rank) name += " " + std::to_string(splats->as_int()) + "x" + std::to_string(rank->as_int());
    if (const Json* decay = report.find("splat_token_decay"); token_decay_applies && decay && decay->as_bool())
        name += " + token decay";
    if (const Json* conv = report.find("short_conv"); conv && conv->as_int() > 0)
        name += " + conv " + std::to_string(conv->as_int());
    if (const Json* positions = report.find("positions"); positions && positions->as_string() == "none")
        name += ", no positions";
    return name;
}
}  // namespace

std::vector<viz::Series> mqar_accuracy_series(const std::string& results_jsonl) {
    std::vector<viz::Series> series;
    std::istringstream in(results_jsonl);
    for (std::string line; std::getline(in, line);) {
        if (line.empty()) continue;
        const Json report = Json::parse(line);
        const Json *task = report.find("task"), *attention = report.find("attention"), *accuracy = report.find("accuracy");
        SPLATLM_CHECK(task && attention && accuracy, "task plot: not a `splatlm task --json` line: ", line);
        const TaskSpec spec = parse_task_spec(task->as_string());
        if (spec.kind != "mqar") continue;
        const std::string name = series_name(report);
        auto s = std::find_if(series.begin(), series.end(), [&](const viz::Series& x) { return x.name == name; });
        if (s == series.end()) s = series.insert(series.end(), viz::Series{name, {}, {}});
        s->x.push_back(double(spec.pairs));
        s->y.push_back(accuracy->as_double());
    }
    for (viz::Series& s : series) {  // sort each line by pairs
        std::vector<size_t> order(s.x.size());
        std::iota(order.begin(), order.end(), 0);
        std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return s.x[a] < s.x[b]; });
        viz::Series sorted{s.name, {}, {}};
        for (size_t i : order) sorted.x.push_back(s.x[i]), sorted.y.push_back(s.y[i]);
        s = sorted;
    }
    return series;
}

void draw_mqar_accuracy(const std::string& results_jsonl, const std::string& png) {
    std::vector<viz::Series> series = mqar_accuracy_series(results_jsonl);
    SPLATLM_CHECK(!series.empty(), "task plot: no mqar results to draw");
    // Reference lines, which also pin the y axis to [0, 1]: every answer right, and chance (1/values).
    int64_t values = 0;
    std::istringstream in(results_jsonl);
    for (std::string line; values == 0 && std::getline(in, line);) {
        if (line.empty()) continue;
        if (const TaskSpec spec = parse_task_spec(Json::parse(line).find("task")->as_string()); spec.kind == "mqar")
            values = spec.values;
    }
    double lo = series[0].x.front(), hi = lo;
    for (const viz::Series& s : series) lo = std::min(lo, s.x.front()), hi = std::max(hi, s.x.back());
    series.push_back({"every answer", {lo, hi}, {1.0, 1.0}});
    series.push_back({"chance (1/values)", {lo, hi}, {1.0 / double(values), 1.0 / double(values)}});
    viz::LinePlotOptions o;
    o.title = "MQAR: held-out accuracy against key-value pairs";
    o.x_label = "key-value pairs";
    o.y_label = "accuracy on the answers";
    viz::plot_lines(series, o).image.save_png(png);
}

}  // namespace splatlm
