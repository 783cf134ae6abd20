// random_stub.cpp — CPU-only stand-in for random.cu (compiled only without nvcc or with CUDA=0).
#include "cuda/not_built.h"
#include "cuda/random.h"

namespace splatlm::cuda {

void fill_uniform(float*, int64_t, uint64_t, uint64_t) { not_built(); }
void fill_normal(float*, int64_t, float, float, uint64_t, uint64_t) { not_built(); }
void fill_dropout_mask(float*, int64_t, float, uint64_t) { not_built(); }

}  // namespace splatlm::cuda
