// block_reduce.cuh — a deterministic reduction across one thread block (device code only; included
// by the .cu files). Each warp folds its 32 values in a fixed shuffle tree, then thread 0 folds the
// warps' results in warp order, so for a given blockDim the result has the same bits on every run.
// blockDim.x must be a multiple of 32 and at most kThreads, and every thread of the block must call it.
#pragma once
#include "cuda/launch.h"

namespace splatlm::cuda {

// v of the lane d above (of this lane itself past the warp's end), moved 32 bits at a time so that
// any plain struct of floats and doubles (a partial result) can travel.
template <class T>
__device__ T shfl_down(T v, int d) {
    static_assert(sizeof(T) % 4 == 0, "shfl_down moves 32-bit words");
    T out;
    const unsigned* from = reinterpret_cast<const unsigned*>(&v);
    unsigned* to = reinterpret_cast<unsigned*>(&out);
    for (int w = 0; w < int(sizeof(T) / 4); ++w) to[w] = __shfl_down_sync(0xffffffffu, from[w], d);
    return out;
}

// Op::merge(T, T) -> T combines two partial results; every thread gets the block's total.
template <class Op, class T>
__device__ T block_reduce(T v) {
    __shared__ T warp_total[kThreads / 32];
    __shared__ T total;
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    for (int d = 16; d > 0; d /= 2) {
        const T other = shfl_down(v, d);
        if (lane + d < 32) v = Op::merge(v, other);
    }
    if (lane == 0) warp_total[warp] = v;
    __syncthreads();
    if (threadIdx.x == 0) {
        T t = warp_total[0];
        for (int w = 1; w < int(blockDim.x / 32); ++w) t = Op::merge(t, warp_total[w]);
        total = t;
    }
    __syncthreads();
    return total;  // the next call writes `total` only after a barrier every thread passes after reading it
}

}  // namespace splatlm::cuda
