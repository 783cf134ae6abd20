// flash_attention.cu — the flash-attention kernels: one thread block per query tile (forward, dq) or
// key tile (dk, dv), each running its block body from flash_tiles.h over shared memory.
#include <algorithm>

#include "cuda/check.h"
#include "cuda/flash_attention.h"
#include "cuda/shared_launch.cuh"

namespace splatlm::cuda {

namespace {

constexpr int kThreads = 128;

__global__ void forward_kernel(FlashForward args) {
    extern __shared__ float shared[];
    flash_forward_block(args, blockIdx.x, shared, Team{int(threadIdx.x), int(blockDim.x)});
}

__global__ void delta_kernel(FlashBackward args, int64_t rows) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < rows; i += int64_t(gridDim.x) * blockDim.x)
        flash_delta_row(args, i);
}

__global__ void dq_kernel(FlashBackward args) {
    extern __shared__ float shared[];
    flash_dq_block(args, blockIdx.x, shared, Team{int(threadIdx.x), int(blockDim.x)});
}

__global__ void dkdv_kernel(FlashBackward args) {
    extern __shared__ float shared[];
    flash_dkdv_block(args, blockIdx.x, shared, Team{int(threadIdx.x), int(blockDim.x)});
}

// One block per tile of every head (D = 128 backward needs 50.5 KiB of shared memory).
template <class Args>
void launch_tiles(void (*kernel)(Args), const Args& args, int64_t blocks, size_t floats) {
    launch_with_shared(kernel, args, blocks, kThreads, floats);
}

}  // namespace

void flash_attention_forward(const FlashForward& a) {
    const FlashProblem& p = a.p;
    if (p.B * p.H * p.T == 0) return;  // a launch of zero blocks is an error
    launch_tiles(forward_kernel, a, p.B * p.H * tiles(p.T, kRows), flash_forward_floats(p.D));
}

void flash_attention_backward(const FlashBackward& a) {
    const FlashProblem& p = a.p;
    const int64_t rows = p.B * p.H * p.T;
    if (rows == 0) return;
    delta_kernel<<<unsigned(std::min<int64_t>((rows + kThreads - 1) / kThreads, 1 << 16)), kThreads>>>(a, rows);
    CUDA_CHECK(cudaGetLastError());
    launch_tiles(dq_kernel, a, p.B * p.H * tiles(p.T, kRows), flash_backward_floats(p.D));
    launch_tiles(dkdv_kernel, a, p.B * p.H * tiles(p.T, kCols), flash_backward_floats(p.D));
}

}  // namespace splatlm::cuda
