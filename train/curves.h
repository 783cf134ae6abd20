// curves.h — training curves from a run's metrics.jsonl, drawn to loss.png: the training loss
// (raw, and a moving average over ~1% of the steps) and the validation loss against the step.
#pragma once
#include <string>

namespace splatlm {

// Reads dir/metrics.jsonl and writes dir/loss.png; returns the picture's path.
std::string draw_loss_curves(const std::string& dir);

}  // namespace splatlm
