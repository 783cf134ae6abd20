#include "train/curves.h"

#include <algorithm>
#include <sstream>

#include "tensor/file_io.h"
#include "train/json.h"
#include "viz/plot_line.h"

namespace splatlm {

std::string draw_loss_curves(const std::string& dir) {
    viz::Series train{"train loss", {}, {}}, val{"validation loss", {}, {}};
    std::istringstream in(read_file(dir + "/metrics.jsonl"));
    for (std::string line; std::getline(in, line);) {
        if (line.empty()) continue;
        const Json record = Json::parse(line);
        const double step = double(record.at("step").as_int());
        if (const Json* loss = record.find("loss")) train.x.push_back(step), train.y.push_back(loss->as_double());
        if (const Json* v = record.find("val_loss")) val.x.push_back(step), val.y.push_back(v->as_double());
    }
    // Moving average over a window of ~1% of the run: the trend without the batch-to-batch noise.
    viz::Series smooth{"train loss (moving average)", {}, {}};
    const size_t window = std::max<size_t>(1, train.y.size() / 100);
    double acc = 0;
    for (size_t i = 0; i < train.y.size(); ++i) {
        acc += train.y[i] - (i >= window ? train.y[i - window] : 0.0);
        if (i + 1 >= window) smooth.x.push_back(train.x[i]), smooth.y.push_back(acc / window);
    }
    std::vector<viz::Series> series = {train, smooth};
    if (!val.x.empty()) series.push_back(val);
    viz::LinePlotOptions options;
    options.title = "Training curves: " + dir;
    options.x_label = "step";
    options.y_label = "cross-entropy (nats/token)";
    options.width = 800;
    options.height = 480;
    const std::string path = dir + "/loss.png";
    viz::plot_lines(series, options).image.save_png(path);
    return path;
}

}  // namespace splatlm
