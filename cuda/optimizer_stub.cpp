// optimizer_stub.cpp — the optimiser kernels in a build without CUDA: each says so.
#include "cuda/not_built.h"
#include "cuda/optimizer.h"

namespace splatlm::cuda {

void adamw_step(float*, const float*, float*, float*, const float*, int64_t, const AdamWConstants&, float) { not_built(); }
void squared_norm_partials(const float*, int64_t, double*) { not_built(); }

}  // namespace splatlm::cuda
