// kv_step.cu — the KV-cache step kernel: one thread block per (batch, head) running kv_step_block.
#include "cuda/check.h"
#include "cuda/kv_step.h"

namespace splatlm::cuda {

namespace {

constexpr int kThreads = 128;

__global__ void kv_step_kernel(KVStep args) {
    extern __shared__ float shared[];
    kv_step_block(args, blockIdx.x, shared, Team{int(threadIdx.x), int(blockDim.x)});
}

}  // namespace

void kv_step(const KVStep& a, int64_t batch_heads) {
    const size_t bytes = kv_step_floats(a.t - a.first + 1) * sizeof(float);  // up to 64 KiB: opt in past 48
    CUDA_CHECK(cudaFuncSetAttribute(kv_step_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(bytes)));
    kv_step_kernel<<<unsigned(batch_heads), kThreads, bytes>>>(a);
    CUDA_CHECK(cudaGetLastError());
}

}  // namespace splatlm::cuda
