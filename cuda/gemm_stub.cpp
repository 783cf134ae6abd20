// gemm_stub.cpp — CPU-only stand-in for gemm.cu (compiled only without nvcc or with CUDA=0).
#include "cuda/gemm.h"
#include "cuda/not_built.h"

namespace splatlm::cuda {

void gemm(const GemmPlan&, const float*, const float*, float*) { not_built(); }

}  // namespace splatlm::cuda
