// optimizer.cu — AdamW and gradient-norm kernels over the flat parameter buffers. The per-element
// update is adamw_update (tensor/optimizer_math.h), the CPU's code.

#include "cuda/block_reduce.cuh"
#include "cuda/check.h"
#include "cuda/launch.h"
#include "cuda/optimizer.h"
#include "cuda/runtime.h"
#include "tensor/reduce_math.h"

namespace splatlm::cuda {

namespace {

// One thread per element (grid-stride loop).
__global__ void adamw_kernel(float* p, const float* g, float* m, float* v, const float* decay_mask, int64_t n,
                             AdamWConstants k, float decay_shrink) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
        adamw_update(p[i], m[i], v[i], g[i], decay_mask[i] != 0.f ? decay_shrink : 1.f, k);
}

// One block per kNormBlock elements: each thread sums a strided share in double, then the block's
// fixed-order reduction (block_reduce.cuh) — the same bits on every run.
__global__ void squared_norm_kernel(const float* g, int64_t n, double* partial) {
    const int64_t begin = blockIdx.x * kNormBlock, end = min(n, begin + kNormBlock);
    double s = 0;
    for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) s += double(g[i]) * g[i];
    const double total = block_reduce<SumReducer>(s);
    if (threadIdx.x == 0) partial[blockIdx.x] = total;
}

}  // namespace

void adamw_step(float* p, const float* g, float* m, float* v, const float* decay_mask, int64_t n,
                const AdamWConstants& k, float decay_shrink) {
    if (n == 0) return;
    adamw_kernel<<<grid_stride_blocks(n), kThreads>>>(p, g, m, v, decay_mask, n, k, decay_shrink);
    CUDA_CHECK(cudaGetLastError());
}

void squared_norm_partials(const float* g, int64_t n, double* partial) {
    const int64_t blocks = (n + kNormBlock - 1) / kNormBlock;
    if (blocks == 0) return;
    const size_t bytes = blocks * sizeof(double);
    void* device_partial = device_malloc(bytes);
    try {
        squared_norm_kernel<<<static_cast<unsigned>(blocks), kThreads>>>(g, n, static_cast<double*>(device_partial));
        CUDA_CHECK(cudaGetLastError());
        copy_to_host(partial, device_partial, bytes);
    } catch (...) {
        device_free(device_partial);
        throw;
    }
    device_free(device_partial);
}

}  // namespace splatlm::cuda
