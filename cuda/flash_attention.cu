// flash_attention.cu — the flash-attention kernels: one thread block per query tile (forward, dq) or
// key tile (dk, dv), each running its block body from flash_tiles.h over shared memory.
#include <algorithm>

#include "cuda/check.h"
#include "cuda/flash_attention.h"
#include "cuda/shared_launch.cuh"

namespace splatlm::cuda {

namespace {

constexpr int kThreads = 128;

__global__ void delta_kernel(FlashBackward args, int64_t rows) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < rows; i += int64_t(gridDim.x) * blockDim.x)
        flash_delta_row(args, i);
}

// One block per tile of every head (D = 128 backward needs 50.5 KiB of shared memory).

}  // namespace

void flash_attention_forward(const FlashForward& a) {
    const FlashProblem& p = a.p;
    if (p.B * p.H * p.T == 0) return;  // a launch of zero blocks is an error
    launch_block_body<FlashForward, flash_forward_block>(a, p.B * p.H * tiles(p.T, kRows), kThreads,
                                                         flash_forward_floats(p.D));
}

void flash_attention_backward(const FlashBackward& a) {
    const FlashProblem& p = a.p;
    const int64_t rows = p.B * p.H * p.T;
    if (rows == 0) return;
    delta_kernel<<<unsigned(std::min<int64_t>((rows + kThreads - 1) / kThreads, 1 << 16)), kThreads>>>(a, rows);
    CUDA_CHECK(cudaGetLastError());
    launch_block_body<FlashBackward, flash_dq_block>(a, p.B * p.H * tiles(p.T, kRows), kThreads,
                                                     flash_backward_floats(p.D));
    launch_block_body<FlashBackward, flash_dkdv_block>(a, p.B * p.H * tiles(p.T, kCols), kThreads,
                                                       flash_backward_floats(p.D));
}

}  // namespace splatlm::cuda
