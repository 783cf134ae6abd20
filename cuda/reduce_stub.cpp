// reduce_stub.cpp — CPU-only stand-in for reduce.cu (compiled only without nvcc or with CUDA=0).
#include "cuda/not_built.h"
#include "cuda/reduce.h"

namespace splatlm::cuda {

void sum(const ReduceLayout&, float*, const float*) { not_built(); }
void max(const ReduceLayout&, float*, const float*) { not_built(); }

}  // namespace splatlm::cuda
