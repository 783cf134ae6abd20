// shared_launch.cuh — (.cu files only) the one kernel shape of the attention kernels: a thread block
// running a SPLATLM_HD block body (flash_tiles.h, linear_scan_steps.h, kv_step.h) over `floats` of
// dynamic shared memory. Past the 48 KiB a kernel gets by default it must opt in
// (cudaFuncSetAttribute), which the flash-attention backward and the linear-attention scan need at
// D = 128.
#pragma once
#include <cstddef>
#include <cstdint>

#include "cuda/check.h"
#include "cuda/head_view.h"

namespace splatlm::cuda {

// Block b runs Body(args, b, shared, its team of threads): the same call the host tests make for
// every b with a one-thread team.
template <class Args, void (*Body)(const Args&, int64_t, float*, Team)>
__global__ void block_body_kernel(Args args) {
    extern __shared__ float shared[];
    Body(args, blockIdx.x, shared, Team{int(threadIdx.x), int(blockDim.x)});
}

template <class Args, void (*Body)(const Args&, int64_t, float*, Team)>
void launch_block_body(const Args& args, int64_t blocks, int threads, size_t floats) {
    SPLATLM_CHECK(blocks > 0 && blocks <= 0x7fffffff, "CUDA launch: ", blocks, " blocks is outside 1 .. 2^31-1");
    const size_t bytes = floats * sizeof(float);
    auto* kernel = block_body_kernel<Args, Body>;
    CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(bytes)));
    kernel<<<unsigned(blocks), threads, bytes>>>(args);
    CUDA_CHECK(cudaGetLastError());
}

}  // namespace splatlm::cuda
