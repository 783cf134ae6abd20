// task_plot.h — the picture of docs/TASKS.md: held-out accuracy against the number of pairs, one line
// per attention kind, from the `splatlm task --json` lines that tools/bench_tasks.sh collects.
//   splatlm task plot runs/bench-tasks/results.jsonl --out docs/img/mqar_accuracy.png
// Test: ./bin/tests "[tasks]".
#pragma once
#include <string>
#include <vector>

#include "viz/plot_line.h"

namespace splatlm {

// One series per attention kind (in order of first appearance): x = pairs, y = accuracy, sorted by
// pairs. Lines of other tasks than mqar are skipped; a line that is not a task report throws.
std::vector<viz::Series> mqar_accuracy_series(const std::string& results_jsonl);

// Draws the series to `png` with reference lines at 1 and at chance, 1/values of the first mqar line
// (throws when there is nothing to draw).
void draw_mqar_accuracy(const std::string& results_jsonl, const std::string& png);

}  // namespace splatlm
