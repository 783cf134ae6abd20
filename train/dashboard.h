// dashboard.h — dashboard.png: one picture of a run. Panels, left to right and top to bottom:
//   splat field        of `layer` on the text (viz/splat_pictures.h)       — splat models only
//   affinities         tokens × splats send / receive heatmaps              — splat models only
//   training curves    loss vs step, learning rate and the splat statistics (train/curves.h),
//                      from run_dir/metrics.jsonl (a note instead when there is none)
//   model summary      attention kind and options, shape, parameter count, data, step, last
//                      validation loss
// Written by the trainer at the end of a run and by `splatlm viz`.
#pragma once
#include <string>

#include "nn/gpt.h"
#include "train/tokenizer.h"
#include "train/train_config.h"

namespace splatlm {

struct DashboardInput {
    GPT* model = nullptr;
    const Tokenizer* tokenizer = nullptr;
    const TrainConfig* config = nullptr;
    int64_t step = 0;
    std::string run_dir;    // where metrics.jsonl is read from
    std::string text;       // sample for the splat panels
    int64_t layer = 0;      // splat layer to draw (ignored for models without splats)
};

// Lines of the model summary panel (also printed nowhere else; testable on its own).
std::vector<std::string> model_summary(const DashboardInput& in, double val_loss);

// Writes `path` (a PNG) and returns it. Throws splatlm::Error for an empty text or a bad layer.
std::string write_dashboard(const DashboardInput& in, const std::string& path);

}  // namespace splatlm
