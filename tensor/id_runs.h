// id_runs.h — ids grouped into runs of equal values, for a deterministic scatter-add on the GPU
// (embedding backward): rows sorted stably by id, and where each id's run starts. Host code; the ids
// live on the host anyway.
#pragma once
#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

namespace splatlm {

struct IdRuns {
    std::vector<int32_t> rows;   // row indices, sorted by id; equal ids keep ascending rows
    std::vector<int32_t> id;     // the id of each run
    std::vector<int64_t> start;  // run k is rows[start[k] .. start[k + 1]); id.size() + 1 entries
};

inline IdRuns id_runs(const std::vector<int32_t>& ids) {
    IdRuns runs;
    runs.rows.resize(ids.size());
    std::iota(runs.rows.begin(), runs.rows.end(), 0);
    std::stable_sort(runs.rows.begin(), runs.rows.end(), [&](int32_t a, int32_t b) { return ids[a] < ids[b]; });
    for (size_t k = 0; k < runs.rows.size(); ++k)
        if (k == 0 || ids[runs.rows[k]] != ids[runs.rows[k - 1]]) {
            runs.id.push_back(ids[runs.rows[k]]);
            runs.start.push_back(static_cast<int64_t>(k));
        }
    runs.start.push_back(static_cast<int64_t>(runs.rows.size()));
    return runs;
}

}  // namespace splatlm
