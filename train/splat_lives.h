// splat_lives.h — a run's splat lives as a picture: reads <run>/splat_health.jsonl and
// <run>/splat_events.jsonl (train/splat_adaptation.h writes them) into viz/splat_lives.h's rows
// and writes <run>/splat_lives.png. The trainer draws it at the end of every splat run; the
// dashboard (train/dashboard.h) shows the counts of live and dead splats over time from it.
// Test: ./bin/tests "[splat_lives]".
#pragma once
#include <string>
#include <vector>

#include "viz/canvas.h"
#include "viz/splat_lives.h"

namespace splatlm {

struct SplatLivesData {
    std::vector<int64_t> steps;
    std::vector<viz::SplatLayerLives> layers;
};

// From the two logs' text (events may be empty). Throws one line on a malformed log.
SplatLivesData read_splat_lives(const std::string& health_jsonl, const std::string& events_jsonl);

// The dashboard's health panel: live and dead splats per layer (summed over heads) at each check;
// dead = live and read with under 1% of an even share (splat_stats.h's kDeadShare).
viz::Canvas draw_splat_health_counts(const SplatLivesData& lives, int width, int height);

// Draws <run_dir>/splat_lives.png; returns its path, or "" when the run has no health log.
std::string write_splat_lives(const std::string& run_dir);

}  // namespace splatlm
