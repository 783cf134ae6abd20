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

// Output j's elements k = first, first + step, ... below end, in that order: the whole axis
// (0, n, 1), one thread's share when `step` threads split it (first = the thread's index), or one
// chunk of it (chunk·len, its end, 1).
template <class R>
SPLATLM_HD typename R::Acc reduce_range(const ReduceLayout& L, const float* x, int64_t j, int64_t first, int64_t end,
                                        int64_t step) {
    typename R::Acc acc = R::init();
    for (int64_t k = first; k < end; k += step) acc = R::step(acc, x[L.offset(j, k)]);
    return acc;
}

// A long axis with few outputs (e.g. a bias gradient: [rows, C] summed over rows) is cut into chunks
// of kReduceChunk elements: one thread per (chunk, output) reduces its chunk, then one thread per
// output merges its chunks in order — enough threads to fill a GPU, and still a fixed order.
inline constexpr int64_t kReduceChunk = 256;
SPLATLM_HD inline int64_t reduce_chunks(const ReduceLayout& L) { return (L.n + kReduceChunk - 1) / kReduceChunk; }
template <class R>
SPLATLM_HD typename R::Acc reduce_chunk(const ReduceLayout& L, const float* x, int64_t j, int64_t chunk) {
    const int64_t first = chunk * kReduceChunk, end = first + kReduceChunk < L.n ? first + kReduceChunk : L.n;
    return reduce_range<R>(L, x, j, first, end, 1);
}

}  // namespace splatlm
