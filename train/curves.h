// curves.h — training curves from a run's metrics.jsonl (train/metrics_log.h), drawn to loss.png.
//
// Panels (one line plot each, laid out in a grid):
//   loss vs step      training loss (raw, and a moving average over ~1% of the steps), validation loss
//   loss vs tokens    the same against training tokens seen (lines that carry "tokens")
//   learning rate     lr against step
//   splat scale / usage entropy / dead splats   per splat layer against step, from the evaluation
//                     lines' "splat_scale", "splat_entropy", "splat_dead" arrays (splat/splat_stats.h);
//                     only when the log has them
// A value that is NaN, ±Inf or null (JSON has no NaN; the trainer writes null for it) is not
// drawn: each plot notes how many points it skipped, and `skipped` adds them up.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "viz/layout.h"

namespace splatlm {

struct TrainingCurves {
    std::vector<viz::Panel> panels;  // titled line plots, in the order above
    std::size_t skipped = 0;          // non-finite points left out, over all panels
};

// metrics: the text of a metrics.jsonl. Throws splatlm::Error when it holds no training loss.
TrainingCurves training_curves(const std::string& metrics, int panel_width = 560, int panel_height = 360);

// Reads dir/metrics.jsonl and writes every panel into dir/loss.png; returns the picture's path.
// Prints a note on stdout when points were skipped.
std::string draw_loss_curves(const std::string& dir);

}  // namespace splatlm
