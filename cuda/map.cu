// map.cu — one thread per destination element (grid-stride loop), each locating its two operands
// through the BroadcastIndex and applying one map functor: the body is tensor/map_at.h, which the
// host tests also run.
#include "cuda/check.h"
#include "cuda/launch.h"
#include "cuda/map.h"
#include "tensor/map_at.h"

namespace splatlm::cuda {

namespace {

template <class F>
__global__ void map_kernel(BroadcastIndex<2> index, float* out, const float* x, F f) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < index.numel; i += int64_t(gridDim.x) * blockDim.x)
        map_at(index, i, out, x, f);
}

__global__ void fill_kernel(float* out, int64_t n, float value) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
        out[i] = value;
}

template <class F>
void launch_map(const BroadcastIndex<2>& index, float* out, const float* x, F f) {
    if (index.numel == 0) return;  // a launch of zero blocks is an error
    map_kernel<<<grid_stride_blocks(index.numel), kThreads>>>(index, out, x, f);
    CUDA_CHECK(cudaGetLastError());
}

}  // namespace

void copy(const BroadcastIndex<2>& index, float* out, const float* x) { launch_map(index, out, x, CopyMap{}); }
void affine(const BroadcastIndex<2>& index, float* out, const float* x, float scale, float shift) {
    launch_map(index, out, x, AffineMap{scale, shift});
}
void pow_scalar(const BroadcastIndex<2>& index, float* out, const float* x, float p) {
    launch_map(index, out, x, PowMap{p});
}
void add_into(const BroadcastIndex<2>& index, float* out, const float* x) { launch_map(index, out, x, AddIntoMap{}); }

void fill(float* out, int64_t n, float value) {
    if (n == 0) return;
    fill_kernel<<<grid_stride_blocks(n), kThreads>>>(out, n, value);
    CUDA_CHECK(cudaGetLastError());
}

}  // namespace splatlm::cuda
