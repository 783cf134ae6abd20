// short_conv.cu — the kernels of short_conv.h: grid-stride loops over the outputs of the sums in
// short_conv_math.h (y and dx: one thread per [b, t, n]; dw: one thread per [n, j], each summing B·T
// products, which is few threads but K·N ≥ a few hundred and the sum is short at training shapes).
#include "cuda/check.h"
#include "cuda/launch.h"
#include "cuda/short_conv.h"

namespace splatlm::cuda {

namespace {

__global__ void forward_kernel(const float* x, const float* w, float* y, ShortConvShape s) {
    const int64_t total = s.B * s.T * s.N;
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
        const int64_t n = i % s.N, t = (i / s.N) % s.T, b = i / (s.N * s.T);
        y[i] = short_conv_output(x, w, s, b, t, n);
    }
}

__global__ void input_grad_kernel(const float* dy, const float* w, float* dx, ShortConvShape s) {
    const int64_t total = s.B * s.T * s.N;
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
        const int64_t n = i % s.N, t = (i / s.N) % s.T, b = i / (s.N * s.T);
        dx[i] = short_conv_input_grad(dy, w, s, b, t, n);
    }
}

__global__ void weight_grad_kernel(const float* dy, const float* x, float* dw, ShortConvShape s) {
    const int64_t total = s.N * s.K;
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x)
        dw[i] = short_conv_weight_grad(dy, x, s, i / s.K, i % s.K);
}

}  // namespace

void short_conv_forward(const float* x, const float* w, float* y, ShortConvShape s) {
    forward_kernel<<<grid_stride_blocks(s.B * s.T * s.N), kThreads>>>(x, w, y, s);
    CUDA_CHECK(cudaGetLastError());
}

void short_conv_backward(const float* x, const float* w, const float* dy, float* dx, float* dw, ShortConvShape s) {
    input_grad_kernel<<<grid_stride_blocks(s.B * s.T * s.N), kThreads>>>(dy, w, dx, s);
    CUDA_CHECK(cudaGetLastError());
    weight_grad_kernel<<<grid_stride_blocks(s.N * s.K), kThreads>>>(dy, x, dw, s);
    CUDA_CHECK(cudaGetLastError());
}

}  // namespace splatlm::cuda
