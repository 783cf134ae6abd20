// shared_launch.cuh — (.cu files only) launches a kernel with `floats` of dynamic shared memory per
// block. Past the 48 KiB a kernel gets by default it must opt in (cudaFuncSetAttribute), which is
// what the flash-attention backward and the linear-attention scan need at D = 128.
#pragma once
#include <cstddef>
#include <cstdint>

#include "cuda/check.h"

namespace splatlm::cuda {

template <class Args>
void launch_with_shared(void (*kernel)(Args), const Args& args, int64_t blocks, int threads, size_t floats) {
    SPLATLM_CHECK(blocks > 0 && blocks <= 0x7fffffff, "CUDA launch: ", blocks, " blocks is outside 1 .. 2^31-1");
    const size_t bytes = floats * sizeof(float);
    CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(bytes)));
    kernel<<<unsigned(blocks), threads, bytes>>>(args);
    CUDA_CHECK(cudaGetLastError());
}

}  // namespace splatlm::cuda
