// reduce.cu — sum and max along one axis of a contiguous tensor viewed as [outer, n, inner].
// When the reduced axis is the last one (inner = 1; also sum_all) its elements are adjacent, so a
// whole block takes one output: thread t reads k = t, t + 256, ... (coalesced) and block_reduce folds
// the 256 partials in a fixed tree. Otherwise neighbouring outputs are neighbouring in memory, so one
// thread takes one output and walks k = 0..n-1 (coalesced across threads). Either way the order of
// the additions depends only on the layout: two runs give the same bits. Sums accumulate in double
// (as the CPU does), which costs little next to the memory traffic of a reduction.
#include "cuda/block_reduce.cuh"
#include "cuda/check.h"
#include "cuda/reduce.h"

namespace splatlm::cuda {

namespace {

template <class R>
__global__ void reduce_per_thread(ReduceLayout L, float* out, const float* x) {
    for (int64_t j = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; j < L.outputs(); j += int64_t(gridDim.x) * blockDim.x)
        out[j] = R::finish(reduce_range<R>(L, x, j, 0, 1));
}

template <class R>
__global__ void reduce_per_block(ReduceLayout L, float* out, const float* x) {
    for (int64_t j = blockIdx.x; j < L.outputs(); j += gridDim.x) {  // the same j for the whole block
        const typename R::Acc acc = block_reduce<R>(reduce_range<R>(L, x, j, threadIdx.x, blockDim.x));
        if (threadIdx.x == 0) out[j] = R::finish(acc);
    }
}

template <class R>
void reduce(const ReduceLayout& L, float* out, const float* x) {
    if (L.outputs() == 0) return;  // a launch of zero blocks is an error
    if (L.inner == 1)
        reduce_per_block<R><<<static_cast<int>(std::min<int64_t>(L.outputs(), 1 << 16)), kThreads>>>(L, out, x);
    else
        reduce_per_thread<R><<<grid_stride_blocks(L.outputs()), kThreads>>>(L, out, x);
    CUDA_CHECK(cudaGetLastError());
}

}  // namespace

void sum(const ReduceLayout& L, float* out, const float* x) { reduce<SumReducer>(L, out, x); }
void max(const ReduceLayout& L, float* out, const float* x) { reduce<MaxReducer>(L, out, x); }

}  // namespace splatlm::cuda
