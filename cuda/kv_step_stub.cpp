// kv_step_stub.cpp — CPU-only stand-in for kv_step.cu (compiled only without nvcc or with CUDA=0).
#include "cuda/kv_step.h"
#include "cuda/not_built.h"

namespace splatlm::cuda {

void kv_step(const KVStep&, int64_t) { not_built(); }

}  // namespace splatlm::cuda
