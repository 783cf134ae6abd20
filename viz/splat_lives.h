// splat_lives.h — the "lives" picture of a run's splats: one row per splat slot, one column per
// health check; a cell's colour is the splat's read share (log scale, viridis), light grey while
// the slot is empty; its events are marked on the cell where they happened (birth/rescue green,
// death red, mitosis blue, merge orange). One block of rows per layer, heads separated by a line.
// Drawn from plain numbers: train/splat_lives.h reads them from a run's splat_health.jsonl and
// splat_events.jsonl. Test: ./bin/tests "[splat_lives]".
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "viz/canvas.h"

namespace splatlm::viz {

struct SplatLifeMark {
    int64_t row = 0;   // slot row within its layer: head · slots + splat
    size_t check = 0;  // column: the health check at or just before the event's step
    char kind = 'b';   // b birth or rescue, d death, s mitosis (split), m merge
};

struct SplatLayerLives {
    int64_t layer = 0, heads = 0, slots = 0;  // rows = heads · slots
    std::vector<float> share;                 // rows × checks, row-major; NaN while the slot is empty
    std::vector<SplatLifeMark> marks;
};

// steps: the step of each health check (the columns). Throws on sizes that do not match.
Canvas draw_splat_lives(const std::vector<int64_t>& steps, const std::vector<SplatLayerLives>& layers);

}  // namespace splatlm::viz
