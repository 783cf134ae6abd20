// reduce_math.h — what a sum or max along one axis computes, written once for the CUDA kernels
// (cuda/reduce.cu) and their host tests. The input is contiguous and viewed as [outer, n, inner]
// (n = the reduced axis); output j ∈ [0, outer·inner) reduces the n elements
//     x[(r·n + k)·inner + i],  r = j / inner, i = j % inner, k = 0..n-1.
// Sums accumulate in double, like the CPU (reduce.cpp); max keeps the CPU's comparison, which skips NaN.
#pragma once
#include <cmath>
#include <cstdint>

#include "tensor/hd.h"

namespace splatlm {

struct ReduceLayout {
    int64_t outer, n, inner;

    SPLATLM_HD int64_t outputs() const { return outer * inner; }
    // Offset of element k of output j's reduced axis.
    SPLATLM_HD int64_t offset(int64_t j, int64_t k) const { return ((j / inner) * n + k) * inner + j % inner; }
};

struct SumReducer {
    using Acc = double;
    SPLATLM_HD static Acc init() { return 0.0; }
    SPLATLM_HD static Acc step(Acc acc, float v) { return acc + v; }
    SPLATLM_HD static Acc merge(Acc a, Acc b) { return a + b; }
    SPLATLM_HD static float finish(Acc acc) { return static_cast<float>(acc); }
};

struct MaxReducer {
    using Acc = float;
    SPLATLM_HD static Acc init() { return -INFINITY; }
    SPLATLM_HD static Acc step(Acc acc, float v) { return acc < v ? v : acc; }  // std::max(acc, v): NaN skipped
    SPLATLM_HD static Acc merge(Acc a, Acc b) { return step(a, b); }
    SPLATLM_HD static float finish(Acc acc) { return acc; }
};

// Output j's elements k = first, first + step, ... (< n), in that order: one thread's share when
// `step` threads split the axis (first = the thread's index), or the whole axis (0, 1).
template <class R>
SPLATLM_HD typename R::Acc reduce_range(const ReduceLayout& L, const float* x, int64_t j, int64_t first, int64_t step) {
    typename R::Acc acc = R::init();
    for (int64_t k = first; k < L.n; k += step) acc = R::step(acc, x[L.offset(j, k)]);
    return acc;
}

}  // namespace splatlm
