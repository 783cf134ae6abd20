// kv_step.cu — the KV-cache step kernel: one thread block per (batch, head) running kv_step_block.
#include "cuda/kv_step.h"
#include "cuda/shared_launch.cuh"

namespace splatlm::cuda {

namespace {

constexpr int kThreads = 128;

}  // namespace

void kv_step(const KVStep& a, int64_t batch_heads) {
    launch_block_body<KVStep, kv_step_block>(a, batch_heads, kThreads, kv_step_floats(a.t - a.first + 1));  // up to 64 KiB
}

}  // namespace splatlm::cuda
