// map_stub.cpp — CPU-only stand-in for map.cu (compiled only without nvcc or with CUDA=0).
#include "cuda/map.h"
#include "cuda/not_built.h"

namespace splatlm::cuda {

void copy(const BroadcastIndex<2>&, float*, const float*) { not_built(); }
void affine(const BroadcastIndex<2>&, float*, const float*, float, float) { not_built(); }
void pow_scalar(const BroadcastIndex<2>&, float*, const float*, float) { not_built(); }
void add_into(const BroadcastIndex<2>&, float*, const float*) { not_built(); }
void fill(float*, int64_t, float) { not_built(); }

}  // namespace splatlm::cuda
