// elementwise.cu — one thread per output element (grid-stride loop), each finding its operands
// through the BroadcastIndex and computing apply_unary / apply_binary: the same index and math code
// as the host tests (tensor/elementwise_at.h) and the same math as the CPU loops.
#include "cuda/check.h"
#include "cuda/launch.h"
#include "cuda/elementwise.h"
#include "tensor/elementwise_at.h"
#include "tensor/elementwise_dispatch.h"

namespace splatlm::cuda {

namespace {


template <Unary op>
__global__ void unary_kernel(BroadcastIndex<2> index, float* out, const float* x) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < index.numel; i += int64_t(gridDim.x) * blockDim.x)
        unary_at<op>(index, i, out, x);
}

template <Binary op>
__global__ void binary_kernel(BroadcastIndex<3> index, float* out, const float* a, const float* b) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < index.numel; i += int64_t(gridDim.x) * blockDim.x)
        binary_at<op>(index, i, out, a, b);
}

}  // namespace

void unary(Unary op, const BroadcastIndex<2>& index, float* out, const float* x) {
    if (index.numel == 0) return;  // a launch of zero blocks is an error
    dispatch_unary(op, [&](auto k) {
        unary_kernel<decltype(k)::value><<<grid_stride_blocks(index.numel), kThreads>>>(index, out, x);
        CUDA_CHECK(cudaGetLastError());
    });
}

void binary(Binary op, const BroadcastIndex<3>& index, float* out, const float* a, const float* b) {
    if (index.numel == 0) return;
    dispatch_binary(op, [&](auto k) {
        binary_kernel<decltype(k)::value><<<grid_stride_blocks(index.numel), kThreads>>>(index, out, a, b);
        CUDA_CHECK(cudaGetLastError());
    });
}

}  // namespace splatlm::cuda
