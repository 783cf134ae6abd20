// reduce.cu — sum and max along one axis of a contiguous tensor viewed as [outer, n, inner].
// When the reduced axis is the last one (inner = 1; also sum_all) its elements are adjacent, so a
// whole block takes one output: thread t reads k = t, t + 256, ... (coalesced) and block_reduce folds
// the 256 partials in a fixed tree. Otherwise neighbouring outputs are neighbouring in memory
// (coalesced across threads): with many outputs or a short axis one thread takes one output and
// walks k = 0..n-1; with few outputs and a long axis the axis is cut into chunks (reduce_chunk),
// one thread per (chunk, output), and a second kernel merges each output's chunks in order. Every
// way the order of the additions depends only on the layout: two runs give the same bits. Sums
// accumulate in double (as the CPU does), which costs little next to the memory traffic.
#include "cuda/block_reduce.cuh"
#include "cuda/check.h"
#include "cuda/device_buffer.h"
#include "cuda/reduce.h"

namespace splatlm::cuda {

namespace {

// From this many outputs on, one thread per output already fills the GPU (~132 SMs × 2048 threads).
constexpr int64_t kManyOutputs = int64_t(1) << 18;

template <class R>
__global__ void reduce_per_thread(ReduceLayout L, float* out, const float* x) {
    for (int64_t j = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; j < L.outputs(); j += int64_t(gridDim.x) * blockDim.x)
        out[j] = R::finish(reduce_range<R>(L, x, j, 0, L.n, 1));
}

template <class R>
__global__ void reduce_chunks_kernel(ReduceLayout L, typename R::Acc* partial, const float* x) {
    const int64_t outputs = L.outputs(), total = reduce_chunks(L) * outputs;
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x)
        partial[i] = reduce_chunk<R>(L, x, i % outputs, i / outputs);  // partial[chunk][j]
}

template <class R>
__global__ void merge_chunks_kernel(ReduceLayout L, float* out, const typename R::Acc* partial) {
    const int64_t outputs = L.outputs(), chunks = reduce_chunks(L);
    for (int64_t j = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; j < outputs; j += int64_t(gridDim.x) * blockDim.x) {
        typename R::Acc acc = partial[j];
        for (int64_t c = 1; c < chunks; ++c) acc = R::merge(acc, partial[c * outputs + j]);
        out[j] = R::finish(acc);
    }
}

template <class R>
__global__ void reduce_per_block(ReduceLayout L, float* out, const float* x) {
    for (int64_t j = blockIdx.x; j < L.outputs(); j += gridDim.x) {  // the same j for the whole block
        const typename R::Acc acc = block_reduce<R>(reduce_range<R>(L, x, j, threadIdx.x, L.n, blockDim.x));
        if (threadIdx.x == 0) out[j] = R::finish(acc);
    }
}

template <class R>
void reduce(const ReduceLayout& L, float* out, const float* x) {
    if (L.outputs() == 0) return;  // a launch of zero blocks is an error
    if (L.inner == 1) {
        reduce_per_block<R><<<static_cast<int>(std::min<int64_t>(L.outputs(), 1 << 16)), kThreads>>>(L, out, x);
        CUDA_CHECK(cudaGetLastError());
    } else if (L.outputs() >= kManyOutputs || reduce_chunks(L) <= 1) {  // 0 chunks: an empty axis
        reduce_per_thread<R><<<grid_stride_blocks(L.outputs()), kThreads>>>(L, out, x);
        CUDA_CHECK(cudaGetLastError());
    } else {
        DeviceBuffer<typename R::Acc> partial(reduce_chunks(L) * L.outputs());
        reduce_chunks_kernel<R><<<grid_stride_blocks(reduce_chunks(L) * L.outputs()), kThreads>>>(L, partial.data(), x);
        CUDA_CHECK(cudaGetLastError());
        merge_chunks_kernel<R><<<grid_stride_blocks(L.outputs()), kThreads>>>(L, out, partial.data());
        CUDA_CHECK(cudaGetLastError());
    }
}

}  // namespace

void sum(const ReduceLayout& L, float* out, const float* x) { reduce<SumReducer>(L, out, x); }
void max(const ReduceLayout& L, float* out, const float* x) { reduce<MaxReducer>(L, out, x); }

}  // namespace splatlm::cuda
